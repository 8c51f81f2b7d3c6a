package subkit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/chaos"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The exactly-once chaos test: keyed creates on the two APIs a create can be
// found again on, with random faults on creates and look-ups alike, late
// commits included, run once with Reconcile and once without it. It reuses
// the chaos machinery of chaos_test.go (markers, the account of
// every call against what the server holds), and adds the bounds the
// protocol promises: no duplicate, no false failure, no false success, at
// least 95% of calls succeed, at most 2% end unknown.
//
// The fake is as hard as Polar, scaled down in time: its look-ups read a
// replica that lags up to onceReadLag behind each create (SettleTime is to
// the lag what the default 6 s is to Polar's 5), and Polar counts requests
// in fixed windows of onceWindowLimit a second, which the client is paced
// to, as Polar's own hosts are by default.

const (
	onceAttemptTimeout = chaos.OnceAttemptTimeout
	onceSettleTime     = 400 * time.Millisecond
	onceReadLag        = 300 * time.Millisecond
	onceWindowLimit    = 200
)

// onceFaults is what a request meets: internal/chaos's exactly-once faults
// (mostly nothing, else a fault on whichever request comes), whose times
// are this file's.
func onceFaults() []chaosFault {
	var f []chaosFault
	for _, w := range chaos.OnceFaults() {
		f = append(f, chaosFault{w.Weight, w.Fault})
	}
	return f
}

func TestExactlyOnceChaos(t *testing.T) {
	seed := chaos.Seed(t)
	workers := chaos.EnvInt(t, "SUBKIT_CHAOS_WORKERS", 8)
	calls := map[subkit.API]int{subkit.Polar: 400, subkit.Chargeflow: 200} // Polar alternates its two shapes
	t.Logf("exactly-once chaos seed %d (replay with SUBKIT_CHAOS_SEED=%d), %d goroutines", seed, seed, workers)

	for mi, reconcile := range []bool{true, false} {
		name := "Reconcile on"
		if !reconcile {
			name = "Reconcile off"
		}
		t.Run(name, func(t *testing.T) {
			plan := chaosPlan{
				policy: subkit.RetryPolicy{MaxAttempts: 5, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
					Reconcile: reconcile, SettleTime: onceSettleTime, AttemptTimeout: onceAttemptTimeout},
				timeout: 20 * time.Second, // generous: a loaded machine must not turn slowness into unknowns
				faults:  onceFaults(),
				server: []subkittest.ServerOption{subkittest.WithReadLag(subkit.Polar, 0, onceReadLag),
					subkittest.WithReadLag(subkit.Chargeflow, 0, onceReadLag),
					subkittest.WithRateLimit(subkit.Polar, onceWindowLimit, time.Second)},
				// Paced to three quarters of the window: a request held up on
				// its way by up to a third of a second (the race detector on
				// two busy cores) still lands in a window with room.
				client: []subkit.Option{subkit.WithRateLimiter(subkit.Polar, subkit.NewLimiter(onceWindowLimit*3/4, time.Second))},
			}
			var all chaosTally
			for ai, ca := range chaosAPIs() {
				n, ok := calls[ca.api]
				if !ok {
					continue
				}
				rng := rand.New(rand.NewPCG(seed, uint64(100+mi*10+ai)))
				tally := runChaos(t, ca, plan, rng, n, workers)
				t.Logf("%s, %s: %v", ca.api, name, tally)
				t.Logf("%s, %s: errors %v", ca.api, name, chaos.Counts(tally.errorKinds))
				all.calls += tally.calls
				all.ok += tally.ok
				all.unknown += tally.unknown
				all.unknownApplied += tally.unknownApplied
				all.definite += tally.definite
				all.duplicates += tally.duplicates
				all.falseFailures += tally.falseFailures
				all.lostSuccesses += tally.lostSuccesses
				all.requests += tally.requests
				all.limited += tally.limited
				all.rateLimitedCalls += tally.rateLimitedCalls
			}
			t.Logf("all, %s: %v", name, all)
			// runChaos has already failed the test for each duplicate, false
			// failure and false success; these are the protocol's bounds.
			if all.calls < 600 {
				t.Errorf("only %d calls", all.calls)
			}
			if reconcile {
				if all.ok*100 < all.calls*95 {
					t.Errorf("%d of %d calls succeeded, want at least 95%%", all.ok, all.calls)
				}
				if all.unknown*100 > all.calls*2 {
					t.Errorf("%d of %d calls ended unknown, want at most 2%%", all.unknown, all.calls)
				}
			} else if all.unknown == 0 {
				t.Errorf("without Reconcile the faults must leave some calls unknown: %v", all)
			}
		})
	}
}
