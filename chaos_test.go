package subkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/chaos"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The chaos test: many creates from many goroutines against the fakes, with
// a random fault on every request, and an account of every call against what
// the server holds. It proves, for each API:
//
//   - a call that succeeded created exactly one subscription, the one it returned;
//   - a call that failed without ErrOutcomeUnknown created nothing (no false failure);
//   - no call created two subscriptions (no duplicate).
//
// The fault sequence is drawn from a seed, logged with t.Logf; set
// SUBKIT_CHAOS_SEED to replay it (SUBKIT_CHAOS_WORKERS=1 also replays the
// order in which calls meet the faults), SUBKIT_CHAOS_CALLS to run more calls.
//
// Two switches make the fake as unkind as the real servers, off by default
// (see chaosServerOptions): SUBKIT_CHAOS_LAG=3s keeps each create invisible
// to look-ups for a lag drawn from 0–3 s (a read replica; "1s-3s" for a
// range), SUBKIT_CHAOS_FIXED_WINDOW=1 turns on Polar's rate limiter at its
// production 500 requests a minute ("100/1m" or "10/1s" for others).

const (
	chaosTimeout    = 200 * time.Millisecond // WithTimeout of every chaos client
	chaosSlowAnswer = 400 * time.Millisecond // a slow answer, past the timeout
)

// chaosFault is one kind of fault with its weight in the draw.
type chaosFault struct {
	weight int
	fault  subkittest.Fault
}

// chaosFaults is every kind of fault a request can meet.
//
// With lateCommits, a create may also be applied only after the client has
// given up (CommitLate past the timeout). Reconcile's guarantee holds only
// for creates the server finishes within SettleTime, so that mode leaves
// them out.
func chaosFaults(lateCommits bool) []chaosFault {
	f := []chaosFault{
		{3, subkittest.Delay(0)},
		{1, subkittest.Delay(20 * time.Millisecond)},
		{2, subkittest.RateLimited("0")},
		{2, subkittest.RateLimited("")},
		{1, subkittest.Respond(503, `{"message":"Service Unavailable"}`)},
		{1, subkittest.RespondAfterHandling(500, `{"message":"Internal Server Error"}`)},
		{1, subkittest.CloseBeforeHandling()},
		{1, subkittest.CloseAfterHandling()},
		{1, subkittest.Delay(chaosSlowAnswer)},
		{1, subkittest.MalformedBody()},
		{1, subkittest.RateLimited("3600")}, // past MaxRetryAfter: the call ends at once
		{1, subkittest.Respond(409, `{"message":"Conflict"}`)},
	}
	if lateCommits {
		f = append(f, chaosFault{1, subkittest.CommitLate(chaosSlowAnswer)})
	}
	return f
}

// chaosAPI is how the chaos test drives one API: a create that carries a
// unique marker, and how to read the marker back from a recorded request.
type chaosAPI struct {
	api    subkit.API
	create func(ctx context.Context, c *subkit.Client, i int, marker string) (id string, err error)
	marker func(r subkittest.Request) string // "" for a request without one (a look-up)
}

func chaosAPIs() []chaosAPI {
	return []chaosAPI{
		{
			api: subkit.ChatDash,
			create: func(ctx context.Context, c *subkit.Client, _ int, marker string) (string, error) {
				s, err := c.Subscriptions.CreateConnect(ctx, "acct_chaos", &subkit.ConnectSubscriptionParams{
					ClientID: marker, AgentIDs: []string{"64abc123def456789012345b"},
					SelectedProduct: subkit.ConnectProduct{ProductID: "prod_chaos", StartDate: time.Unix(1700000000, 0),
						Pricing: subkit.ConnectPricing{Metrics: subkit.MetricMinutes}},
				})
				if err != nil {
					return "", err
				}
				return s.ID, nil
			},
			marker: func(r subkittest.Request) string {
				var b struct {
					Data struct {
						ClientID string `json:"clientId"`
					} `json:"data"`
				}
				_ = json.Unmarshal(r.Body, &b)
				return b.Data.ClientID
			},
		},
		{
			api: subkit.Chargeflow,
			create: func(ctx context.Context, c *subkit.Client, i int, marker string) (string, error) {
				s, err := c.Subscriptions.CreateForDispute(ctx, chaos.Dispute(i), &subkit.DisputeSubscriptionParams{
					SourceID: marker, CreatedAt: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
					StartDate: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), Frequency: subkit.FrequencyMonth, FrequencyCount: 1,
				})
				if err != nil {
					return "", err
				}
				return s.ID, nil
			},
			marker: func(r subkittest.Request) string {
				var b struct {
					SourceID string `json:"source_id"`
				}
				_ = json.Unmarshal(r.Body, &b)
				return b.SourceID
			},
		},
		{
			api: subkit.Polar,
			create: func(ctx context.Context, c *subkit.Client, i int, marker string) (string, error) {
				md := subkit.Metadata{"chaos_call": marker}
				var (
					s   *subkit.Subscription
					err error
				)
				if i%2 == 0 {
					s, err = c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
						ProductID: productID, CustomerID: customerID, Metadata: md})
				} else {
					s, err = c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
						ProductID: productID, ExternalCustomerID: "usr_" + marker, Metadata: md})
				}
				if err != nil {
					return "", err
				}
				return s.ID, nil
			},
			marker: func(r subkittest.Request) string {
				var b struct {
					Metadata map[string]any `json:"metadata"`
				}
				_ = json.Unmarshal(r.Body, &b)
				m, _ := b.Metadata["chaos_call"].(string)
				return m
			},
		},
	}
}

