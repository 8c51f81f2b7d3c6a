package webhook_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// TestWebhookSettlesAPendingCreate closes the loop with exactly-once: a
// keyed create is applied but its answer is lost and every look-up fails,
// so the call ends ErrOutcomeUnknown with the key pending in the store.
// The subscription.created webhook, carrying the key, settles the record
// in the same store; the next call with the key replays the subscription
// without sending anything.
func TestWebhookSettlesAPendingCreate(t *testing.T) {
	store := subkit.NewMemoryStore() // the fleet's: its receivers and its Clients share it
	secret := subkittest.NewPolarWebhookSecret()
	var c calls
	rcv, err := webhook.NewPolarReceiver([]string{secret})
	require.NoError(t, err)
	receiver := httptest.NewServer(rcv.Handler(c.record, webhook.WithDedupe(store)))
	t.Cleanup(receiver.Close)
	srv := subkittest.NewServer(subkittest.WithPolarWebhook(subkittest.PolarWebhook{URL: receiver.URL, Secret: secret,
		TimeScale: 0.01, Timeout: 10 * time.Second}))
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	client, err := srv.Client(subkit.WithIdempotencyStore(store), subkit.WithRetryPolicy(subkit.RetryPolicy{
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 2, SettleTime: 300 * time.Millisecond}))
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	ctx := context.Background()
	params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer, Metadata: subkit.Metadata{"order": "7"}}

	srv.InjectFault(subkit.Polar, 1, subkittest.Delay(time.Millisecond).On(subkittest.OpLookup)) // the key-check before sending: answered
	srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
	srv.InjectFault(subkit.Polar, 1000, subkittest.Respond(503, "").On(subkittest.OpLookup)) // every look-up after it fails
	_, err = client.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-7"))
	require.ErrorIs(t, err, subkit.ErrOutcomeUnknown, "applied, answer lost, look-ups failing")
	held := srv.PolarSubscriptions()
	require.Len(t, held, 1)

	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitPolarWebhooks(wctx))

	sent := len(srv.Requests(subkit.Polar))
	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-7"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, held[0].ID, sub.ID)
	assert.Equal(t, sent, len(srv.Requests(subkit.Polar)), "nothing was sent: the store had the result")
	assert.Len(t, srv.PolarSubscriptions(), 1)
	assert.Len(t, c.ids(), 3, "the create's events reached fn once each")
}
