package bulk_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// burst runs n creates as three processes would — three clients, each a
// third of the items — against a fake that allows limit requests a window,
// each client waiting on limiter(i). It returns the server's traffic.
func burst(t *testing.T, n, limit int, window time.Duration, limiter func(i int) subkit.Limiter) (*polarFake, polarTraffic) {
	t.Helper()
	f := newPolarFake(t, n, subkittest.WithRateLimit(subkit.Polar, limit, window))
	var wg sync.WaitGroup
	for i := range 3 {
		c := f.client(t, subkit.WithRateLimiter(subkit.Polar, limiter(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range bulk.Run(context.Background(), c, f.items(i*n/3, (i+1)*n/3), bulk.Options{}) {
			}
		}()
	}
	wg.Wait()
	return f, trafficOf(f.Requests(subkit.Polar))
}

func TestPacingOneSharedLimiterKeepsThreeProcessesUnderTheLimit(t *testing.T) {
	const n, limit, window = 600, 300, 3 * time.Second
	shared := subkit.NewLimiter(limit, window)
	f, tr := burst(t, n, limit, window, func(int) subkit.Limiter { return shared })

	assert.Zero(t, tr.tooMany, "no 429")
	assert.Equal(t, n, tr.posts)
	assert.Len(t, f.PolarSubscriptions(), n)
}

func TestPacingThreeProcessesEachOnItsOwnOverrunTheWindow(t *testing.T) {
	const n, limit, window = 600, 300, 3 * time.Second
	f, tr := burst(t, n, limit, window, func(int) subkit.Limiter { return subkit.NewLimiter(limit, window) })

	assert.Positive(t, tr.tooMany, "each process alone keeps to the limit, together they overrun it")
	keys := keysOnServer(f.Server)
	for k, c := range keys {
		assert.Equal(t, 1, c, "key %s: a 429 is retried, never duplicated", k)
	}
}
