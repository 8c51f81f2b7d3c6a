// Package webhooktest holds the webhook Handler's cross-process checks
// (issue 23), run on every idempotency store the Handler may share with a
// fleet: memory (package webhook's tests), Redis (subkitredis), SQLite and
// Postgres (subkitsql). It is for tests only, and imports no driver.
package webhooktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// BusyWait is the processes' WithBusyWait: far longer than fn takes (at
// most 100 ms), and than the store's turns under the race detector, so that
// every delivery waiting for another is answered once that one is done,
// never 409; still under Polar's 10 s.
const BusyWait = 8 * time.Second

// The answers a delivery gets (webhook's handler.go).
const (
	handled   = "handled"
	duplicate = "duplicate: already handled"
	stale     = "stale: a newer state of the subscription was handled"
)

var t0 = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// RunFleet runs the checks, each a subtest with two processes: two
// Handlers with WithDedupe, each on its own loopback server and with its
// own store from newStore, on the one backend the run shares.
//
//   - once: one event ID delivered ten times at once, five times to each
//     process: fn runs once, one delivery is answered 200 "handled" and
//     nine 200 "duplicate";
//   - retry: fn failing is answered 500 and the store holds no record of
//     the event; Polar's retry, to the other process, runs fn again, and
//     only then is the event recorded; a third delivery is a duplicate;
//   - stale: a subscription.updated older than the newest state handled
//     (by the other process) is answered 200 without fn, and recorded;
//   - settle: a keyed create that ended ErrOutcomeUnknown leaves its
//     record pending in the store; a subscription.created delivery
//     carrying the key settles it, and the next call with the key, from
//     the other process's Client, replays it without sending anything.
//
// newStore returns a new instance of the store (its own connections, as a
// process has) on the run's backend; it is called with the subtest, which
// its cleanups may go with. Each subtest uses event, subscription and
// idempotency key names of its own, so the backend may be shared by all.
func RunFleet(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	t.Helper()
	t.Run("once", func(t *testing.T) { once(t, newStore) })
	t.Run("retry", func(t *testing.T) { retry(t, newStore) })
	t.Run("stale", func(t *testing.T) { staleEvent(t, newStore) })
	t.Run("settle", func(t *testing.T) { settle(t, newStore) })
}

func once(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	var c calls
	fn := func(_ context.Context, ev *webhook.Event) error {
		time.Sleep(100 * time.Millisecond) // the other deliveries arrive meanwhile
		c.add(ev.ID)
		return nil
	}
	procs := newProcesses(t, newStore, fn)
	body := subscriptionEvent(t, webhook.SubscriptionUpdated, "sub-once", nil)
	answers := make([]answer, 10)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = procs[i%2].deliver(t, "evt-once", body)
		}()
	}
	close(start)
	wg.Wait()
	texts := map[string]int{}
	for i, a := range answers {
		if a.status != http.StatusOK {
			t.Errorf("delivery %d (process %d) answered %d %q", i, i%2, a.status, a.text)
		}
		texts[a.text]++
	}
	t.Logf("ten deliveries of one ID at once across two processes: %v; fn ran %d time(s)", texts, c.count())
	if texts[handled] != 1 || texts[duplicate] != 9 {
		t.Errorf("answers %v, want 1 %q and 9 %q", texts, handled, duplicate)
	}
	c.want(t, "evt-once")
	wantHandled(t, procs[0].store, "evt-once", handled)
}

func retry(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	var c calls
	var failNext atomic.Bool
	failNext.Store(true)
	fn := func(_ context.Context, ev *webhook.Event) error {
		c.add(ev.ID)
		if failNext.Swap(false) {
			return errors.New("downstream unavailable")
		}
		return nil
	}
	procs := newProcesses(t, newStore, fn)
	body := subkittest.PolarWebhookBody("order.created", time.Now(), map[string]any{"id": "ord-retry"})

	procs[0].want(t, "evt-retry", body, http.StatusInternalServerError, "the handler failed; not recorded")
	if rec := peek(t, procs[1].store, "webhook:polar:evt-retry"); rec != nil && rec.Result != nil {
		t.Errorf("after fn failed the store holds %s for the event, want no record", show(rec))
	}
	procs[1].want(t, "evt-retry", body, http.StatusOK, handled) // Polar's retry, to the other process
	wantHandled(t, procs[0].store, "evt-retry", handled)
	procs[0].want(t, "evt-retry", body, http.StatusOK, duplicate)
	c.want(t, "evt-retry", "evt-retry")
}

