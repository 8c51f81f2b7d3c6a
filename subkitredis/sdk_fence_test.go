package subkitredis_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// The fenced protocol against a real redis-server, each scenario with its
// control (the same run without the fault): clocks that disagree, a link to
// Redis cut past the lease, Redis restarted past the lease, Redis stopped
// (SIGSTOP) while calls run.

func fencePolicy(settle time.Duration) subkit.RetryPolicy {
	return subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: settle}
}

func skewed(d time.Duration) func() time.Time { return func() time.Time { return time.Now().Add(d) } }

// Process A's create is applied but its answer is lost, and A gives up
// (its timeout) while the look-ups still cannot see it: A ends unknown,
// its record pending. B calls at once under 2 s of read lag: it must wait
// out the settle time from A's send — read from Redis's clock — find the
// create and replay it. With A's clock 2 s behind B's (and B's ahead) the
// outcome is the same: one subscription.
func TestSkewedClocksNeverDuplicate(t *testing.T) {
	for _, skew := range []time.Duration{0, -2 * time.Second, 3 * time.Second} {
		t.Run(fmt.Sprintf("A's clock off by %v", skew), func(t *testing.T) {
			t.Parallel()
			rdb := redistest.NewServer(t)
			srv, product, customer := lagFake(t, 2*time.Second)
			a, err := srv.Client(subkit.WithRetryPolicy(fencePolicy(2500*time.Millisecond)), subkit.WithTimeout(time.Second),
				subkit.WithClock(skewed(skew)), subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
			require.NoError(t, err)
			b, err := srv.Client(subkit.WithRetryPolicy(fencePolicy(2500*time.Millisecond)),
				subkit.WithClock(skewed(-skew)), subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
			require.NoError(t, err)
			srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
			params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}

			_, errA := a.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("skew-1"))
			require.ErrorIs(t, errA, subkit.ErrOutcomeUnknown, "A gave up before the lag let it see its create")
			var info subkit.ResponseInfo
			sb, err := b.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("skew-1"),
				subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			held := srv.PolarSubscriptions()
			require.Len(t, held, 1, "one subscription")
			assert.Equal(t, held[0].ID, sb.ID)
			assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
		})
	}
}

// A holds the key and waits out a 429 (Retry-After 1 s) when its link to
// Redis is cut, or Redis restarts (with AOF), for longer than the lease:
// its extension fails, so its retry never goes. B takes the key once the
// lease has run out, settles A's mark and creates: one subscription, and A
// says its lease was lost. The control keeps the link: A creates, B
// replays.
func TestLeaseLostToTheStoreSendsNothingMore(t *testing.T) {
	for _, fault := range []string{"none", "link cut", "redis restarted"} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			var opts []redistest.Option
			if fault == "redis restarted" {
				opts = append(opts, redistest.WithAppendOnly())
			}
			rdb := redistest.NewServer(t, opts...)
			link := rdb.NewLink()
			srv, product, customer := lagFake(t, 0)
			const lease = 600 * time.Millisecond
			a, err := srv.Client(subkit.WithRetryPolicy(fencePolicy(300*time.Millisecond)), subkit.WithIdempotencyLease(lease),
				subkit.WithIdempotencyStore(subkitredis.NewStore(link.Client())))
			require.NoError(t, err)
			srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited("2").On(subkittest.OpCreate))
			params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}

			var infoA subkit.ResponseInfo
			errA := make(chan error, 1)
			go func() {
				_, err := a.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("lease-1"),
					subkit.WithResponseInfo(&infoA))
				errA <- err
			}()
			require.Eventually(t, func() bool { return countPolar(srv, http.MethodPost) == 1 }, 10*time.Second, 5*time.Millisecond)
			switch fault {
			case "link cut":
				link.Cut()
				time.Sleep(lease + 300*time.Millisecond)
				link.Restore()
			case "redis restarted":
				rdb.Stop()
				time.Sleep(lease + 300*time.Millisecond)
				rdb.Start()
			}
			b, err := srv.Client(subkit.WithRetryPolicy(fencePolicy(300*time.Millisecond)), subkit.WithIdempotencyLease(lease),
				subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
			require.NoError(t, err)
			var infoB subkit.ResponseInfo
			_, errB := b.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("lease-1"),
				subkit.WithResponseInfo(&infoB))
			err = <-errA
			require.NoError(t, errB)
			require.Len(t, srv.PolarSubscriptions(), 1, "one subscription")
			if fault == "none" {
				require.NoError(t, err)
				assert.Equal(t, subkit.OutcomeCreated, infoA.Outcome)
				assert.Equal(t, subkit.OutcomeReplayed, infoB.Outcome)
				return
			}
			require.ErrorIs(t, err, subkit.ErrLockLost, "A sent nothing more")
			assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
			assert.Equal(t, subkit.OutcomeCreated, infoB.Outcome)
			assert.Equal(t, 2, countPolar(srv, http.MethodPost), "A's 429 and B's create: A's retry never went")
		})
	}
}

// A Redis that stops answering (SIGSTOP) never holds a call past its
// context or WithTimeout, at any step. The control runs with Redis awake.
func TestHungRedisNeverHoldsACall(t *testing.T) {
	for _, step := range []string{"awake", "cancel while taking the key", "timeout while taking the key", "timeout after sending"} {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			rdb := redistest.NewServer(t)
			srv, product, customer := lagFake(t, 0)
			c, err := srv.Client(subkit.WithRetryPolicy(fencePolicy(300*time.Millisecond)), subkit.WithTimeout(time.Second),
				subkit.WithIdempotencyLease(900*time.Millisecond), subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
			require.NoError(t, err)
			params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			paused := make(chan struct{}) // closed once Pause has run: Resume must come after it
			switch step {
			case "cancel while taking the key":
				rdb.Pause()
				close(paused)
				time.AfterFunc(200*time.Millisecond, cancel)
			case "timeout while taking the key":
				rdb.Pause()
				close(paused)
			case "timeout after sending":
				srv.InjectFault(subkit.Polar, 1, subkittest.Delay(600*time.Millisecond).On(subkittest.OpCreate))
				go func() {
					defer close(paused)
					time.Sleep(300 * time.Millisecond)
					rdb.Pause()
				}()
			default:
				close(paused)
			}
			defer func() {
				<-paused
				rdb.Resume()
			}()
			start := time.Now()
			_, err = c.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("hung-1"))
			took := time.Since(start)
			assert.Less(t, took, 4*time.Second, "returned within its timeout, with a wide margin")
			assert.NotEqual(t, "not an error of this package", subkit.Classify(err).Reason)
			switch step {
			case "awake":
				require.NoError(t, err)
			case "timeout after sending":
				// The create was sent: its answer, or its look-up, decides;
				// the stopped store only loses the record.
				if err != nil {
					assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
				}
				assert.LessOrEqual(t, len(srv.PolarSubscriptions()), 1)
			default:
				require.Error(t, err)
				assert.ErrorIs(t, err, subkit.ErrNotSent)
				assert.Zero(t, countPolar(srv, http.MethodPost), "nothing sent without the key")
			}
		})
	}
}

func countPolar(srv *subkittest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests(subkit.Polar) {
		if r.Method == method {
			n++
		}
	}
	return n
}
