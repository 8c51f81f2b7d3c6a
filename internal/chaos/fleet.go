package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The exactly-once chaos run in fleet mode (design rules 10–12, 14), on any
// idempotency store: FleetClients Clients — processes, each with its own
// instance of the store — share one backend; every key is created by
// FleetCallsPerKey overlapping calls spread over the clients, every tenth
// key also by a rival call for another create; every request, create or
// look-up, draws a fault; and look-ups read a replica lagging up to
// FleetReadLag behind each create, against a SettleTime of
// FleetSettleTime. The account: per key at most one subscription; every
// call that succeeded returned it; a rival gets ErrIdempotencyConflict or
// owns the key; at least 95% of calls (rivals aside) succeed, at most 2%
// end unknown; no call fails on the fake's own 429, the fleet sharing one
// budget of FleetWindowLimit Polar requests a second.
const (
	FleetClients     = 4
	FleetCallsPerKey = 3
	FleetSettleTime  = 600 * time.Millisecond
	FleetReadLag     = 400 * time.Millisecond
	FleetWindowLimit = 200
	// FleetPace is what the clients' shared limiter lets through: three
	// quarters of the fake's window, so that a request held up on its way
	// by up to a third of a second (the race detector on two busy cores)
	// still lands in a window with room. The limiter's own margin, a
	// sixtieth of the window, is ~17 ms at this scale: too thin for that.
	FleetPace = FleetWindowLimit * 3 / 4
)

// Fleet is what a fleet run needs of the store under test.
type Fleet struct {
	// Store returns client i's store: a new instance (its own connections,
	// as a process would have) on the backend every client of the run
	// shares. It is called once per client and API, with the API's subtest.
	Store func(t *testing.T, i int) subkit.IdempotencyStore
	// Limiter, if set, returns client i's Polar limiter, sharing the budget
	// name (events per per) with every client that asks for name
	// (subkitredis.NewLimiter). Without it the clients share one
	// subkit.NewLimiter: a store's run need not test a fleet's budget.
	Limiter func(t *testing.T, i int, name string, events int, per time.Duration) subkit.Limiter
	// Keys is the number of Polar keys, half as many for Chargeflow; 0 means
	// SUBKIT_FLEET_KEYS, else 120.
	Keys int
	// Cut, if set, cuts client i's link to the store (down) or restores it:
	// the run then cuts a random client's link for a while, again and
	// again, and once for longer than the lease, while the calls run.
	Cut func(i int, down bool)
}

// FleetSkews are the clients' clocks against the machine's: every client's
// is off, by up to FleetSkews' largest, as a fleet's hosts may be. The SDK
// compares no client's clock with another's, so none of it may matter.
var FleetSkews = [FleetClients]time.Duration{-3 * time.Second, -time.Second, time.Second, 3 * time.Second}

// fleetLease is each client's lease on a key.
const fleetLease = 2 * time.Second

// FleetTally is what a fleet run counted.
type FleetTally struct {
	Keys, Calls, OK, Unknown, Definite, Conflicts int
	Duplicates, FalseSuccesses                    int
	Requests, Limited                             int // Limited: refused by the fake's own rate limit
	ErrorKinds                                    map[string]int
}

func (t FleetTally) String() string {
	return fmt.Sprintf("keys=%d calls=%d ok=%d unknown=%d definite=%d conflicts=%d duplicates=%d false_successes=%d requests=%d limited=%d",
		t.Keys, t.Calls, t.OK, t.Unknown, t.Definite, t.Conflicts, t.Duplicates, t.FalseSuccesses, t.Requests, t.Limited)
}

func (t *FleetTally) add(o FleetTally) {
	t.Keys += o.Keys
	t.Calls += o.Calls
	t.OK += o.OK
	t.Unknown += o.Unknown
	t.Definite += o.Definite
	t.Conflicts += o.Conflicts
	t.Duplicates += o.Duplicates
	t.FalseSuccesses += o.FalseSuccesses
	t.Requests += o.Requests
	t.Limited += o.Limited
}

// RunFleet runs the fleet on Polar and Chargeflow, each against a fresh
// fake, logs the tallies and the seed (SUBKIT_CHAOS_SEED replays it), fails
// t on any duplicate, false success, 429 or missed bound, and returns the
// tally of both APIs.
func RunFleet(t *testing.T, f Fleet) FleetTally {
	t.Helper()
	seed := Seed(t)
	n := f.Keys
	if n == 0 {
		n = EnvInt(t, "SUBKIT_FLEET_KEYS", 120)
	}
	t.Logf("fleet chaos seed %d (replay with SUBKIT_CHAOS_SEED=%d), %d clients", seed, seed, FleetClients)
	keys := map[subkit.API]int{subkit.Polar: n, subkit.Chargeflow: max(1, n/2)}
	var all FleetTally
	for ai, api := range []subkit.API{subkit.Polar, subkit.Chargeflow} {
		t.Run(string(api), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(200+ai)))
			r := &fleetRun{t: t, f: f, api: api, n: keys[api]}
			tally := r.run(rng)
			t.Logf("%s: %v", api, tally)
			t.Logf("%s: errors %v", api, Counts(tally.ErrorKinds))
			all.add(tally)
		})
	}
	t.Logf("all: %v", all)
	if all.OK*100 < (all.Calls-all.Conflicts)*95 {
		t.Errorf("%d of %d calls (conflicts aside) succeeded, want at least 95%%", all.OK, all.Calls-all.Conflicts)
	}
	if all.Unknown*100 > all.Calls*2 {
		t.Errorf("%d of %d calls ended unknown, want at most 2%%", all.Unknown, all.Calls)
	}
	return all
}

