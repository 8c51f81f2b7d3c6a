package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/webhooktest"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// TestHandlerOnceAcrossProcesses runs the cross-process checks that every
// store shared by a fleet runs (internal/webhooktest; subkitredis and
// subkitsql run them on Redis, SQLite and Postgres) on two processes
// sharing a MemoryStore: one ID delivered ten times at once runs fn once
// and is answered 200 each time; a failure is retried and runs fn again; a
// stale state never reaches fn; a subscription.created delivery settles a
// keyed create's pending record.
func TestHandlerOnceAcrossProcesses(t *testing.T) {
	store := subkit.NewMemoryStore()
	webhooktest.RunFleet(t, func(*testing.T) subkit.IdempotencyStore { return store })
}

// TestHandlerFailureThenRetry: fn failing is answered 500 and not
// recorded, so Polar's retry runs fn again; once it succeeds, a further
// delivery is a duplicate.
func TestHandlerFailureThenRetry(t *testing.T) {
	store := subkit.NewMemoryStore()
	var c calls
	var failures atomic.Int32
	failures.Store(1)
	fn := func(ctx context.Context, ev *webhook.Event) error {
		_ = c.record(ctx, ev)
		if failures.Add(-1) >= 0 {
			return errors.New("the database is down")
		}
		return nil
	}
	p := newProcess(t, fn, webhook.WithDedupe(store))
	body := []byte(orderBody)

	a := p.deliver(t, "evt-retry", body)
	assert.Equal(t, http.StatusInternalServerError, a.status)
	assert.NotContains(t, a.body, "database", "fn's error stays in the logs, not in Polar's delivery log")
	a = p.deliver(t, "evt-retry", body) // Polar's retry: same id, same body, new timestamp and signature
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "handled", a.body)
	a = p.deliver(t, "evt-retry", body)
	assert.Equal(t, "duplicate: already handled", a.body)
	assert.Equal(t, []string{"evt-retry", "evt-retry"}, c.ids(), "fn ran for the failure and for the retry, not for the duplicate")
}

func TestHandlerPanicIsAFailure(t *testing.T) {
	var n atomic.Int32
	fn := func(context.Context, *webhook.Event) error {
		if n.Add(1) == 1 {
			panic("a bug in fn")
		}
		return nil
	}
	p := newProcess(t, fn, webhook.WithDedupe(subkit.NewMemoryStore()))
	assert.Equal(t, http.StatusInternalServerError, p.deliver(t, "evt-panic", []byte(orderBody)).status)
	assert.Equal(t, http.StatusOK, p.deliver(t, "evt-panic", []byte(orderBody)).status, "the hold was let go: the retry runs")
	assert.Equal(t, int32(2), n.Load())
}

// TestHandlerStaleEvents: an event whose subscription state is older than
// the newest handed to fn is acknowledged without fn; an equal one is not
// older.
func TestHandlerStaleEvents(t *testing.T) {
	var c calls
	p := newProcess(t, c.record, webhook.WithDedupe(subkit.NewMemoryStore()))
	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)
	sub := subscription{ID: "sub-stale", CreatedAt: t0}
	deliveries := []struct {
		id, typ  string
		modified *time.Time
		want     string
	}{
		{"e-updated-t2", webhook.SubscriptionUpdated, &t2, "handled"},
		{"e-created", webhook.SubscriptionCreated, nil, "stale"},        // created_at t0 < t2
		{"e-active-t1", webhook.SubscriptionActive, &t1, "stale"},       // t1 < t2
		{"e-canceled-t2", webhook.SubscriptionCanceled, &t2, "handled"}, // equal is not older
		{"e-updated-t2-ns", webhook.SubscriptionUpdated, ptr(t2.Add(time.Microsecond)), "handled"},
		{"e-updated-t1-again", webhook.SubscriptionUpdated, &t1, "stale"},
	}
	for _, d := range deliveries {
		s := sub
		s.ModifiedAt = d.modified
		a := p.deliver(t, d.id, event(t, d.typ, s))
		assert.Equal(t, http.StatusOK, a.status, d.id)
		assert.Contains(t, a.body, d.want, d.id)
	}
	assert.Equal(t, []string{"e-updated-t2", "e-canceled-t2", "e-updated-t2-ns"}, c.ids())
	// A stale event is recorded as handled: its retry is a duplicate.
	assert.Equal(t, "duplicate: already handled", p.deliver(t, "e-created", event(t, webhook.SubscriptionCreated, sub)).body)
	// Another subscription's order is its own.
	a := p.deliver(t, "e-other", event(t, webhook.SubscriptionCreated, subscription{ID: "sub-other", CreatedAt: t0}))
	assert.Equal(t, "handled", a.body)
}

