package subkitredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/chaos"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// The exactly-once chaos test in fleet mode (one create per key however
// calls overlap, look-ups that lag, a key that means one create): several
// Clients — processes, each with its own Redis connection — share one
// subkitredis store against one real redis-server; every key is created by
// several overlapping calls spread over the clients, some keys also by a
// rival call for another create; every request, create or look-up, draws a
// fault; and Polar's look-ups read a lagging replica. The account: per key,
// at most one subscription; every call that succeeded returned it; a rival
// gets ErrIdempotencyConflict or owns the key; at least 95% of calls
// succeed, at most 2% end unknown. The fleet also shares one Polar budget
// (subkitredis.NewLimiter) against the fake's fixed windows: no call fails
// on a 429.

const (
	fleetClients     = 4
	fleetCallsPerKey = 3
	fleetSettleTime  = 600 * time.Millisecond
	fleetReadLag     = 400 * time.Millisecond
	fleetWindowLimit = 200 // Polar's requests a second, the fleet's shared budget
)

// fleetTally is what a fleet run counted, per API.
type fleetTally struct {
	keys, calls, ok, unknown, definite, conflicts int
	duplicates, falseSuccesses                    int
	requests, limited                             int // limited: refused by the fake's own rate limit
	errorKinds                                    map[string]int
}

func (t fleetTally) String() string {
	return fmt.Sprintf("keys=%d calls=%d ok=%d unknown=%d definite=%d conflicts=%d duplicates=%d false_successes=%d requests=%d limited=%d",
		t.keys, t.calls, t.ok, t.unknown, t.definite, t.conflicts, t.duplicates, t.falseSuccesses, t.requests, t.limited)
}

// fleetCall is one call of the run: which key, which client, and whether it
// is the key's rival (the same key for another create).
type fleetCall struct {
	key    int
	client int
	rival  bool
}

type fleetResult struct {
	id  string
	err error
}

func TestExactlyOnceFleetChaos(t *testing.T) {
	seed := chaos.Seed(t)
	rdb := redistest.NewServer(t)
	t.Logf("fleet chaos seed %d (replay with SUBKIT_CHAOS_SEED=%d), %d clients sharing redis %s", seed, seed, fleetClients, rdb.Addr())
	keys := map[subkit.API]int{subkit.Polar: chaos.EnvInt(t, "SUBKIT_FLEET_KEYS", 120), subkit.Chargeflow: chaos.EnvInt(t, "SUBKIT_FLEET_KEYS", 120) / 2}
	var all fleetTally
	for ai, api := range []subkit.API{subkit.Polar, subkit.Chargeflow} {
		t.Run(string(api), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(200+ai)))
			tally := runFleetChaos(t, api, rdb, rng, keys[api])
			t.Logf("%s: %v", api, tally)
			t.Logf("%s: errors %v", api, chaos.Counts(tally.errorKinds))
			all.keys += tally.keys
			all.calls += tally.calls
			all.ok += tally.ok
			all.unknown += tally.unknown
			all.definite += tally.definite
			all.conflicts += tally.conflicts
			all.duplicates += tally.duplicates
			all.falseSuccesses += tally.falseSuccesses
			all.requests += tally.requests
			all.limited += tally.limited
		})
	}
	t.Logf("all: %v", all)
	if all.ok*100 < (all.calls-all.conflicts)*95 {
		t.Errorf("%d of %d calls (conflicts aside) succeeded, want at least 95%%", all.ok, all.calls-all.conflicts)
	}
	if all.unknown*100 > all.calls*2 {
		t.Errorf("%d of %d calls ended unknown, want at most 2%%", all.unknown, all.calls)
	}
}