// fleetRun is one API's run.
type fleetRun struct {
	t            *testing.T
	f            Fleet
	api          subkit.API
	n            int
	srv          *subkittest.Server
	product      string
	rivalProduct string
	customer     string
	clients      []*subkit.Client
	cuts         atomic.Int64 // links cut and restored
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

// run makes the calls of n keys against a fresh fake and accounts for
// every key.
func (r *fleetRun) run(rng *rand.Rand) FleetTally {
	t := r.t
	r.srv = subkittest.NewServer(subkittest.WithReadLag(r.api, 0, FleetReadLag),
		subkittest.WithRateLimit(subkit.Polar, FleetWindowLimit, time.Second))
	t.Cleanup(r.srv.Close)
	r.product = r.srv.AddPolarProduct(subkittest.PolarProduct{})
	r.rivalProduct = r.srv.AddPolarProduct(subkittest.PolarProduct{Name: "Rival"})
	r.customer = r.srv.AddPolarCustomer(subkittest.PolarCustomer{})
	for i := range r.n {
		r.srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: Dispute(i)})
		r.srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: Dispute(r.n + i)})
	}
	InjectFaults(r.srv, r.api, rng, OnceFaults(), r.n*FleetCallsPerKey*20)
	r.makeClients()

	// Every key's calls start together, spread over the clients: overlap.
	var calls []fleetCall
	for k := range r.n {
		for j := range FleetCallsPerKey {
			calls = append(calls, fleetCall{key: k, client: (k + j) % FleetClients})
		}
		if k%10 == 0 {
			calls = append(calls, fleetCall{key: k, client: (k + 1) % FleetClients, rival: true})
		}
	}
	results := make([]fleetResult, len(calls))
	stopCuts := r.cutLinks(rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
	defer stopCuts()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for i, c := range calls {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id, err := r.create(c)
			results[i] = fleetResult{id, err}
		}()
	}
	wg.Wait()
	stopCuts()
	if r.f.Cut != nil {
		t.Logf("%s: %d links cut while the calls ran (the first past the lease); clocks off by %v", r.api, r.cuts.Load(), FleetSkews)
	}
	AwaitLateCommits(t, r.srv, r.api)
	return r.account(calls, results)
}

// cutLinks, when the store's links can be cut, cuts a random client's link
// for 50–150 ms every 600–1200 ms until stopped, and the first time for
// longer than the lease, so that a holder loses its lease mid-create. The
// returned function stops it and restores every link; it may be called
// more than once.
func (r *fleetRun) cutLinks(rng *rand.Rand) (stop func()) {
	if r.f.Cut == nil {
		return func() {}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select { // the first cut comes once the calls are under way
		case <-quit:
			return
		case <-time.After(200 * time.Millisecond):
		}
		for n := 0; ; n++ {
			i := rng.IntN(FleetClients)
			down := time.Duration(50+rng.IntN(100)) * time.Millisecond
			if n == 0 {
				down = fleetLease + 200*time.Millisecond
			}
			r.f.Cut(i, true)
			select {
			case <-quit:
				r.f.Cut(i, false)
				return
			case <-time.After(down):
			}
			r.f.Cut(i, false)
			r.cuts.Add(1)
			select {
			case <-quit:
				return
			case <-time.After(time.Duration(600+rng.IntN(600)) * time.Millisecond):
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
		})
	}
}