// TestHandlerFailedNewerEventDoesNotHideOlder: the newest state recorded is
// only one fn accepted.
func TestHandlerFailedNewerEventDoesNotHideOlder(t *testing.T) {
	var c calls
	fn := func(ctx context.Context, ev *webhook.Event) error {
		if ev.ID == "e-new" {
			return errors.New("refused")
		}
		return c.record(ctx, ev)
	}
	p := newProcess(t, fn, webhook.WithDedupe(subkit.NewMemoryStore()))
	assert.Equal(t, http.StatusInternalServerError, p.deliver(t, "e-new", event(t, webhook.SubscriptionUpdated,
		subscription{ID: "sub-f", CreatedAt: t0, ModifiedAt: ptr(t0.Add(time.Hour))})).status)
	assert.Equal(t, "handled", p.deliver(t, "e-old", event(t, webhook.SubscriptionCreated, subscription{ID: "sub-f", CreatedAt: t0})).body)
	assert.Equal(t, []string{"e-old"}, c.ids())
}

// TestHandlerOneSubscriptionAtATime: events of one subscription reach fn
// one at a time, across processes.
func TestHandlerOneSubscriptionAtATime(t *testing.T) {
	store := subkit.NewMemoryStore()
	var running, most atomic.Int32
	var c calls
	fn := func(ctx context.Context, ev *webhook.Event) error {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(50 * time.Millisecond)
		return c.record(ctx, ev)
	}
	procs := []*process{
		newProcess(t, fn, webhook.WithDedupe(store), webhook.WithBusyWait(10*time.Second)),
		newProcess(t, fn, webhook.WithDedupe(store), webhook.WithBusyWait(10*time.Second)),
	}
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := event(t, webhook.SubscriptionUpdated, subscription{ID: "sub-serial", CreatedAt: t0})
			a := procs[i%2].deliver(t, fmt.Sprintf("e-serial-%d", i), body)
			assert.Equal(t, http.StatusOK, a.status)
		}()
	}
	wg.Wait()
	assert.Equal(t, 6, c.count(), "six events, equal states: all handed to fn")
	assert.Equal(t, int32(1), most.Load(), "never two at once")
}

// TestHandlerBusyElsewhere: a delivery of an event being handled by
// another process waits the busy wait, then is answered 409 with
// Retry-After; Polar's later retry is a duplicate.
func TestHandlerBusyElsewhere(t *testing.T) {
	store := subkit.NewMemoryStore()
	release, entered := make(chan struct{}), make(chan struct{})
	var n atomic.Int32
	fn := func(context.Context, *webhook.Event) error {
		n.Add(1)
		close(entered)
		<-release
		return nil
	}
	a := newProcess(t, fn, webhook.WithDedupe(store))
	b := newProcess(t, fn, webhook.WithDedupe(store), webhook.WithBusyWait(100*time.Millisecond))
	first := make(chan answer)
	go func() { first <- a.deliver(t, "evt-busy", []byte(orderBody)) }()
	<-entered
	got := b.deliver(t, "evt-busy", []byte(orderBody))
	assert.Equal(t, http.StatusConflict, got.status)
	assert.Equal(t, "10", got.retryAfter)
	close(release)
	assert.Equal(t, http.StatusOK, (<-first).status)
	assert.Equal(t, "duplicate: already handled", b.deliver(t, "evt-busy", []byte(orderBody)).body)
	assert.Equal(t, int32(1), n.Load())
}

// TestHandlerTakesOverFromADeadProcess: a process that died holding an
// event holds it only until its lease ends; a delivery waiting meanwhile
// then handles it.
func TestHandlerTakesOverFromADeadProcess(t *testing.T) {
	store := subkit.NewMemoryStore()
	// The dead process's hold, as a Handler takes it, never let go.
	_, _, err := store.Lock(context.Background(), "webhook:polar:evt-dead", subkit.LockRequest{Lease: time.Second})
	require.NoError(t, err)
	var c calls
	p := newProcess(t, c.record, webhook.WithDedupe(store), webhook.WithBusyWait(10*time.Second))
	start := time.Now()
	a := p.deliver(t, "evt-dead", []byte(orderBody))
	assert.Equal(t, "handled", a.body)
	assert.GreaterOrEqual(t, time.Since(start), 900*time.Millisecond, "not before the dead hold's lease ended")
	assert.Equal(t, 1, c.count())
}