func staleEvent(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	var c calls
	procs := newProcesses(t, newStore, c.record)
	newer, older := t0.Add(5*time.Minute), t0.Add(time.Minute)
	procs[0].want(t, "evt-new", subscriptionEvent(t, webhook.SubscriptionUpdated, "sub-stale", &newer), http.StatusOK, handled)
	old := subscriptionEvent(t, webhook.SubscriptionUpdated, "sub-stale", &older)
	procs[1].want(t, "evt-old", old, http.StatusOK, stale)
	procs[0].want(t, "evt-old", old, http.StatusOK, duplicate) // a stale event is recorded: its retry is a duplicate
	c.want(t, "evt-new")
	wantHandled(t, procs[0].store, "evt-old", "stale")
	rec := peek(t, procs[1].store, "webhook:polar:subscription:sub-stale")
	var newest struct {
		Version time.Time `json:"version"`
	}
	if rec == nil || json.Unmarshal(rec.Result, &newest) != nil || !newest.Version.Equal(newer) {
		t.Errorf("the subscription's record is %s, want its newest state handled, %v", show(rec), newer)
	}
}

func settle(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	var c calls
	procs := newProcesses(t, newStore, c.record)
	srv := subkittest.NewServer() // no webhook endpoint: the test delivers the event itself
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	client := func(s subkit.IdempotencyStore) *subkit.Client {
		cl, err := srv.Client(subkit.WithIdempotencyStore(s), subkit.WithRetryPolicy(subkit.RetryPolicy{
			MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 2, SettleTime: 300 * time.Millisecond}))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.CloseIdleConnections)
		return cl
	}
	ctx := context.Background()
	params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer, Metadata: subkit.Metadata{"order": "7"}}

	srv.InjectFault(subkit.Polar, 1, subkittest.Delay(time.Millisecond).On(subkittest.OpLookup)) // the key-check before sending: answered
	srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
	srv.InjectFault(subkit.Polar, 1000, subkittest.Respond(503, "").On(subkittest.OpLookup)) // every look-up after it fails
	_, err := client(procs[0].store).Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-7"))
	if !errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("the create (applied, answer lost, look-ups failing) ended %v, want ErrOutcomeUnknown", err)
	}
	held := srv.PolarSubscriptions()
	if len(held) != 1 {
		t.Fatalf("the fake holds %d subscriptions, want 1", len(held))
	}
	if rec := peek(t, procs[1].store, "polar:order-7"); rec == nil || !rec.Pending {
		t.Fatalf("the key's record is %s, want pending", show(rec))
	}

	body := subkittest.PolarWebhookBody(webhook.SubscriptionCreated, time.Now(), held[0].Body)
	procs[1].want(t, "evt-created", body, http.StatusOK, handled)
	rec := peek(t, procs[0].store, "polar:order-7")
	var settled subkit.Subscription
	if rec == nil || rec.Pending || json.Unmarshal(rec.Result, &settled) != nil || settled.ID != held[0].ID {
		t.Fatalf("the key's record is %s, want settled with subscription %s", show(rec), held[0].ID)
	}
	procs[0].want(t, "evt-created", body, http.StatusOK, duplicate)

	sent := len(srv.Requests(subkit.Polar))
	var info subkit.ResponseInfo
	sub, err := client(procs[1].store).Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-7"), subkit.WithResponseInfo(&info))
	switch {
	case err != nil:
		t.Fatalf("the next call with the key: %v", err)
	case info.Outcome != subkit.OutcomeReplayed || sub.ID != held[0].ID:
		t.Errorf("the next call with the key: %s, subscription %s; want %s, %s", info.Outcome, sub.ID, subkit.OutcomeReplayed, held[0].ID)
	}
	if n := len(srv.Requests(subkit.Polar)) - sent; n != 0 {
		t.Errorf("the replay sent %d requests, want none", n)
	}
	if n := len(srv.PolarSubscriptions()); n != 1 {
		t.Errorf("the fake holds %d subscriptions, want 1", n)
	}
	c.want(t, "evt-created")
}

// process is one process of a fleet receiving Polar's webhooks: its own
// store instance, its own Receiver and Handler on its own server.
type process struct {
	store  subkit.IdempotencyStore
	srv    *httptest.Server
	secret string
}