// chaosTally is what a run counted.
type chaosTally struct {
	calls, ok, unknown, definite  int
	duplicates, falseFailures     int
	lostSuccesses, unknownApplied int // successes without their subscription; unknowns that had happened
	requests                      int
	limited                       int // requests the server's own rate limit refused (not a RateLimited fault)
	rateLimitedCalls              int // calls that ended with ErrRateLimited
	errorKinds                    map[string]int
	faults                        map[string]int
}

func (t chaosTally) String() string {
	return fmt.Sprintf("calls=%d ok=%d unknown=%d (applied %d) definite=%d duplicates=%d false_failures=%d lost_successes=%d requests=%d limited=%d rate_limited_calls=%d",
		t.calls, t.ok, t.unknown, t.unknownApplied, t.definite, t.duplicates, t.falseFailures, t.lostSuccesses, t.requests,
		t.limited, t.rateLimitedCalls)
}

// chaosServerOptions are the fake's options for a chaos run on api: every
// well-formed ID names an object (each call names its own), and what the
// switches SUBKIT_CHAOS_LAG and SUBKIT_CHAOS_FIXED_WINDOW turn on.
func chaosServerOptions(t *testing.T, api subkit.API) []subkittest.ServerOption {
	t.Helper()
	opts := []subkittest.ServerOption{subkittest.WithImplicitResources()}
	if v := os.Getenv("SUBKIT_CHAOS_LAG"); v != "" {
		lo, hi, ok := strings.Cut(v, "-")
		if !ok {
			lo, hi = "0s", v
		}
		minLag, err1 := time.ParseDuration(lo)
		maxLag, err2 := time.ParseDuration(hi)
		if err1 != nil || err2 != nil || minLag < 0 || maxLag < minLag {
			t.Fatalf("SUBKIT_CHAOS_LAG=%q: want a duration (3s) or a range (1s-3s)", v)
		}
		opts = append(opts, subkittest.WithReadLag(api, minLag, maxLag))
		t.Logf("%s: read lag %s–%s per create", api, minLag, maxLag)
	}
	if v := os.Getenv("SUBKIT_CHAOS_FIXED_WINDOW"); v != "" && api == subkit.Polar {
		limit, window := 500, time.Minute // Polar's production default group
		if v != "1" {
			n, d, ok := strings.Cut(v, "/")
			var err1, err2 error
			limit, err1 = strconv.Atoi(n)
			window, err2 = time.ParseDuration(d)
			if !ok || err1 != nil || err2 != nil || limit < 1 || window <= 0 {
				t.Fatalf("SUBKIT_CHAOS_FIXED_WINDOW=%q: want 1 or LIMIT/WINDOW (100/1m)", v)
			}
		}
		opts = append(opts, subkittest.WithRateLimit(subkit.Polar, limit, window))
		t.Logf("polar: rate limit %d per %s fixed window", limit, window)
	}
	return opts
}

// TestChaosNeverDuplicatesNorHidesACreate runs the chaos for each API under
// the default retry policy (millisecond backoffs) and, for the two APIs a
// create can be looked up on, under Reconcile.
func TestChaosNeverDuplicatesNorHidesACreate(t *testing.T) {
	seed := chaos.Seed(t)
	calls := chaos.EnvInt(t, "SUBKIT_CHAOS_CALLS", 300)
	workers := chaos.EnvInt(t, "SUBKIT_CHAOS_WORKERS", 8)
	t.Logf("chaos seed %d (replay with SUBKIT_CHAOS_SEED=%d), %d calls per API from %d goroutines", seed, seed, calls, workers)
	modes := []struct {
		name   string
		policy subkit.RetryPolicy
		apis   []subkit.API
	}{
		{"default policy", subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond},
			[]subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar}},
		{"reconcile", subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			Reconcile: true, SettleTime: 5 * time.Millisecond}, []subkit.API{subkit.Chargeflow, subkit.Polar}},
	}
	for mi, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			for ai, ca := range chaosAPIs() {
				if !containsAPI(mode.apis, ca.api) {
					continue
				}
				t.Run(string(ca.api), func(t *testing.T) {
					t.Parallel()
					// One stream per mode and API, so that each replays alone.
					rng := rand.New(rand.NewPCG(seed, uint64(mi*10+ai)))
					plan := chaosPlan{policy: mode.policy, timeout: chaosTimeout, faults: chaosFaults(!mode.policy.Reconcile)}
					tally := runChaos(t, ca, plan, rng, calls, workers)
					t.Logf("%s, %s: %v", ca.api, mode.name, tally)
					t.Logf("%s, %s: errors %v", ca.api, mode.name, chaos.Counts(tally.errorKinds))
					t.Logf("%s, %s: faults played %v", ca.api, mode.name, chaos.Counts(tally.faults))
					if tally.ok == 0 || tally.unknown == 0 || tally.definite == 0 {
						t.Errorf("the run did not reach every outcome (ok, unknown, definite): %v", tally)
					}
				})
			}
		})
	}
}

