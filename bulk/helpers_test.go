package bulk_test

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// quick is a retry policy for tests: short backoffs, a short settle time.
var quick = subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: 200 * time.Millisecond}

// polarFake is a fake with one free product and n customers, user-00000 …,
// seeded so that the fake refuses anything else.
type polarFake struct {
	*subkittest.Server
	product string
}

func newPolarFake(t testing.TB, n int, opts ...subkittest.ServerOption) *polarFake {
	t.Helper()
	srv := subkittest.NewServer(opts...)
	t.Cleanup(srv.Close)
	f := &polarFake{Server: srv, product: srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})}
	for i := range n {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: user(i)})
	}
	return f
}

func user(i int) string { return fmt.Sprintf("user-%05d", i) }

// client is a client of the fake with the quick policy and a MemoryStore of
// its own (each client stands for a process of its own: the default store
// would serve them all), then opts.
func (f *polarFake) client(t testing.TB, opts ...subkit.Option) *subkit.Client {
	t.Helper()
	c, err := f.Client(append([]subkit.Option{subkit.WithRetryPolicy(quick), subkit.WithIdempotencyStore(subkit.NewMemoryStore())}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// externalItem subscribes user(i), keyed by its external ID.
func (f *polarFake) externalItem(i int) bulk.Item {
	return bulk.Item{Key: user(i), Line: i + 1, ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{
		ProductID: f.product, ExternalCustomerID: user(i)}}
}

// items are externalItem(from) … externalItem(to-1).
func (f *polarFake) items(from, to int) iter.Seq2[bulk.Item, error] {
	return func(yield func(bulk.Item, error) bool) {
		for i := from; i < to; i++ {
			if !yield(f.externalItem(i), nil) {
				return
			}
		}
	}
}

// run collects a run's results by index, failing the test on an index seen
// twice.
func run(t testing.TB, ctx context.Context, c *subkit.Client, items iter.Seq2[bulk.Item, error], opts bulk.Options) map[int]bulk.Result {
	t.Helper()
	got := map[int]bulk.Result{}
	for r := range bulk.Run(ctx, c, items, opts) {
		_, dup := got[r.Index]
		require.False(t, dup, "item %d reported twice", r.Index)
		got[r.Index] = r
	}
	return got
}

// countOutcomes counts results per outcome.
func countOutcomes(results map[int]bulk.Result) map[bulk.Outcome]int {
	n := map[bulk.Outcome]int{}
	for _, r := range results {
		n[r.Outcome]++
	}
	return n
}

// polarTraffic counts the Polar requests a server received: creates
// (POSTs), key look-ups (GETs) and 429s.
type polarTraffic struct{ posts, gets, tooMany int }

func trafficOf(reqs []subkittest.Request) polarTraffic {
	var tr polarTraffic
	for _, r := range reqs {
		switch {
		case r.Status == http.StatusTooManyRequests:
			tr.tooMany++
		case r.Method == http.MethodPost:
			tr.posts++
		case r.Method == http.MethodGet:
			tr.gets++
		}
	}
	return tr
}

// keysOnServer counts the Polar subscriptions per idempotency key.
func keysOnServer(srv *subkittest.Server) map[string]int {
	n := map[string]int{}
	for _, s := range srv.PolarSubscriptions() {
		k, _ := s.Metadata["subkit_idempotency_key"].(string)
		n[k]++
	}
	return n
}

// lookupsOf counts the key look-ups among reqs and how many keys each asked for.
func lookupsOf(reqs []subkittest.Request) (n int, keys []int) {
	for _, r := range reqs {
		if r.Method == http.MethodGet && strings.Contains(r.Query, "subkit_idempotency_key") {
			n++
			keys = append(keys, strings.Count(r.Query, "subkit_idempotency_key"))
		}
	}
	return n, keys
}

// stingyLimiter lets its first n waits through and holds every later one
// until its context ends: a budget spent for longer than any test runs.
type stingyLimiter struct {
	n    int64
	seen atomic.Int64
}

func (l *stingyLimiter) Wait(ctx context.Context) error {
	if l.seen.Add(1) <= l.n {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}
