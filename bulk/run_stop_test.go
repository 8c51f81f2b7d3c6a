package bulk_test

// Tests of run.go: how a run stops (StopGrace, Interruptible limiters), and
// paced waits that no deadline on a whole call cuts short.

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// pacedForRuns is how a client for a paced run is made: no deadline on a
// whole call, one on each request (see Pacing in the package documentation).
func pacedForRuns(l subkit.Limiter) []subkit.Option {
	return []subkit.Option{subkit.WithRateLimiter(subkit.Polar, l), subkit.WithTimeout(0),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
			SettleTime: 200 * time.Millisecond, AttemptTimeout: 10 * time.Second})}
}

// A run stopped while its workers wait for a turn that will not come in
// the test's lifetime ends: with Interruptible the waits end with the run;
// without it, after StopGrace. Either way their items are NotAttempted,
// not failed, and the creates let through finished.
func TestRunStopEndsTheWaitsForATurn(t *testing.T) {
	const n = 40
	for _, interruptible := range []bool{true, false} {
		f := newPolarFake(t, n)
		// The page's look-up and ten creates get a turn; nothing else ever
		// does. (A new fake: no earlier run, so no second look-up.)
		var l subkit.Limiter = &stingyLimiter{n: 11}
		opts := bulk.Options{Concurrency: 8, Total: n, StoreRemembersEarlierRuns: true}
		if interruptible {
			l = bulk.Interruptible(l)
		} else {
			opts.StopGrace = 50 * time.Millisecond
		}
		c := f.client(t, pacedForRuns(l)...)
		ctx, cancel := context.WithCancel(context.Background())
		var last bulk.Progress
		opts.Progress = func(p bulk.Progress) { last = p }
		got := map[int]bulk.Result{}
		for r := range bulk.Run(ctx, c, f.items(0, n), opts) {
			got[r.Index] = r
			if len(got) == 10 {
				cancel() // the other workers wait for a turn
			}
		}
		cancel()

		require.Len(t, got, n)
		assert.Equal(t, map[bulk.Outcome]int{bulk.Created: 10, bulk.NotAttempted: n - 10}, countOutcomes(got), "interruptible %t", interruptible)
		for _, r := range got {
			if r.Outcome == bulk.NotAttempted {
				assert.ErrorIs(t, r.Err, bulk.ErrNotAttempted)
				assert.ErrorIs(t, r.Err, context.Canceled)
			}
		}
		assert.Len(t, f.PolarSubscriptions(), 10)
		assert.True(t, last.Final)
		assert.Equal(t, 10, last.Done, "items not attempted are not done")
		assert.Equal(t, n-10, last.Counts[bulk.NotAttempted])
	}
}

// A create whose request is on its way when the run stops gets StopGrace,
// then is cut short and reported Unknown: it was applied, and a rerun
// replays it.
func TestRunStopGraceCutsACreateInFlight(t *testing.T) {
	f := newPolarFake(t, 1)
	f.InjectFault(subkit.Polar, 1, subkittest.Delay(time.Hour).On(subkittest.OpCreate)) // applied, answered in an hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for len(f.PolarSubscriptions()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	got := run(t, ctx, f.client(t), f.items(0, 1), bulk.Options{StopGrace: 100 * time.Millisecond})

	require.Equal(t, bulk.Unknown, got[0].Outcome, "%v", got[0].Err)
	assert.ErrorIs(t, got[0].Err, subkit.ErrOutcomeUnknown)

	again := run(t, context.Background(), f.client(t), f.items(0, 1), bulk.Options{})
	assert.Equal(t, bulk.Replayed, again[0].Outcome, "%v", again[0].Err)
	assert.Len(t, f.PolarSubscriptions(), 1)
}

// Thirty workers queue on a budget of about 19 requests a second: the last
// of them waits more than a second and a half for its turn. With a
// deadline on the whole call of half a second, the limiter refuses those
// turns at once and their items fail before sending; with the deadline on
// each request instead (WithTimeout(0), AttemptTimeout), every item waits
// its turn and is created.
func TestRunPacedWaitsAreNotBoundByTheCallDeadline(t *testing.T) {
	const n = 30
	for _, perRequest := range []bool{false, true} {
		f := newPolarFake(t, n)
		limiter := subkit.NewLimiter(20, time.Second)
		opts := []subkit.Option{subkit.WithRateLimiter(subkit.Polar, limiter), subkit.WithTimeout(500 * time.Millisecond)}
		if perRequest {
			opts = []subkit.Option{subkit.WithRateLimiter(subkit.Polar, limiter), subkit.WithTimeout(0),
				subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
					SettleTime: 200 * time.Millisecond, AttemptTimeout: 500 * time.Millisecond})}
		}
		got := run(t, context.Background(), f.client(t, opts...), f.items(0, n), bulk.Options{Concurrency: n})
		counts := countOutcomes(got)
		if perRequest {
			assert.Equal(t, map[bulk.Outcome]int{bulk.Created: n}, counts, "per request")
			continue
		}
		assert.Positive(t, counts[bulk.Failed], "per call: %v", counts)
		for _, r := range got {
			if r.Outcome == bulk.Failed {
				assert.ErrorIs(t, r.Err, subkit.ErrNotSent, "refused by the limiter before sending")
			}
		}
	}
}