// makeClients makes the run's clients, each with its own store instance
// and the fleet's Polar budget.
func (r *fleetRun) makeClients() {
	t := r.t
	policy := subkit.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		SettleTime: FleetSettleTime, AttemptTimeout: OnceAttemptTimeout}
	var shared subkit.Limiter = subkit.NewLimiter(FleetPace, time.Second)
	r.clients = make([]*subkit.Client, FleetClients)
	for i := range r.clients {
		limiter := shared
		if r.f.Limiter != nil {
			limiter = r.f.Limiter(t, i, "fleet-"+t.Name(), FleetPace, time.Second)
		}
		skew := FleetSkews[i]
		c, err := r.srv.Client(subkit.WithRetryPolicy(policy), subkit.WithTimeout(20*time.Second),
			subkit.WithIdempotencyStore(r.f.Store(t, i)), subkit.WithIdempotencyLease(fleetLease),
			subkit.WithRateLimiter(subkit.Polar, limiter), subkit.WithClock(func() time.Time { return time.Now().Add(skew) }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		r.clients[i] = c
	}
}

func (r *fleetRun) keyName(k int) string { return fmt.Sprintf("fleet-%s-%04d", r.api, k) }

// create makes call c and returns the ID of the subscription it returned.
func (r *fleetRun) create(c fleetCall) (string, error) {
	ctx := context.Background()
	opt := subkit.WithIdempotencyKey(r.keyName(c.key))
	if r.api == subkit.Polar {
		p := &subkit.CustomerSubscriptionParams{ProductID: r.product, CustomerID: r.customer}
		if c.rival {
			p.ProductID = r.rivalProduct
		}
		s, err := r.clients[c.client].Subscriptions.CreateForCustomer(ctx, p, opt)
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}
	dispute := Dispute(c.key)
	if c.rival {
		dispute = Dispute(r.n + c.key)
	}
	s, err := r.clients[c.client].Subscriptions.CreateForDispute(ctx, dispute, &subkit.DisputeSubscriptionParams{
		SourceID: r.keyName(c.key), CreatedAt: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		StartDate: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Frequency: subkit.FrequencyMonth, FrequencyCount: 1}, opt)
	if err != nil {
		return "", err
	}
	return s.ID, nil
}

// made is a subscription the server created, and whether for a rival.
type made struct {
	id    string
	rival bool
}

// account checks every call against what the server created for its key.
func (r *fleetRun) account(calls []fleetCall, results []fleetResult) FleetTally {
	t := r.t
	reqs := r.srv.Requests(r.api)
	byKey := map[string][]made{}
	limited := 0
	for _, q := range reqs {
		if q.Status == 429 && q.Fault == "" {
			limited++
		}
		if len(q.Created) == 0 {
			continue
		}
		key, rival := r.keyOf(q)
		for _, id := range q.Created {
			byKey[key] = append(byKey[key], made{id, rival})
		}
	}
	tally := FleetTally{Keys: r.n, Calls: len(calls), Requests: len(reqs), Limited: limited, ErrorKinds: map[string]int{}}
	if limited > 0 {
		t.Errorf("%d requests drew the fake's own 429: the fleet overran its shared budget", limited)
	}
	for k := range r.n {
		if got := byKey[r.keyName(k)]; len(got) > 1 {
			tally.Duplicates++
			t.Errorf("key %s: %d subscriptions created: %v", r.keyName(k), len(got), got)
		}
	}
	for i, c := range calls {
		res := results[i]
		got := byKey[r.keyName(c.key)]
		switch {
		case res.err == nil:
			tally.OK++
			if len(got) != 1 || got[0].id != res.id || got[0].rival != c.rival {
				tally.FalseSuccesses++
				t.Errorf("call %+v succeeded with %s; the server created %v for its key", c, res.id, got)
			}
		case errors.Is(res.err, subkit.ErrRateLimited):
			// A 429 of the faults (Retry-After past what the call may wait,
			// or too many in a row) is definite; one of the fake's own limit
			// is the fleet overrunning its budget, counted in Limited.
			tally.Definite++
			tally.ErrorKinds[ErrorKind(res.err)]++
		case errors.Is(res.err, subkit.ErrIdempotencyConflict):
			tally.Conflicts++
			if len(got) == 1 && got[0].rival == c.rival {
				t.Errorf("call %+v: conflict, but the key's subscription is its own create", c)
			}
		case errors.Is(res.err, subkit.ErrOutcomeUnknown):
			tally.Unknown++
			tally.ErrorKinds[ErrorKind(res.err)]++
		default:
			// Definite: this call created nothing itself (another call of
			// the same create may have; the duplicate count covers both).
			tally.Definite++
			tally.ErrorKinds[ErrorKind(res.err)]++
		}
	}
	return tally
}

// keyOf reads which key a create request was for, and whether it was the
// key's rival create.
func (r *fleetRun) keyOf(q subkittest.Request) (string, bool) {
	t := r.t
	t.Helper()
	if r.api == subkit.Polar {
		var b struct {
			ProductID string            `json:"product_id"`
			Metadata  map[string]string `json:"metadata"`
		}
		if err := json.Unmarshal(q.Body, &b); err != nil {
			t.Fatalf("a create without a JSON body: %v", err)
		}
		return b.Metadata["subkit_idempotency_key"], b.ProductID == r.rivalProduct
	}
	var b struct {
		SourceID string `json:"source_id"`
	}
	if err := json.Unmarshal(q.Body, &b); err != nil {
		t.Fatalf("a create without a JSON body: %v", err)
	}
	var k int
	_, _ = fmt.Sscanf(q.Path, "/public/2025-04-01/disputes/c4a05%019x/subscription", &k)
	return b.SourceID, k >= r.n
}

// AwaitLateCommits waits for the server to finish the creates it applies
// after their caller gave up (CommitLate).
func AwaitLateCommits(t *testing.T, srv *subkittest.Server, api subkit.API) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pending := 0
		for _, r := range srv.Requests(api) {
			if strings.HasPrefix(r.Fault, "commit late") && r.Status == 0 {
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