func containsAPI(list []subkit.API, api subkit.API) bool {
	for _, a := range list {
		if a == api {
			return true
		}
	}
	return false
}

// chaosPlan is how a chaos run calls and what its requests meet.
type chaosPlan struct {
	policy  subkit.RetryPolicy
	timeout time.Duration // WithTimeout of every call
	faults  []chaosFault  // one is drawn, by weight, for every request
	// server and client are further options of the fake and of the client
	// (read lag, a fixed-window limit and the pacing that matches it).
	server []subkittest.ServerOption
	client []subkit.Option
}

// runChaos makes calls creates against a fresh fake whose every request
// meets a fault drawn from rng, then checks each call against the server.
func runChaos(t *testing.T, ca chaosAPI, plan chaosPlan, rng *rand.Rand, calls, workers int) chaosTally {
	t.Helper()
	srv := subkittest.NewServer(append(plan.server, chaosServerOptions(t, ca.api)...)...)
	t.Cleanup(srv.Close)
	faults := plan.faults
	total := 0
	for _, f := range faults {
		total += f.weight
	}
	// Enough faults for every attempt and look-up any call can make.
	for range calls * 16 {
		n := rng.IntN(total)
		for _, f := range faults {
			if n < f.weight {
				srv.InjectFault(ca.api, 1, f.fault)
				break
			}
			n -= f.weight
		}
	}
	c, err := srv.Client(append([]subkit.Option{subkit.WithRetryPolicy(plan.policy), subkit.WithTimeout(plan.timeout)}, plan.client...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)

	type result struct {
		id  string
		err error
	}
	results := make([]result, calls)
	markers := make([]string, calls)
	for i := range markers {
		markers[i] = fmt.Sprintf("chaos_%s_%04d", ca.api, i)
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id, err := ca.create(context.Background(), c, i, markers[i])
				results[i] = result{id, err}
			}
		}()
	}
	for i := range calls {
		next <- i
	}
	close(next)
	wg.Wait()
	// A late commit lands after its caller gave up: wait for the server to
	// finish them all (it records the answer it wrote to nobody).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		pending := 0
		for _, r := range srv.Requests(ca.api) {
			if strings.HasPrefix(r.Fault, "commit late") && r.Status == 0 {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d late commits still pending", pending)
		}
	}

	// What the server says each call created, from every request it
	// received (so that a subscription a later create replaced still
	// counts), checked against what the server holds.
	reqs := srv.Requests(ca.api)
	created := map[string][]string{}
	tally := chaosTally{calls: calls, requests: len(reqs), errorKinds: map[string]int{}, faults: map[string]int{}}
	totalCreated := 0
	for _, r := range reqs {
		f := r.Fault
		if f == "" {
			f = "(none left)"
		}
		tally.faults[f]++
		if r.Status == 429 && !strings.HasPrefix(r.Fault, "rate limited") {
			tally.limited++ // the server's own limiter, under a fault that handled the request or none
		}
		if len(r.Created) == 0 {
			continue
		}
		m := ca.marker(r)
		if m == "" {
			t.Errorf("request %s %s created %v without a marker", r.Method, r.Path, r.Created)
			continue
		}
		created[m] = append(created[m], r.Created...)
		totalCreated += len(r.Created)
	}
	if held := len(itHeldIDs(srv, ca.api)); held != totalCreated {
		t.Errorf("the server holds %d subscriptions, its requests created %d", held, totalCreated)
	}
	for i, res := range results {
		if errors.Is(res.err, subkit.ErrRateLimited) {
			tally.rateLimitedCalls++
		}
		subs := created[markers[i]]
		if len(subs) > 1 {
			tally.duplicates++
			t.Errorf("call %d (%s) created %d subscriptions: %v (error: %v)", i, markers[i], len(subs), subs, res.err)
		}
		switch {
		case res.err == nil:
			tally.ok++
			if len(subs) == 0 || subs[0] != res.id {
				tally.lostSuccesses++
				t.Errorf("call %d (%s) succeeded with %s, the server created %v", i, markers[i], res.id, subs)
			}
		case errors.Is(res.err, subkit.ErrOutcomeUnknown):
			tally.unknown++
			if len(subs) > 0 {
				tally.unknownApplied++
			}
			tally.errorKinds[chaos.ErrorKind(res.err)]++
		default:
			tally.definite++
			tally.errorKinds[chaos.ErrorKind(res.err)]++
			if len(subs) > 0 {
				tally.falseFailures++
				t.Errorf("call %d (%s) failed definitely but created %v: %v", i, markers[i], subs, res.err)
			}
		}
	}
	return tally
}