// runFleetChaos runs the calls of n keys of api against a fresh fake and
// accounts for every key.
func runFleetChaos(t *testing.T, api subkit.API, rdb *redistest.Server, rng *rand.Rand, n int) fleetTally {
	t.Helper()
	srv := subkittest.NewServer(subkittest.WithReadLag(api, 0, fleetReadLag),
		subkittest.WithRateLimit(subkit.Polar, fleetWindowLimit, time.Second))
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{})
	rivalProduct := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Rival"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	for i := range n {
		srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: chaos.Dispute(i)})
		srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: chaos.Dispute(n + i)})
	}
	faults := onceFaults()
	total := 0
	for _, f := range faults {
		total += f.weight
	}
	for range n * fleetCallsPerKey * 20 {
		r := rng.IntN(total)
		for _, f := range faults {
			if r < f.weight {
				srv.InjectFault(api, 1, f.fault)
				break
			}
			r -= f.weight
		}
	}
	policy := subkit.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		SettleTime: fleetSettleTime, AttemptTimeout: onceAttemptTimeout}
	clients := make([]*subkit.Client, fleetClients)
	for i := range clients {
		process := rdb.NewClient() // each client its own connection to Redis, as a process would have
		c, err := srv.Client(subkit.WithRetryPolicy(policy), subkit.WithTimeout(20*time.Second),
			subkit.WithIdempotencyStore(subkitredis.NewStore(process)), subkit.WithIdempotencyLease(2*time.Second),
			subkit.WithRateLimiter(subkit.Polar, subkitredis.NewLimiter(process, "fleet-"+t.Name(), fleetWindowLimit, time.Second)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		clients[i] = c
	}
	keyName := func(k int) string { return fmt.Sprintf("fleet-%s-%04d", api, k) }
	create := func(c fleetCall) (string, error) {
		ctx := context.Background()
		opt := subkit.WithIdempotencyKey(keyName(c.key))
		if api == subkit.Polar {
			p := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}
			if c.rival {
				p.ProductID = rivalProduct
			}
			s, err := clients[c.client].Subscriptions.CreateForCustomer(ctx, p, opt)
			if err != nil {
				return "", err
			}
			return s.ID, nil
		}
		dispute := chaos.Dispute(c.key)
		if c.rival {
			dispute = chaos.Dispute(n + c.key)
		}
		s, err := clients[c.client].Subscriptions.CreateForDispute(ctx, dispute, &subkit.DisputeSubscriptionParams{
			SourceID: keyName(c.key), CreatedAt: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
			StartDate: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Frequency: subkit.FrequencyMonth, FrequencyCount: 1}, opt)
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}

	// Every key's calls start together, spread over the clients: overlap.
	var calls []fleetCall
	for k := range n {
		for j := range fleetCallsPerKey {
			calls = append(calls, fleetCall{key: k, client: (k + j) % fleetClients})
		}
		if k%10 == 0 {
			calls = append(calls, fleetCall{key: k, client: (k + 1) % fleetClients, rival: true})
		}
	}
	results := make([]fleetResult, len(calls))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for i, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := create(c)
			results[i] = fleetResult{id, err}
		}()
	}
	wg.Wait()
	awaitLateCommits(t, srv, api)

	// What the server created for each key, and for which create.
	reqs := srv.Requests(api)
	type made struct {
		id    string
		rival bool
	}
	byKey := map[string][]made{}
	limited := 0
	for _, r := range reqs {
		if r.Status == 429 && r.Fault == "" {
			limited++
		}
		if len(r.Created) == 0 {
			continue
		}
		key, rival := fleetKeyOf(t, api, r, rivalProduct, n)
		for _, id := range r.Created {
			byKey[key] = append(byKey[key], made{id, rival})
		}
	}
	tally := fleetTally{keys: n, calls: len(calls), requests: len(reqs), limited: limited, errorKinds: map[string]int{}}
	for k := range n {
		if got := byKey[keyName(k)]; len(got) > 1 {
			tally.duplicates++
			t.Errorf("key %s: %d subscriptions created: %v", keyName(k), len(got), got)
		}
	}
	for i, c := range calls {
		res := results[i]
		got := byKey[keyName(c.key)]
		switch {
		case res.err == nil:
			tally.ok++
			if len(got) != 1 || got[0].id != res.id || got[0].rival != c.rival {
				tally.falseSuccesses++
				t.Errorf("call %+v succeeded with %s; the server created %v for its key", c, res.id, got)
			}
		case errors.Is(res.err, subkit.ErrRateLimited):
			tally.definite++
			tally.errorKinds[chaos.ErrorKind(res.err)]++
			t.Errorf("call %+v failed on a 429: the fleet overran its shared budget: %v", c, res.err)
		case errors.Is(res.err, subkit.ErrIdempotencyConflict):
			tally.conflicts++
			if len(got) == 1 && got[0].rival == c.rival {
				t.Errorf("call %+v: conflict, but the key's subscription is its own create", c)
			}
		case errors.Is(res.err, subkit.ErrOutcomeUnknown):
			tally.unknown++
			tally.errorKinds[chaos.ErrorKind(res.err)]++
		default:
			// Definite: this call created nothing itself (another call of
			// the same create may have; the duplicate count covers both).
			tally.definite++
			tally.errorKinds[chaos.ErrorKind(res.err)]++
		}
	}
	return tally
}

// fleetKeyOf reads which key a create request was for, and whether it was
// the key's rival create.
func fleetKeyOf(t *testing.T, api subkit.API, r subkittest.Request, rivalProduct string, n int) (string, bool) {
	t.Helper()
	if api == subkit.Polar {
		var b struct {
			ProductID string            `json:"product_id"`
			Metadata  map[string]string `json:"metadata"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("a create without a JSON body: %v", err)
		}
		return b.Metadata["subkit_idempotency_key"], b.ProductID == rivalProduct
	}
	var b struct {
		SourceID string `json:"source_id"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatalf("a create without a JSON body: %v", err)
	}
	var k int
	_, _ = fmt.Sscanf(r.Path, "/public/2025-04-01/disputes/c4a05%019x/subscription", &k)
	return b.SourceID, k >= n
}

// awaitLateCommits waits for the server to finish the creates it applies
// after their caller gave up (CommitLate).
func awaitLateCommits(t *testing.T, srv *subkittest.Server, api subkit.API) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pending := 0
		for _, r := range srv.Requests(api) {
			if len(r.Fault) >= 11 && r.Fault[:11] == "commit late" && r.Status == 0 {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d late commits still pending", pending)
		}
	}
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