// newProcesses starts two processes running fn, each on a store of its own
// from newStore.
func newProcesses(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore, fn func(context.Context, *webhook.Event) error) [2]*process {
	t.Helper()
	secret := subkittest.NewPolarWebhookSecret()
	var procs [2]*process
	for i := range procs {
		store := newStore(t)
		r, err := webhook.NewPolarReceiver([]string{secret})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(r.Handler(fn, webhook.WithDedupe(store), webhook.WithBusyWait(BusyWait)))
		t.Cleanup(srv.Close)
		procs[i] = &process{store: store, srv: srv, secret: secret}
	}
	return procs
}

// answer is what a delivery was answered: its status and its text.
type answer struct {
	status int
	text   string
}

// deliver POSTs body as a delivery of event id, signed now as Polar signs,
// and returns the answer. It may be called from any goroutine.
func (p *process) deliver(t *testing.T, id string, body []byte) answer {
	req, err := http.NewRequest(http.MethodPost, p.srv.URL, bytes.NewReader(body))
	if err != nil {
		t.Error(err)
		return answer{}
	}
	req.Header = subkittest.SignPolarWebhook(p.secret, id, time.Now(), body)
	res, err := p.srv.Client().Do(req)
	if err != nil {
		t.Errorf("delivering %s: %v", id, err)
		return answer{}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Errorf("reading the answer to %s: %v", id, err)
	}
	return answer{status: res.StatusCode, text: strings.TrimSpace(string(b))}
}

// want delivers body as event id and fails t unless it is answered status
// and text.
func (p *process) want(t *testing.T, id string, body []byte, status int, text string) {
	t.Helper()
	if a := p.deliver(t, id, body); a.status != status || a.text != text {
		t.Errorf("delivery of %s answered %d %q, want %d %q", id, a.status, a.text, status, text)
	}
}

// subscriptionEvent is the body of an event of type typ about subscription
// id, created at t0 and modified at modified (nil: never).
func subscriptionEvent(t *testing.T, typ, id string, modified *time.Time) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{"id": id, "created_at": t0, "modified_at": modified, "status": "active"})
	if err != nil {
		t.Fatal(err)
	}
	return subkittest.PolarWebhookBody(typ, time.Now(), json.RawMessage(data))
}

// peek returns key's record as the store holds it (nil: none), taking and
// letting go of its lock, as any holder would.
func peek(t *testing.T, s subkit.IdempotencyStore, key string) *subkit.IdempotencyRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	lock, rec, err := s.Lock(ctx, key, subkit.LockRequest{Lease: 10 * time.Second})
	if err != nil {
		t.Fatalf("reading %s from the store: %v", key, err)
	}
	if err := lock.Unlock(ctx); err != nil {
		t.Fatalf("unlocking %s: %v", key, err)
	}
	return rec
}

// show describes a record for a failure's message.
func show(rec *subkit.IdempotencyRecord) string {
	if rec == nil {
		return "none"
	}
	return fmt.Sprintf("{fingerprint %q, pending %t, result %s}", rec.Fingerprint, rec.Pending, rec.Result)
}

// wantHandled fails t unless the store records event id as handled with
// outcome ("handled" or "stale").
func wantHandled(t *testing.T, s subkit.IdempotencyStore, id, outcome string) {
	t.Helper()
	rec := peek(t, s, "webhook:polar:"+id)
	var got struct {
		Outcome string `json:"outcome"`
	}
	if rec == nil || json.Unmarshal(rec.Result, &got) != nil || got.Outcome != outcome {
		t.Errorf("the store's record of event %s is %s, want one with outcome %q", id, show(rec), outcome)
	}
}

// calls records the IDs of the events fn was handed, in order.
type calls struct {
	mu  sync.Mutex
	ids []string
}

func (c *calls) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ids = append(c.ids, id)
}

func (c *calls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.ids)
}

// record is an fn that records each event and succeeds.
func (c *calls) record(_ context.Context, ev *webhook.Event) error {
	c.add(ev.ID)
	return nil
}

// want fails t unless fn was handed exactly the events ids, in order.
func (c *calls) want(t *testing.T, ids ...string) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Equal(c.ids, ids) {
		t.Errorf("fn ran for %q, want %q", c.ids, ids)
	}
}