func TestHandlerRefusesWithoutRunningFn(t *testing.T) {
	var c calls
	p := newProcess(t, c.record, webhook.WithDedupe(subkit.NewMemoryStore()))
	body := []byte(orderBody)
	now := time.Now()

	res, err := http.Get(p.srv.URL)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "POST", res.Header.Get("Allow"))

	for _, tc := range []struct {
		name   string
		h      http.Header
		body   []byte
		status int
	}{
		{"another secret", subkittest.SignPolarWebhook(std2Secret, "evt-r", now, body), body, http.StatusUnauthorized},
		{"legacy scheme of another secret", subkittest.SignPolarWebhookLegacy(legacySecret, "evt-r", now, body), body, http.StatusUnauthorized},
		{"ten minutes old", subkittest.SignPolarWebhook(stdSecret, "evt-r", now.Add(-10*time.Minute), body), body, http.StatusUnauthorized},
		{"tampered", subkittest.SignPolarWebhook(stdSecret, "evt-r", now, body), []byte(orderBody[:len(orderBody)-1] + " }"), http.StatusUnauthorized},
		{"not Polar's payload", subkittest.SignPolarWebhook(stdSecret, "evt-r", now, []byte(`{"hello":1}`)), []byte(`{"hello":1}`), http.StatusBadRequest},
		{"no headers", http.Header{}, body, http.StatusBadRequest},
		{"too large", subkittest.SignPolarWebhook(stdSecret, "evt-r", now, make([]byte, webhook.DefaultMaxBodySize+1)), make([]byte, webhook.DefaultMaxBodySize+1), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.status, post(t, p.srv.URL, tc.h, tc.body).status)
		})
	}
	assert.Zero(t, c.count())
	// Nothing was recorded: the real delivery of that ID runs fn.
	assert.Equal(t, "handled", p.deliver(t, "evt-r", body).body)
}

func TestHandlerMalformedSubscriptionEvent(t *testing.T) {
	var c calls
	p := newProcess(t, c.record, webhook.WithDedupe(subkit.NewMemoryStore()))
	body := subkittest.PolarWebhookBody(webhook.SubscriptionUpdated, time.Now(), map[string]any{"id": "sub-x"}) // no created_at
	assert.Equal(t, http.StatusBadRequest, p.deliver(t, "evt-bad-sub", body).status)
	assert.Zero(t, c.count())
}

// failingStore is a store that is down.
type failingStore struct{}

func (failingStore) Lock(context.Context, string, subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	return nil, nil, errors.New("connection refused")
}

func TestHandlerStoreDown(t *testing.T) {
	var c calls
	p := newProcess(t, c.record, webhook.WithDedupe(failingStore{}))
	a := p.deliver(t, "evt-down", []byte(orderBody))
	assert.Equal(t, http.StatusServiceUnavailable, a.status)
	assert.Equal(t, "10", a.retryAfter)
	assert.Zero(t, c.count(), "without the store, fn does not run: it could run twice")
}

func TestHandlerWithoutDedupeRunsEveryDelivery(t *testing.T) {
	var c calls
	p := newProcess(t, c.record)
	for range 3 {
		assert.Equal(t, "handled", p.deliver(t, "evt-same", []byte(orderBody)).body)
	}
	assert.Equal(t, 3, c.count())
}

// TestHandlerFnOutlivesPolarsTimeout: fn's context does not end when the
// delivery's request does.
func TestHandlerFnOutlivesPolarsTimeout(t *testing.T) {
	done := make(chan error, 1)
	fn := func(ctx context.Context, _ *webhook.Event) error {
		time.Sleep(300 * time.Millisecond)
		done <- ctx.Err()
		return nil
	}
	p := newProcess(t, fn, webhook.WithDedupe(subkit.NewMemoryStore()))
	body := []byte(orderBody)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond) // Polar giving up early
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.srv.URL, nil)
	require.NoError(t, err)
	req.Header = subkittest.SignPolarWebhook(stdSecret, "evt-slow", time.Now(), body)
	req.Body, req.ContentLength = readCloser(body), int64(len(body))
	_, err = http.DefaultClient.Do(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case err := <-done:
		assert.NoError(t, err, "fn's context was not canceled by the hang-up")
	case <-time.After(10 * time.Second):
		t.Fatal("fn did not finish")
	}
	// It was recorded: Polar's retry is a duplicate.
	assert.Eventually(t, func() bool {
		return p.deliver(t, "evt-slow", body).body == "duplicate: already handled"
	}, 10*time.Second, 20*time.Millisecond)
}

// lostLockStore is a MemoryStore whose locks can no longer be extended.
type lostLockStore struct{ *subkit.MemoryStore }

func (s lostLockStore) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	l, rec, err := s.MemoryStore.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return lostLock{l}, rec, nil
}

type lostLock struct{ subkit.IdempotencyLock }

func (lostLock) Extend(context.Context, time.Duration) error { return subkit.ErrLockLost }

// TestHandlerLostHoldCancelsFn: when the hold on the event cannot be
// extended another process may take the event, so fn's context ends and
// the event is not recorded.
func TestHandlerLostHoldCancelsFn(t *testing.T) {
	fn := func(ctx context.Context, _ *webhook.Event) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Second):
			return nil
		}
	}
	p := newProcess(t, fn, webhook.WithDedupe(lostLockStore{subkit.NewMemoryStore()}), webhook.WithLease(300*time.Millisecond))
	start := time.Now()
	assert.Equal(t, http.StatusInternalServerError, p.deliver(t, "evt-lost", []byte(orderBody)).status)
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestHandlerNilFnPanics(t *testing.T) {
	r, err := webhook.NewPolarReceiver([]string{stdSecret})
	require.NoError(t, err)
	assert.Panics(t, func() { r.Handler(nil) })
}
