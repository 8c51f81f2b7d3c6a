package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// TestWebhooksCatchUp: a receiver down past Polar's retries misses a
// create's events; `subkit webhooks catch-up` has them sent again, and a
// second run finds nothing left to do.
func TestWebhooksCatchUp(t *testing.T) {
	secret := subkittest.NewPolarWebhookSecret()
	rcv, err := webhook.NewPolarReceiver([]string{secret})
	require.NoError(t, err)
	var mu sync.Mutex
	var handled []string
	var down atomic.Bool
	h := rcv.Handler(func(_ context.Context, ev *webhook.Event) error {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, ev.Type)
		return nil
	}, webhook.WithDedupe(subkit.NewMemoryStore()))
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(receiver.Close)

	srv := subkittest.NewServer(subkittest.WithPolarWebhook(subkittest.PolarWebhook{URL: receiver.URL, Secret: secret,
		TimeScale: 0.001, Timeout: 10 * time.Second}))
	t.Cleanup(srv.Close)
	srv.AddPolarProduct(subkittest.PolarProduct{ID: product})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	client, err := srv.Client()
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	down.Store(true)
	_, err = client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer})
	require.NoError(t, err)
	wait := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, srv.WaitPolarWebhooks(ctx))
	}
	wait()
	down.Store(false)

	res := runCommand(t, fakeEnv(), "webhooks", "catch-up", "-since", "1h", "-base-url", srv.URL(), "-event-type", "subscription.created", "-dry-run")
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Contains(t, res.stderr, "10 failed deliveries in the window, 1 events: 1 to redeliver (dry run)")

	res = runCommand(t, fakeEnv(), "webhooks", "catch-up", "-since", "1h", "-base-url", srv.URL())
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Contains(t, res.stderr, "30 failed deliveries in the window, 3 events: 3 redelivered, 0 delivered since, 0 archived, 0 failed")
	var outcomes []string
	for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
		var l struct{ ID, Type, Outcome string }
		require.NoError(t, json.Unmarshal([]byte(line), &l), line)
		outcomes = append(outcomes, l.Type+" "+l.Outcome)
	}
	assert.ElementsMatch(t, []string{"subscription.created redelivered", "subscription.active redelivered", "subscription.updated redelivered"}, outcomes)
	wait()
	mu.Lock()
	assert.ElementsMatch(t, []string{webhook.SubscriptionCreated, webhook.SubscriptionActive, webhook.SubscriptionUpdated}, handled)
	mu.Unlock()

	res = runCommand(t, fakeEnv(), "webhooks", "catch-up", "-since", "1h", "-base-url", srv.URL())
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Contains(t, res.stderr, "3 events: 0 redelivered, 3 delivered since")
}

func TestWebhooksCatchUpUsage(t *testing.T) {
	for _, args := range [][]string{{"webhooks"}, {"webhooks", "catch-up"}, {"webhooks", "catch-up", "-since", "yesterday"},
		{"webhooks", "catch-up", "-since", "1h", "extra"}} {
		res := runCommand(t, fakeEnv(), args...)
		assert.Equal(t, exitUsage, res.exit, "%v: %s", args, res.stderr)
	}
	env := []string{}
	for _, kv := range fakeEnv() {
		if !strings.HasPrefix(kv, "POLAR_ACCESS_TOKEN=") {
			env = append(env, kv)
		}
	}
	res := runCommand(t, env, "webhooks", "catch-up", "-since", "1h")
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "POLAR_ACCESS_TOKEN is not set")
}
