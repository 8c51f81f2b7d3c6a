package subkit_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// NewLimiter's promise is about windows, so it is checked on the limiter's
// own clock: a caller asking as fast as it can, every millisecond over ten
// windows, never gets more than events in any window of length per, and
// gets at least 95% of the limit sustained.
func TestNewLimiterNeverOverrunsAWindow(t *testing.T) {
	for _, tc := range []struct {
		events int
		per    time.Duration
	}{{500, time.Minute}, {100, time.Minute}, {60, time.Minute}, {10, time.Second}, {1000, time.Second}, {1, time.Second}} {
		l := subkit.NewLimiter(tc.events, tc.per)
		start := time.Unix(1_700_000_000, 0)
		step := tc.per / 2000
		var granted []time.Time
		for now := start; now.Before(start.Add(10 * tc.per)); now = now.Add(step) {
			for l.AllowN(now, 1) {
				granted = append(granted, now)
			}
		}
		most, first := 0, 0
		for last := range granted { // the busiest window ending at each grant
			for granted[last].Sub(granted[first]) >= tc.per {
				first++
			}
			most = max(most, last-first+1)
		}
		assert.LessOrEqual(t, most, tc.events, "%d per %s: %d in one window", tc.events, tc.per, most)
		// One request of the limit is the bucket's burst; the rest refills
		// over the window plus a sixtieth: 97% for limits of 100 and more.
		sustained := float64(len(granted)) / 10 / float64(tc.events)
		switch {
		case tc.events >= 100:
			assert.GreaterOrEqual(t, sustained, 0.95, "%d per %s: %.3f of the limit", tc.events, tc.per, sustained)
		case tc.events >= 10:
			assert.GreaterOrEqual(t, sustained, 0.85, "%d per %s: %.3f of the limit", tc.events, tc.per, sustained)
		}
	}
	// Nonsense lets nothing through, rather than panicking.
	assert.Error(t, subkit.NewLimiter(0, time.Minute).Wait(context.Background()))
	assert.Error(t, subkit.NewLimiter(5, 0).Wait(context.Background()))
}

// countingLimiter counts its waits and can refuse.
type countingLimiter struct {
	waits  atomic.Int32
	refuse error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.waits.Add(1)
	if l.refuse != nil {
		return l.refuse
	}
	return ctx.Err()
}

func TestEveryRequestWaitsOnItsAPIsLimiter(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(429, "", "Retry-After", "0"), answer(201, fixture(t, "polar-subscription.json")))
	m.on(http.MethodPost, chargeflowCreateURL, answer(201, fixture(t, "chargeflow-create-subscription.json")))
	polar, chargeflow := &countingLimiter{}, &countingLimiter{}
	c := newClient(t, m, subkit.WithRateLimiter(subkit.Polar, polar), subkit.WithRateLimiter(subkit.Chargeflow, chargeflow))
	var info subkit.ResponseInfo
	_, err := createKeyed(c, nil, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 2, info.Attempts)
	assert.Equal(t, int32(2), polar.waits.Load(), "the retry waited too")
	_, err = c.Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams())
	require.NoError(t, err)
	assert.Equal(t, int32(1), chargeflow.waits.Load(), "each API its own limiter")
	assert.Equal(t, int32(2), polar.waits.Load())
}

func TestALimiterWaitThatFailsSendsNothingAndIsNoAttempt(t *testing.T) {
	m := newMock(t)
	l := &countingLimiter{refuse: errors.New("rate: Wait(n=1) would exceed context deadline")}
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m, subkit.WithRateLimiter(subkit.Polar, l)), nil, subkit.WithResponseInfo(&info))
	require.Error(t, err)
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.Contains(t, err.Error(), "rate limiter")
	assert.Zero(t, info.Attempts)
	assert.Zero(t, m.GetTotalCallCount())

	// The context ending while waiting: the same, and errors.Is finds it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = newClient(t, m, subkit.WithRateLimiter(subkit.Polar, subkit.NewLimiter(1, time.Hour))).Subscriptions.Get(ctx, subscriptionID)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, m.GetTotalCallCount())
}

// The default pacing applies to Polar's own hosts only. It is seen through
// the one thing it changes: a burst larger than the bucket's burst has to
// wait, and with a deadline shorter than the wait the call fails before
// sending.
func TestPolarIsPacedByDefaultOnItsOwnHostsOnly(t *testing.T) {
	burst := func(opts ...subkit.Option) (sent int64, notSent int) {
		var n atomic.Int64
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return answer(201, fixture(t, "polar-subscription.json"))(r)
		})
		c, err := subkit.New(append([]subkit.Option{subkit.WithOrganizationToken(testPolarToken),
			subkit.WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
		require.NoError(t, err)
		for range 20 {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := c.Subscriptions.Get(ctx, subscriptionID)
			cancel()
			if errors.Is(err, subkit.ErrNotSent) {
				notSent++
			}
		}
		return n.Load(), notSent
	}
	sent, notSent := burst() // production: 500 a minute, a burst of 5
	assert.Equal(t, int64(5), sent)
	assert.Equal(t, 15, notSent)
	sent, _ = burst(subkit.WithPolarSandbox()) // 100 a minute, a burst of 1
	assert.Equal(t, int64(1), sent)
	sent, _ = burst(subkit.WithBaseURL(subkit.Polar, "https://polar-proxy.internal.example"))
	assert.Equal(t, int64(20), sent, "another host: not paced")
	sent, _ = burst(subkit.WithRateLimiter(subkit.Polar, nil))
	assert.Equal(t, int64(20), sent, "pacing turned off")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
