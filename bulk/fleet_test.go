package bulk_test

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
)

// shard keeps the items of seq whose key falls in shard i of n.
func shard(seq iter.Seq2[bulk.Item, error], i, n int) iter.Seq2[bulk.Item, error] {
	return func(yield func(bulk.Item, error) bool) {
		for it, err := range seq {
			if bulk.Shard(it.Key, n) == i && !yield(it, err) {
				return
			}
		}
	}
}

// TestFleetSharesOneBudgetAndOneStore runs one input on three processes —
// three clients, each with its own Redis connections — sharing a Redis
// store and limiter: split by shard, and each running the whole input. With
// -race its 2,000 creates fit in one window's budget (see theCeiling): the
// shared store is tested, the shared budget only without -race.
func TestFleetSharesOneBudgetAndOneStore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 20 s or more; go test without -short runs it")
	}
	c := theCeiling()
	for _, sharded := range []bool{true, false} {
		t.Run(fmt.Sprintf("sharded=%t", sharded), func(t *testing.T) {
			rdb := redistest.NewServer(t)
			f := c.fake(t)
			start := time.Now()
			var wg sync.WaitGroup
			counts := make([]map[bulk.Outcome]int, 3)
			for i := range 3 {
				conn := rdb.NewClient()
				client := f.client(t, subkit.WithIdempotencyStore(subkitredis.NewStore(conn)),
					subkit.WithRateLimiter(subkit.Polar, subkitredis.NewLimiter(conn, "polar:org", c.limit, c.window)))
				items := f.items(0, c.n)
				if sharded {
					items = shard(items, i, 3)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					counts[i] = map[bulk.Outcome]int{}
					for r := range bulk.Run(context.Background(), client, items, bulk.Options{Concurrency: 16}) {
						counts[i][r.Outcome]++
						if r.Err != nil && counts[i][r.Outcome] == 1 {
							t.Errorf("process %d, %s: %s: %v", i, r.Item.Key, r.Outcome, r.Err)
						}
					}
				}()
			}
			wg.Wait()
			wall := time.Since(start)

			keys := keysOnServer(f.Server)
			require.Len(t, keys, c.n, "every key created")
			for k, n := range keys {
				require.Equal(t, 1, n, "key %s created once", k)
			}
			reqs := f.Requests(subkit.Polar)
			tr := trafficOf(reqs)
			assert.Zero(t, tr.tooMany, "no 429: the three share one budget")
			assert.Equal(t, c.n, tr.posts)
			made := 0
			for _, n := range counts {
				made += n[bulk.Created] + n[bulk.Replayed]
			}
			if sharded {
				assert.Equal(t, c.n, made, "%v", counts)
			} else {
				assert.Equal(t, 3*c.n, made, "each process reports every item: one creates, the others replay: %v", counts)
			}
			t.Logf("%d creates by 3 processes in %s (sharded %t): %d requests (%.3f a create), 429s: %d, creates per %s (limit %d per %s): %v",
				c.n, wall.Round(time.Millisecond), sharded, len(reqs), float64(len(reqs))/float64(c.n), tr.tooMany, c.slice, c.limit, c.window, c.perSlice(reqs))
		})
	}
}
