package subkittest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

var createEvents = []string{webhook.SubscriptionCreated, webhook.SubscriptionActive, webhook.SubscriptionUpdated}

// TestWebhooksForCreates: each create sends created, active and updated,
// in that order, signed so that subkit's own receiver accepts them, each
// carrying the subscription the create answered.
func TestWebhooksForCreates(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	var subs []string
	for range 3 {
		sub := f.create(t, "")
		subs = append(subs, sub.ID)
	}
	f.wait(t)

	byTypes := typesBySubscription(t, hr.events())
	require.Len(t, byTypes, 3)
	for _, id := range subs {
		assert.Equal(t, createEvents, byTypes[id], id)
	}
	for _, ev := range hr.events() {
		got, err := ev.Subscription()
		require.NoError(t, err)
		for _, held := range f.srv.PolarSubscriptions() {
			if held.ID == got.ID {
				assert.JSONEq(t, string(held.Body), string(ev.Data), "the event carries what the create answered")
			}
		}
	}
	deliveries := f.srv.PolarWebhookDeliveries()
	assert.Len(t, deliveries, 9)
	for _, d := range deliveries {
		assert.True(t, d.Succeeded)
		assert.Equal(t, http.StatusOK, d.StatusCode)
		assert.Equal(t, "handled", d.Response[:len("handled")])
	}
	for _, ev := range f.srv.PolarWebhookEvents() {
		require.NotNil(t, ev.Succeeded)
		assert.True(t, *ev.Succeeded)
		assert.Equal(t, 1, ev.Deliveries)
	}
}

func TestWebhooksLegacySecret(t *testing.T) {
	const legacy = "whsec_Kq7ZpR2mXv9LbN4tHc6WsYd1Fg8Ju3Qe5Ao0T1xQ9zA"
	hr := newHookReceiver(t, legacy)
	w := fast(hr.srv.URL, legacy)
	w.LegacySignature = true
	f := newPolarFake(t, subkittest.WithPolarWebhook(w))
	f.create(t, "")
	f.wait(t)
	assert.Len(t, hr.events(), 3)
}

// TestWebhooksRetriedUntilDelivered: a failing receiver gets the event
// again, same ID and body, until it answers 2xx.
func TestWebhooksRetriedUntilDelivered(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	var failures atomic.Int32
	hr.fail = func(ev *webhook.Event) error {
		if ev.Type == webhook.SubscriptionCreated && failures.Add(1) <= 2 {
			return errors.New("not yet")
		}
		return nil
	}
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	f.create(t, "")
	f.wait(t)

	var created []subkittest.WebhookDeliveryInfo
	for _, d := range f.srv.PolarWebhookDeliveries() {
		if d.EventType == webhook.SubscriptionCreated {
			created = append(created, d)
		}
	}
	require.Len(t, created, 3)
	assert.Equal(t, []int{500, 500, 200}, []int{created[0].StatusCode, created[1].StatusCode, created[2].StatusCode})
	assert.Equal(t, created[0].EventID, created[2].EventID, "one event, one webhook-id")
	var bodies []string
	for _, ev := range f.srv.PolarWebhookEvents() {
		if ev.ID == created[0].EventID {
			bodies = append(bodies, string(ev.Body))
		}
	}
	require.Len(t, bodies, 1)
	assert.Len(t, hr.events(), 3, "fn ran once per event once it succeeded")
}

// TestWebhooksDuplicateDelivery: each event of the create arrives three
// times at once; fn runs once per event.
func TestWebhooksDuplicateDelivery(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	f.srv.InjectWebhookFault(subkittest.WebhookDuplicate(3))
	sub := f.create(t, "")
	f.wait(t)

	assert.Equal(t, map[string][]string{sub.ID: createEvents}, typesBySubscription(t, hr.events()))
	copies := 0
	for _, d := range f.srv.PolarWebhookDeliveries() {
		if d.Copy {
			copies++
		}
	}
	assert.Equal(t, 6, copies, "two extra deliveries of each of three events")
	answers := map[int]int{}
	for _, a := range hr.answered() {
		answers[a.status]++
	}
	assert.Equal(t, 9, answers[http.StatusOK]+answers[http.StatusConflict], "%v", answers)
	t.Logf("deliveries %d, answered %v, fn ran %d times", len(f.srv.PolarWebhookDeliveries()), answers, len(hr.events()))
}

// TestWebhooksReordered: the create's events arrive newest first; they
// carry one state, so none is older than another and fn gets all three.
func TestWebhooksReordered(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	f.srv.InjectWebhookFault(subkittest.WebhookReorder())
	sub := f.create(t, "")
	f.wait(t)
	assert.Equal(t, map[string][]string{sub.ID: {webhook.SubscriptionUpdated, webhook.SubscriptionActive, webhook.SubscriptionCreated}},
		typesBySubscription(t, hr.events()))

	// A later state, then an older one: the older is acknowledged, not
	// handed to fn.
	var data map[string]any
	require.NoError(t, json.Unmarshal(f.srv.PolarSubscriptions()[0].Body, &data))
	data["status"], data["modified_at"] = "canceled", time.Now().UTC().Add(time.Hour).Format(time.RFC3339Nano)
	f.srv.SendPolarWebhookEvent(webhook.SubscriptionRevoked, data)
	f.wait(t)
	data["status"], data["modified_at"] = "active", time.Now().UTC().Format(time.RFC3339Nano)
	stale := f.srv.SendPolarWebhookEvent(webhook.SubscriptionUpdated, data)
	f.wait(t)
	evs := hr.events()
	assert.Equal(t, webhook.SubscriptionRevoked, evs[len(evs)-1].Type, "the older state did not reach fn")
	for _, d := range f.srv.PolarWebhookDeliveries() {
		if d.EventID == stale[0] {
			assert.True(t, d.Succeeded, "acknowledged")
			assert.Contains(t, d.Response, "stale")
		}
	}
}

