package subkitredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/chaos"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// The exactly-once chaos test in fleet mode, on Redis (one create per key
// however calls overlap, look-ups that lag, a key that means one create):
// the four clients of internal/chaos's fleet run each have their own Redis
// connection, as processes would, to one real redis-server, for the store
// and for the Polar budget they share (NewLimiter) against the fake's fixed
// windows. The run, its faults, lag and account are chaos.RunFleet's.
func TestExactlyOnceFleetChaos(t *testing.T) {
	rdb := redistest.NewServer(t)
	t.Logf("redis %s", rdb.Addr())
	chaos.RunFleet(t, chaos.Fleet{
		Store: func(*testing.T, int) subkit.IdempotencyStore { return subkitredis.NewStore(rdb.NewClient()) },
		Limiter: func(_ *testing.T, _ int, name string, events int, per time.Duration) subkit.Limiter {
			return subkitredis.NewLimiter(rdb.NewClient(), name, events, per)
		},
	})
}

// The same run with each client's store behind a link of its own that the
// run cuts again and again, once for longer than the lease, while the
// clients' clocks are off by up to 3 s: no duplicate, no false success.
func TestExactlyOnceFleetChaosWithLinkCuts(t *testing.T) {
	rdb := redistest.NewServer(t)
	var links [chaos.FleetClients]*redistest.Link
	for i := range links {
		links[i] = rdb.NewLink()
	}
	chaos.RunFleet(t, chaos.Fleet{
		Store: func(_ *testing.T, i int) subkit.IdempotencyStore { return subkitredis.NewStore(links[i].Client()) },
		Cut: func(i int, down bool) {
			if down {
				links[i].Cut()
			} else {
				links[i].Restore()
			}
		},
		Limiter: func(_ *testing.T, _ int, name string, events int, per time.Duration) subkit.Limiter {
			return subkitredis.NewLimiter(rdb.NewClient(), name, events, per)
		},
	})
}

// Redis stopped in the middle of a run and started again (with its
// append-only file, as production should run it): every call succeeds, fails
// definitely, or ends unknown — and no key is created twice.
func TestFleetThroughARedisRestart(t *testing.T) {
	rdb := redistest.NewServer(t, redistest.WithAppendOnly())
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	// A slow create now and then keeps creates in flight across the stop.
	srv.InjectFault(subkit.Polar, 1000, subkittest.Delay(5*time.Millisecond).On(subkittest.OpCreate))
	policy := subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: 300 * time.Millisecond}
	clients := make([]*subkit.Client, 3)
	for i := range clients {
		c, err := srv.Client(subkit.WithRetryPolicy(policy), subkit.WithTimeout(10*time.Second),
			subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())), subkit.WithIdempotencyLease(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		clients[i] = c
	}
	const keys, callsPerKey = 60, 3
	type call struct {
		key string
		id  string
		err error
	}
	results := make([]call, keys*callsPerKey)
	var wg sync.WaitGroup
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		time.Sleep(150 * time.Millisecond)
		rdb.Stop()
		time.Sleep(300 * time.Millisecond)
		rdb.Start() // about a second: it waits until the clients are back
	}()
	for k := range keys {
		for j := range callsPerKey {
			i := k*callsPerKey + j
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(k*50) * time.Millisecond) // calls before, during and after the stop
				key := fmt.Sprintf("restart-%03d", k)
				s, err := clients[i%len(clients)].Subscriptions.CreateForCustomer(context.Background(),
					&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}, subkit.WithIdempotencyKey(key))
				results[i] = call{key: key, err: err}
				if s != nil {
					results[i].id = s.ID
				}
			}()
		}
	}
	wg.Wait()
	<-stopped
	byKey := map[string][]string{}
	for _, s := range srv.PolarSubscriptions() {
		var b struct {
			Metadata map[string]string `json:"metadata"`
		}
		if err := json.Unmarshal(s.Body, &b); err != nil {
			t.Fatal(err)
		}
		k := b.Metadata["subkit_idempotency_key"]
		byKey[k] = append(byKey[k], s.ID)
	}
	kinds := map[string]int{}
	for _, r := range results {
		if got := byKey[r.key]; len(got) > 1 {
			t.Errorf("key %s created %d times: %v", r.key, len(got), got)
		}
		switch {
		case r.err == nil:
			kinds["ok"]++
			if got := byKey[r.key]; len(got) != 1 || got[0] != r.id {
				t.Errorf("key %s: call returned %s, the server holds %v", r.key, r.id, got)
			}
		case errors.Is(r.err, subkit.ErrStoreUnavailable):
			kinds["store unavailable (definite)"]++
		case errors.Is(r.err, subkit.ErrOutcomeUnknown):
			kinds["unknown"]++
		default:
			kinds["other: "+chaos.ErrorKind(r.err)]++
		}
	}
	t.Logf("%d calls through a Redis restart: %v; %d keys created", len(results), kinds, len(byKey))
	if kinds["store unavailable (definite)"] == 0 {
		t.Errorf("no call met the stopped Redis: the test did not test anything: %v", kinds)
	}
	if kinds["ok"] == 0 {
		t.Errorf("no call succeeded: %v", kinds)
	}
}
