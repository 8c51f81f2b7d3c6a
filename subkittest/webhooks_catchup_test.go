package subkittest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// TestWebhooksCatchUpAfterDowntime: a receiver down longer than Polar's
// retries loses the events made meanwhile, and its endpoint is disabled;
// once it is back and the endpoint enabled, CatchUp has every event of the
// window sent again, and fn gets each event once — also the one whose work
// was done while its answer was lost.
func TestWebhooksCatchUpAfterDowntime(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	ctx := context.Background()
	since := time.Now().Add(-time.Second)

	f.create(t, "") // delivered: 3 events
	f.wait(t)
	hr.loseAnswers.Store(true) // handled, but Polar never hears so
	lost := f.create(t, "")
	f.wait(t)
	hr.loseAnswers.Store(false)
	hr.down.Store(true)
	var missed []string
	for range 4 {
		missed = append(missed, f.create(t, "").ID)
	}
	f.wait(t)
	require.False(t, f.srv.PolarWebhookEndpoints()[0].Enabled, "ten events given up in a row disabled the endpoint")
	failedDeliveries := 0
	for _, d := range f.srv.PolarWebhookDeliveries() {
		if !d.Succeeded {
			failedDeliveries++
		}
	}
	handledBefore := len(hr.events())
	assert.Equal(t, 6, handledBefore, "the first create's events, and the lost answers' work")

	hr.down.Store(false)
	f.srv.SetPolarWebhookEnabled(f.srv.PolarWebhookEndpoints()[0].ID, true)
	dry, err := f.client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{Since: since, DryRun: true})
	require.NoError(t, err)
	assert.Len(t, dry.Redelivered, 15)
	assert.Len(t, f.srv.PolarWebhookDeliveries(), len(f.srv.PolarWebhookDeliveries()), "a dry run sends nothing")

	res, err := f.client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{Since: since})
	require.NoError(t, err)
	f.wait(t)
	assert.Equal(t, failedDeliveries, res.FailedDeliveries)
	assert.Len(t, res.Events, 15, "the lost create's 3 and the missed creates' 12")
	assert.Len(t, res.Redelivered, 15)
	assert.Empty(t, res.Delivered)
	assert.Empty(t, res.Failed)
	for i := 1; i < len(res.Events); i++ {
		assert.False(t, res.Events[i].CreatedAt.Before(res.Events[i-1].CreatedAt), "oldest first")
	}

	evs := hr.events()
	seen := map[string]int{}
	for _, ev := range evs {
		seen[ev.ID]++
	}
	assert.Len(t, evs, 18, "every event of the 6 creates, once")
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
	got := typesBySubscription(t, evs)
	for _, id := range append(missed, lost.ID) {
		assert.ElementsMatch(t, createEvents, got[id], id)
	}
	duplicates := 0
	for _, a := range hr.answered() {
		if a.status == http.StatusOK {
			duplicates++
		}
	}
	duplicates -= len(evs) // the answers that were not fn's first run
	assert.GreaterOrEqual(t, duplicates, 3, "the lost answers' events came back as duplicates")

	again, err := f.client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{Since: since})
	require.NoError(t, err)
	assert.Empty(t, again.Redelivered, "nothing left to catch up")
	assert.Len(t, again.Delivered, 15)
	t.Logf("deliveries %d (failed %d), events caught up %d, duplicates answered 200 without fn %d",
		len(f.srv.PolarWebhookDeliveries()), failedDeliveries, len(res.Redelivered), duplicates)
}

