package subkitredis_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// TestBulkFleetSharesOneBudgetAndOneStore runs one input on three
// "processes" — three clients, each with its own Redis connections — sharing
// a Redis store and limiter, each running the whole input: every key is
// created once, the others replay, and the shared budget draws no 429 from
// the fake's fixed window.
func TestBulkFleetSharesOneBudgetAndOneStore(t *testing.T) {
	const n, limit = 300, 100000
	rdb := redistest.NewServer(t)
	srv := subkittest.NewServer(subkittest.WithRateLimit(subkit.Polar, limit, time.Minute))
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	items := make([]bulk.Item, n)
	for i := range n {
		user := fmt.Sprintf("user-%05d", i)
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: user})
		items[i] = bulk.Item{Key: user, Line: i + 1, ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{
			ProductID: product, ExternalCustomerID: user}}
	}
	quick := subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: 200 * time.Millisecond}

	var wg sync.WaitGroup
	counts := make([]map[bulk.Outcome]int, 3)
	for i := range 3 {
		conn := rdb.NewClient()
		client, err := srv.Client(subkit.WithRetryPolicy(quick), subkit.WithIdempotencyStore(subkitredis.NewStore(conn)),
			subkit.WithRateLimiter(subkit.Polar, subkitredis.NewLimiter(conn, "polar:org", limit, time.Minute)))
		require.NoError(t, err)
		t.Cleanup(client.CloseIdleConnections)
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i] = map[bulk.Outcome]int{}
			seq := func(yield func(bulk.Item, error) bool) {
				for _, it := range items {
					if !yield(it, nil) {
						return
					}
				}
			}
			for r := range bulk.Run(context.Background(), client, seq, bulk.Options{Concurrency: 8}) {
				counts[i][r.Outcome]++
				if r.Err != nil {
					t.Errorf("process %d, %s: %s: %v", i, r.Item.Key, r.Outcome, r.Err)
				}
			}
		}()
	}
	wg.Wait()

	created := map[string]int{}
	for _, s := range srv.PolarSubscriptions() {
		k, _ := s.Metadata["subkit_idempotency_key"].(string)
		created[k]++
	}
	require.Len(t, created, n, "every key created")
	for k, c := range created {
		require.Equal(t, 1, c, "key %s created once", k)
	}
	posts, tooMany := 0, 0
	for _, r := range srv.Requests(subkit.Polar) {
		if r.Method == http.MethodPost {
			posts++
		}
		if r.Status == http.StatusTooManyRequests {
			tooMany++
		}
	}
	assert.Zero(t, tooMany, "no 429: the three share one budget")
	assert.Equal(t, n, posts)
	made := 0
	for _, c := range counts {
		made += c[bulk.Created] + c[bulk.Replayed]
	}
	assert.Equal(t, 3*n, made, "each process reports every item: one creates, the others replay: %v", counts)
}