// TestWebhooksSlowReceiver: an answer later than the timeout is a failed
// delivery, retried; the slow attempt's work was done and recorded, so
// the retry is a duplicate.
func TestWebhooksSlowReceiver(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	var slow atomic.Int32
	hr.fail = func(*webhook.Event) error {
		if slow.Add(1) == 1 {
			time.Sleep(1500 * time.Millisecond) // beyond the fake's timeout below
		}
		return nil
	}
	w := fast(hr.srv.URL, secret)
	w.Timeout = 500 * time.Millisecond // Polar's 10 s, shortened
	f := newPolarFake(t, subkittest.WithPolarWebhook(w))
	f.create(t, "")
	f.wait(t)

	deliveries := f.srv.PolarWebhookDeliveries()
	require.NotEmpty(t, deliveries)
	first := deliveries[0]
	assert.False(t, first.Succeeded, "the slow answer came too late")
	assert.Zero(t, first.StatusCode)
	assert.Contains(t, first.Response, "Timeout")
	assert.Len(t, hr.events(), 3, "fn ran once per event")
	for _, ev := range f.srv.PolarWebhookEvents() {
		require.NotNil(t, ev.Succeeded)
		assert.True(t, *ev.Succeeded)
	}
}

// TestWebhooksFailingReceiverDisablesTheEndpoint: ten events given up in
// a row disable the endpoint; no event is made for it after.
func TestWebhooksFailingReceiverDisablesTheEndpoint(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, secret)
	hr.down.Store(true)
	f := newPolarFake(t, subkittest.WithPolarWebhook(fast(hr.srv.URL, secret)))
	for range 4 { // 12 events
		f.create(t, "")
	}
	f.wait(t)

	eps := f.srv.PolarWebhookEndpoints()
	require.Len(t, eps, 1)
	assert.False(t, eps[0].Enabled)
	events := f.srv.PolarWebhookEvents()
	require.Len(t, events, 12)
	givenUp, deliveries := 0, 0
	for _, ev := range events {
		deliveries += ev.Deliveries
		switch {
		case ev.Succeeded != nil:
			assert.False(t, *ev.Succeeded)
			assert.Equal(t, subkittest.WebhookMaxAttempts, ev.Deliveries)
			givenUp++
		default: // still retrying when the endpoint was disabled: skipped
			assert.True(t, ev.Skipped, ev.ID)
			assert.Less(t, ev.Deliveries, subkittest.WebhookMaxAttempts)
		}
	}
	assert.GreaterOrEqual(t, givenUp, subkittest.WebhookFailureThreshold)
	assert.Len(t, f.srv.PolarWebhookDeliveries(), deliveries)
	for _, d := range f.srv.PolarWebhookDeliveries() {
		assert.Zero(t, d.StatusCode, "no answer: the connection closed")
	}
	f.create(t, "")
	f.wait(t)
	assert.Len(t, f.srv.PolarWebhookEvents(), 12, "a disabled endpoint gets no event")
	assert.Empty(t, hr.events())
}

// TestWebhooksRotation: after a rotation every delivery, retries of
// earlier events included, is signed with the new secret alone: a
// receiver holding only the old one refuses it (401), and once it holds
// both, Polar's next retry gets through.
func TestWebhooksRotation(t *testing.T) {
	old := subkittest.NewPolarWebhookSecret()
	hr := newHookReceiver(t, old)
	f := newPolarFake(t)
	w := fast(hr.srv.URL, old)
	w.TimeScale = 0.01 // retries 20–40 ms apart at first: time to rekey between them
	id := f.srv.AddPolarWebhook(w)
	first := f.create(t, "")
	f.wait(t)
	fresh := f.srv.RotatePolarWebhookSecret(id)
	assert.NotEqual(t, old, fresh)
	assert.Equal(t, fresh, f.srv.PolarWebhookEndpoints()[0].Secret)

	second := f.create(t, "")
	require.Eventually(t, func() bool {
		for _, a := range hr.answered() {
			if a.status == http.StatusUnauthorized {
				return true
			}
		}
		return false
	}, 10*time.Second, time.Millisecond, "the old secret alone refuses the new signature")
	hr.rekey(t, fresh, old) // the deployment learns the new secret, keeping the old a while
	f.wait(t)
	got := typesBySubscription(t, hr.events())
	assert.Equal(t, createEvents, got[first.ID])
	// The refused events were retried while the later ones, no longer held
	// back by an event that had had its attempt, went ahead: any order.
	assert.ElementsMatch(t, createEvents, got[second.ID])
	for _, ev := range f.srv.PolarWebhookEvents() {
		require.NotNil(t, ev.Succeeded)
		assert.True(t, *ev.Succeeded)
	}
}