// TestWebhookDeliveriesList reads the fake's deliveries through the
// client, each filter against what the fake recorded.
func TestWebhookDeliveriesList(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	ok := newHookReceiver(t, secret)
	failing := newHookReceiver(t, secret)
	failing.fail = func(ev *webhook.Event) error {
		if ev.Type == webhook.SubscriptionActive {
			return io.ErrUnexpectedEOF // answered 500
		}
		return nil
	}
	f := newPolarFake(t)
	okID := f.srv.AddPolarWebhook(fast(ok.srv.URL, secret))
	w := fast(failing.srv.URL, secret)
	w.Events = []string{webhook.SubscriptionCreated, webhook.SubscriptionActive}
	failingID := f.srv.AddPolarWebhook(w)
	before := time.Now().Add(-time.Second)
	f.create(t, "")
	f.wait(t)
	between := time.Now()
	time.Sleep(10 * time.Millisecond)
	f.create(t, "")
	f.wait(t)
	all := f.srv.PolarWebhookDeliveries()
	require.Len(t, all, 6+2+2*subkittest.WebhookMaxAttempts, "ok: 6; failing: created twice, active 10 times each")

	ctx := context.Background()
	list := func(p *subkit.WebhookDeliveryListParams) []*subkit.WebhookDelivery {
		t.Helper()
		var out []*subkit.WebhookDelivery
		for d, err := range f.client.Webhooks.ListDeliveries(ctx, p) {
			require.NoError(t, err)
			out = append(out, d)
		}
		return out
	}
	count := func(keep func(d subkittest.WebhookDeliveryInfo) bool) int {
		n := 0
		for _, d := range all {
			if keep(d) {
				n++
			}
		}
		return n
	}
	no, yes := false, true

	got := list(nil)
	require.Len(t, got, len(all))
	for i := 1; i < len(got); i++ {
		assert.False(t, got[i].CreatedAt.After(got[i-1].CreatedAt), "newest first")
	}
	assert.Equal(t, all[len(all)-1].ID, got[0].ID)
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{Succeeded: &no}), count(func(d subkittest.WebhookDeliveryInfo) bool { return !d.Succeeded }))
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{Succeeded: &yes}), count(func(d subkittest.WebhookDeliveryInfo) bool { return d.Succeeded }))
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{HTTPCodeClass: "5xx"}), 2*subkittest.WebhookMaxAttempts)
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{EndpointIDs: []string{okID}}), 6)
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{EndpointIDs: []string{failingID}, EventTypes: []string{webhook.SubscriptionCreated}}), 2)
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{EventTypes: []string{webhook.SubscriptionUpdated, webhook.SubscriptionCreated}}), 6)
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{Start: before, End: between}), count(func(d subkittest.WebhookDeliveryInfo) bool { return d.At.Before(between) }))
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{Start: between}), count(func(d subkittest.WebhookDeliveryInfo) bool { return d.At.After(between) }))

	// Paged: 3 a request.
	reqs := len(f.srv.Requests(subkit.Polar))
	assert.Len(t, list(&subkit.WebhookDeliveryListParams{PageSize: 3}), len(all))
	assert.Equal(t, (len(all)+2)/3, len(f.srv.Requests(subkit.Polar))-reqs)

	d := got[len(got)-1] // the oldest: the ok endpoint's first created
	assert.True(t, d.Succeeded)
	require.NotNil(t, d.HTTPCode)
	assert.Equal(t, 200, *d.HTTPCode)
	require.NotNil(t, d.Response)
	assert.Equal(t, "handled\n", *d.Response)
	assert.Equal(t, webhook.SubscriptionCreated, d.Event.Type)
	require.NotNil(t, d.Event.Succeeded)
	assert.True(t, *d.Event.Succeeded)
	require.NotNil(t, d.Event.Payload)
	var payload struct{ Type string }
	require.NoError(t, json.Unmarshal([]byte(*d.Event.Payload), &payload))
	assert.Equal(t, webhook.SubscriptionCreated, payload.Type)

	// Client-side validation: nothing is sent.
	for _, p := range []*subkit.WebhookDeliveryListParams{{EndpointIDs: []string{"nope"}}, {HTTPCodeClass: "6xx"}, {PageSize: -1},
		{Start: between, End: before}, {EventTypes: []string{""}}} {
		for _, err := range f.client.Webhooks.ListDeliveries(ctx, p) {
			assert.ErrorIs(t, err, subkit.ErrInvalidParams)
		}
	}
}

