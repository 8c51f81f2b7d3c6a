package bulk_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

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
		// The page's look-up and ten creates get a turn; nothing else ever does.
		var l subkit.Limiter = &stingyLimiter{n: 11}
		opts := bulk.Options{Concurrency: 8, Total: n}
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

// Interruptible changes nothing outside a run, and keeps no pacing as no
// pacing.
func TestInterruptibleOutsideARun(t *testing.T) {
	assert.Nil(t, bulk.Interruptible(nil))
	assert.Nil(t, bulk.Interruptible((*stingyLimiter)(nil)))
	l := bulk.Interruptible(&stingyLimiter{n: 1})
	require.NoError(t, l.Wait(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded, "a wait outside a run ends with its own context")
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

// A subscription too large for the SDK to read makes every look-up page
// that holds it unreadable. The page is looked up again in halves: only
// the item whose key finds it fails, the page's other items are created.
func TestRunPageThatCannotBeReadFailsOnlyItsItem(t *testing.T) {
	const n = 100
	f := newPolarFake(t, n)
	huge := strings.Repeat("x", 5<<20) // Polar sets no limit on an external ID
	f.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: huge})
	c := f.client(t, subkit.WithRetryPolicy(subkit.RetryPolicy{MaxAttempts: 1, SettleTime: time.Millisecond}))
	_, err := c.Subscriptions.CreateForExternalCustomer(context.Background(),
		&subkit.ExternalCustomerSubscriptionParams{ProductID: f.product, ExternalCustomerID: huge}, subkit.WithIdempotencyKey(user(37)))
	require.ErrorIs(t, err, subkit.ErrOutcomeUnknown, "its answer is larger than the SDK reads")
	before := len(f.Requests(subkit.Polar))

	got := run(t, context.Background(), c, f.items(0, n), bulk.Options{})

	counts := countOutcomes(got)
	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: n - 1, bulk.Failed: 1}, counts)
	r := got[37]
	assert.Equal(t, bulk.Failed, r.Outcome)
	assert.ErrorContains(t, r.Err, "looking up the key before creating")
	var ae *subkit.APIError
	require.True(t, errors.As(r.Err, &ae), "%v", r.Err)
	assert.Equal(t, 200, ae.StatusCode)
	lookups, _ := lookupsOf(f.Requests(subkit.Polar)[before:])
	assert.LessOrEqual(t, lookups, 1+2*7, "halving a page of 100 down to one key")
	assert.Equal(t, n, len(f.PolarSubscriptions()), "the huge one and the 99 others")
}