// TestWebhookEndpointsOnTheWire checks the fake's webhook endpoints as a
// raw client sees them: scopes, validation, shapes.
func TestWebhookEndpointsOnTheWire(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	f.create(t, "")
	f.wait(t)
	const readOnly = "polar_oat_subscriptionsonly0123456789ABCDEFGHIJ"
	f.srv.AddCredential(subkit.Polar, readOnly, subkittest.ScopeSubscriptionsRead)
	do := func(method, path, token string) (int, string) {
		req, err := http.NewRequest(method, f.srv.URL()+path, nil)
		require.NoError(t, err)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	status, body := do(http.MethodGet, "/v1/webhooks/deliveries?limit=1", subkittest.PolarToken)
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, strings.HasPrefix(body, `{"items":[{"created_at":"`), body)
	for _, key := range []string{`"modified_at":null,"id":"`, `"succeeded":true,"http_code":200,"response":"handled\n"`,
		`"webhook_event":{"created_at":"`, `"skipped":false,"payload":"{\"type\":\"subscription.updated\"`, `"is_archived":false}}],"pagination":{"total_count":3,"max_page":3}}`} {
		assert.Contains(t, body, key)
	}
	status, _ = do(http.MethodGet, "/v1/webhooks/deliveries", "")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body = do(http.MethodGet, "/v1/webhooks/deliveries", readOnly)
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "insufficient_scope")
	status, body = do(http.MethodGet, "/v1/webhooks/deliveries?endpoint_id=nope&succeeded=maybe&http_code_class=6xx&event_type=x.y&start_timestamp=2026-12-06T10:00:00", subkittest.PolarToken)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	for _, loc := range []string{`["query","endpoint_id",`, `["query","succeeded"]`, `["query","http_code_class"]`, `["query","event_type",`, `"timezone_aware"`} {
		assert.Contains(t, body, loc)
	}
	status, _ = do(http.MethodPost, "/v1/webhooks/deliveries", subkittest.PolarToken)
	assert.Equal(t, http.StatusMethodNotAllowed, status)

	event := f.srv.PolarWebhookEvents()[0].ID
	status, body = do(http.MethodPost, "/v1/webhooks/events/"+event+"/redeliver", subkittest.PolarToken)
	assert.Equal(t, http.StatusAccepted, status)
	assert.Equal(t, "null", body)
	status, _ = do(http.MethodPost, "/v1/webhooks/events/"+event+"/redeliver", readOnly)
	assert.Equal(t, http.StatusForbidden, status)
	status, body = do(http.MethodPost, "/v1/webhooks/events/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f/redeliver", subkittest.PolarToken)
	assert.Equal(t, http.StatusNotFound, status)
	assert.JSONEq(t, `{"error":"ResourceNotFound","detail":"Not found"}`, body)
	status, _ = do(http.MethodPost, "/v1/webhooks/events/nope/redeliver", subkittest.PolarToken)
	assert.Equal(t, http.StatusUnprocessableEntity, status)
	status, _ = do(http.MethodGet, "/v1/webhooks/events/"+event+"/redeliver", subkittest.PolarToken)
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	f.wait(t)

	// The redelivery arrived: the same event again, a duplicate for fn.
	deliveries := f.srv.PolarWebhookDeliveries()
	last := deliveries[len(deliveries)-1]
	assert.Equal(t, event, last.EventID)
	assert.True(t, last.Redelivery)
	assert.Equal(t, "duplicate: already handled\n", last.Response)
	assert.Len(t, hr.events(), 3)

	// Redeliver through the client.
	require.NoError(t, f.client.Webhooks.Redeliver(context.Background(), event))
	err := f.client.Webhooks.Redeliver(context.Background(), "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
	assert.ErrorIs(t, err, subkit.ErrNotFound)
	assert.ErrorIs(t, f.client.Webhooks.Redeliver(context.Background(), "nope"), subkit.ErrInvalidParams)
	f.wait(t)
}
