package subkitredis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// busiest returns the most of times that lie in one window [x, x+d).
func busiest(times []time.Time, d time.Duration) int {
	times = slices.SortedFunc(slices.Values(times), time.Time.Compare)
	most, first := 0, 0
	for last := range times { // the busiest window ending at each time
		for times[last].Sub(times[first]) >= d {
			first++
		}
		most = max(most, last-first+1)
	}
	return most
}

// grant is one Wait let through: which limiter name, and when on the Redis
// server's clock.
type grant struct {
	name string
	at   time.Time
}

// hammer makes each limiter a process of its own: goroutines on each call
// Wait as fast as they can for run, and it returns every grant, stamped by
// the Redis server's clock in the script that let it through (the clock the
// limiter's promise is made on: grants of all processes compare, whatever
// their own clocks). The Waits end with ErrWaitBeyondDeadline or the
// deadline; any other error fails the test.
func hammer(t *testing.T, limiters map[string][]*subkitredis.Limiter, goroutines int, run time.Duration) []grant {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), run)
	defer cancel()
	var mu sync.Mutex
	var grants []grant
	var wg sync.WaitGroup
	for name, ls := range limiters {
		for _, l := range ls {
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						at, err := subkitredis.WaitGranted(ctx, l)
						if err != nil {
							if !errors.Is(err, subkitredis.ErrWaitBeyondDeadline) {
								assert.ErrorIs(t, err, context.DeadlineExceeded)
							}
							return
						}
						mu.Lock()
						grants = append(grants, grant{name, at})
						mu.Unlock()
					}
				}()
			}
		}
	}
	wg.Wait()
	return grants
}

func times(grants []grant, name string) []time.Time {
	var out []time.Time
	for _, g := range grants {
		if name == "" || g.name == name {
			out = append(out, g.at)
		}
	}
	return slices.SortedFunc(slices.Values(out), time.Time.Compare)
}

// Three processes (each its own Redis connection pool and its own Limiter
// of the same name), four goroutines each, ask as fast as they can for five
// and a half windows: no window of length per — nor of per + per/60, the
// window the log counts over — holds more than events grants, and the fleet
// sustains at least 95% of a limit of 100.
func TestLimiterNeverOverrunsAWindowAcrossProcesses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		events    int
		per       time.Duration
		sustained float64 // the least share of the limit the fleet must get (wide: two suites may share two cores); 0: not checked
	}{
		{100, 500 * time.Millisecond, 0.75},
		// On a loaded test machine (the race detector, parallel tests) a
		// waiter takes up to 10 ms to take a free slot: 5% of so short a
		// window, against 0.02% of Polar's minute. Only the bound is
		// checked here.
		{50, 200 * time.Millisecond, 0},
	} {
		t.Run(fmt.Sprintf("%d per %v", tc.events, tc.per), func(t *testing.T) {
			t.Parallel()
			srv := redistest.NewServer(t)
			var fleet []*subkitredis.Limiter
			for range 3 {
				fleet = append(fleet, subkitredis.NewLimiter(srv.NewClient(), "polar:org_1", tc.events, tc.per))
			}
			// Five and a half windows: the run ends between two rounds of
			// grants, each of which comes a window and a sixtieth after the
			// one before.
			grants := times(hammer(t, map[string][]*subkitredis.Limiter{"polar:org_1": fleet}, 4, tc.per*11/2), "")
			require.NotEmpty(t, grants)

			span := tc.per + tc.per/60
			assert.LessOrEqual(t, busiest(grants, tc.per), tc.events, "in a window of per")
			assert.LessOrEqual(t, busiest(grants, span), tc.events, "in a window of per + per/60")
			assert.Equal(t, tc.events, busiest(grants, tc.per), "the budget is used")

			// A slot comes back to the fleet when the grant that took it
			// leaves the window: grant i+events comes at least per + per/60
			// after grant i, and on average a little later (the time a
			// waiter takes to notice). The mean of those gaps is the time
			// the fleet takes for events grants, once past the opening burst:
			// in theory per + per/60, which is 60/61 of the limit.
			var gaps time.Duration
			for i := range len(grants) - tc.events {
				gaps += grants[i+tc.events].Sub(grants[i])
			}
			gap := gaps / time.Duration(len(grants)-tc.events)
			sustained := tc.per.Seconds() / gap.Seconds()
			t.Logf("%d grants: at most %d in any window of %v; slots came back after %v on average (per + per/60 = %v): %.1f%% of the limit sustained",
				len(grants), busiest(grants, tc.per), tc.per, gap, span, 100*sustained)
			if tc.sustained > 0 {
				assert.GreaterOrEqual(t, sustained, tc.sustained)
			}
			assert.LessOrEqual(t, sustained, 1.0)
		})
	}
}

// The check above can tell: three processes each limited on their own
// (three names, as three local limiters would be) let through three times
// the budget in one window, while each name alone keeps its bound.
func TestLimitersWithSeparateNamesOverrunTogether(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	const events, per = 50, 200 * time.Millisecond
	limiters := map[string][]*subkitredis.Limiter{}
	for _, name := range []string{"process-1", "process-2", "process-3"} {
		limiters[name] = []*subkitredis.Limiter{subkitredis.NewLimiter(srv.NewClient(), name, events, per)}
	}
	grants := hammer(t, limiters, 4, per*7/2)
	for name := range limiters {
		assert.LessOrEqual(t, busiest(times(grants, name), per), events, name)
	}
	most := busiest(times(grants, ""), per)
	t.Logf("three names: %d in one window of %v, against a limit of %d", most, per, events)
	assert.Greater(t, most, events, "separate budgets overrun the shared limit")
	assert.Equal(t, 3*events, most)
}

// go-redis may run a script again when its answer was lost (a reset, a
// timeout): the member a Wait sends with every try makes the second run
// find its own grant rather than take a second slot.
func TestLimiterScriptRunTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	ctx := testCtx(t)
	const per = time.Minute
	l := subkitredis.NewLimiter(rdb, "polar:org_1", 2, per)

	ok, first, err := subkitredis.Admit(ctx, l, "wait-1")
	require.NoError(t, err)
	require.True(t, ok)
	ok, again, err := subkitredis.Admit(ctx, l, "wait-1") // the retry
	require.NoError(t, err)
	assert.True(t, ok, "its own grant lets it through")
	assert.GreaterOrEqual(t, again, first, "counted at its latest time")
	assert.Equal(t, int64(1), rdb.ZCard(ctx, "subkit:rate:{polar:org_1}").Val(), "one slot taken")

	ok, _, err = subkitredis.Admit(ctx, l, "wait-2")
	require.NoError(t, err)
	assert.True(t, ok, "the second slot was still free")
	ok, wait, err := subkitredis.Admit(ctx, l, "wait-3")
	require.NoError(t, err)
	assert.False(t, ok, "the budget is spent")
	assert.True(t, wait > 0 && wait <= (per+per/60).Microseconds(), "wait %d µs", wait)
	assert.Equal(t, int64(2), rdb.ZCard(ctx, "subkit:rate:{polar:org_1}").Val(), "a refusal takes nothing")
}

func TestLimiterWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	l := subkitredis.NewLimiter(rdb, "polar:org_1", 1, time.Minute)
	require.NoError(t, l.Wait(testCtx(t)))
	logged := func() int64 { return rdb.ZCard(testCtx(t), "subkit:rate:{polar:org_1}").Val() }

	// Without a deadline, Wait waits until it is cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Wait(ctx) }()
	time.Sleep(50 * time.Millisecond) // let it start waiting; the outcome is the same if not
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	// A context that has ended already: the error at once, nothing counted.
	assert.ErrorIs(t, l.Wait(ctx), context.Canceled)
	assert.Equal(t, int64(1), logged(), "the cancelled waits took no slot")
}

func TestLimiterFailsAtOnceWhenTheSlotComesAfterTheDeadline(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	l := subkitredis.NewLimiter(srv.Client(), "polar:org_1", 2, time.Minute)
	require.NoError(t, l.Wait(testCtx(t)))
	require.NoError(t, l.Wait(testCtx(t)))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := l.Wait(ctx)
	require.ErrorIs(t, err, subkitredis.ErrWaitBeyondDeadline)
	assert.NoError(t, ctx.Err(), "it returned before the deadline, without waiting in vain")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorContains(t, err, `"polar:org_1"`)

	// A deadline that leaves room: Wait waits for the slot and gets it, a
	// window and a sixtieth after the grant it replaces.
	const per = 300 * time.Millisecond
	short := subkitredis.NewLimiter(srv.Client(), "polar:org_2", 1, per)
	first, err := subkitredis.WaitGranted(testCtx(t), short)
	require.NoError(t, err)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	second, err := subkitredis.WaitGranted(ctx, short)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, second.Sub(first), per+per/60)
}

func TestLimiterWithRedisStoppedIsAnErrorNotAHang(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	const per = 300 * time.Millisecond
	l := subkitredis.NewLimiter(srv.Client(), "polar:org_1", 1, per)
	require.NoError(t, l.Wait(testCtx(t)))

	// A Wait sleeping for the next slot when Redis goes away fails when it
	// asks again, rather than letting its request go.
	waiting := make(chan error, 1)
	go func() { waiting <- l.Wait(testCtx(t)) }()
	srv.Stop()
	assertLimiterUnreachable(t, <-waiting)
	assertLimiterUnreachable(t, l.Wait(testCtx(t)))

	// Restarted without persistence, the log is gone: the next Wait goes.
	srv.Start()
	require.NoError(t, l.Wait(testCtx(t)))
}

func assertLimiterUnreachable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorContains(t, err, "connection refused")
	assert.ErrorContains(t, err, `rate limiter "polar:org_1"`)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, subkitredis.ErrWaitBeyondDeadline)
}

func TestLimiterOnAHungRedisIsBoundedByTheContext(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	l := subkitredis.NewLimiter(srv.Client(), "polar:org_1", 5, time.Minute)
	srv.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded)
	srv.Resume()
	require.NoError(t, l.Wait(testCtx(t)))
}

// The log is the key the package documentation names, one per name, with
// braces escaped, and it expires once the name has been idle for a window.
func TestLimiterKeysAndExpiry(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	ctx := testCtx(t)
	const per = 120 * time.Millisecond
	for _, name := range []string{"polar:org_1", "polar:{org}", "polar:}%{"} {
		l := subkitredis.NewLimiter(rdb, name, 3, per)
		for range 3 {
			require.NoError(t, l.Wait(ctx))
		}
	}
	keys, err := rdb.Keys(ctx, "subkit:rate:*").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"subkit:rate:{polar:org_1}", "subkit:rate:{polar:%7Borg%7D}", "subkit:rate:{polar:%7D%25%7B}"}, keys)
	assert.Equal(t, int64(3), rdb.ZCard(ctx, "subkit:rate:{polar:org_1}").Val())
	ttl, err := rdb.PTTL(ctx, "subkit:rate:{polar:org_1}").Result()
	require.NoError(t, err)
	assert.True(t, ttl > 0 && ttl <= per+per/60+time.Millisecond, "TTL %v", ttl)

	time.Sleep(2 * per) // Redis expires by its own clock: after the window the keys are gone
	keys, err = rdb.Keys(ctx, "subkit:rate:*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys)
}

func TestLimiterWorksOnARedisCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithCluster())
	rdb := srv.NewClusterClient()
	for _, name := range []string{"polar:org_1", "polar:{org}", "}x{"} {
		l := subkitredis.NewLimiter(rdb, name, 2, time.Minute)
		require.NoError(t, l.Wait(testCtx(t)), name)
		require.NoError(t, l.Wait(testCtx(t)), name)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		assert.ErrorIs(t, l.Wait(ctx), subkitredis.ErrWaitBeyondDeadline, name)
		cancel()
	}
}

func TestLimiterRefusesBadInputWithAClearError(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	for _, tc := range []struct {
		rdb    redis.UniversalClient
		name   string
		events int
		per    time.Duration
		want   []string
	}{
		{nil, "polar:org_1", 5, time.Minute, []string{"no Redis client"}},
		{(*redis.Client)(nil), "polar:org_1", 5, time.Minute, []string{"no Redis client"}},
		{rdb, "", 5, time.Minute, []string{"name is empty"}},
		{rdb, "polar:org_1", 0, time.Minute, []string{"events must be at least 1, not 0"}},
		{rdb, "polar:org_1", 5, -time.Second, []string{"per must be positive, not -1s"}},
		{rdb, "polar:org_1", 5, time.Duration(1<<63 - 1), []string{"per is too long"}},
		{nil, "", -1, 0, []string{"no Redis client", "name is empty", "events must be at least 1", "per must be positive"}},
	} {
		l := subkitredis.NewLimiter(tc.rdb, tc.name, tc.events, tc.per)
		err := l.Wait(testCtx(t))
		require.Error(t, err)
		for _, want := range tc.want {
			assert.ErrorContains(t, err, want)
		}
		assert.ErrorContains(t, l.Wait(testCtx(t)), "lets nothing through", "every time")
	}
	keys, err := rdb.Keys(testCtx(t), "*").Result()
	require.NoError(t, err)
	assert.Empty(t, keys, "nothing was written")
}

func TestLimiterPrintsNoPassword(t *testing.T) {
	t.Parallel()
	const password = "s3cret-limiter-passw0rd"
	srv := redistest.NewServer(t, redistest.WithPassword(password))
	o := srv.Options()
	l := subkitredis.NewLimiter(srv.NewClient(), "polar:org_1", 5, time.Minute)
	require.NoError(t, l.Wait(testCtx(t)))

	var printed []string
	for _, v := range []any{l, *l, struct{ L *subkitredis.Limiter }{l}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	other := redis.NewClient(&redis.Options{Addr: "other:1", Password: password})
	t.Cleanup(func() { _ = other.Close() })
	rec := &recordingT{}
	assert.Equal(rec, l, subkitredis.NewLimiter(other, "polar:org_1", 5, time.Minute)) // go-spew walks unexported fields
	printed = append(printed, rec.messages...)

	wrong := redis.NewClient(&redis.Options{Addr: o.Addr, Password: password + "-wrong", DialerRetries: 1})
	t.Cleanup(func() { _ = wrong.Close() })
	errs := []error{subkitredis.NewLimiter(wrong, "polar:org_1", 5, time.Minute).Wait(testCtx(t))}
	srv.Stop()
	errs = append(errs, l.Wait(testCtx(t)))
	for _, err := range errs {
		require.Error(t, err)
		printed = append(printed, err.Error(), fmt.Sprintf("%+v", err))
	}
	for _, p := range printed {
		assert.NotContains(t, p, password)
	}
}

// End to end with the SDK: three Clients pace their Polar requests with
// limiters of one name (two Clients of one process share a Limiter, a third
// process has its own), sending creates as fast as they can. The fake
// counts every request in a sliding window (stricter than Polar's fixed
// ones) and would answer 429 beyond the limit: none does, and no window of
// length per holds more than events arrivals. The arrival times are the
// fake's, after each grant by the time it takes to send a request over
// loopback (a connection included): the limiter's margin, per/60, covers up
// to 100 ms here, well above what a loaded test machine takes (10 to 50 ms
// with the race detector), as a second of Polar's minute covers a real
// network.
func TestLimiterPacesAFleetOfClients(t *testing.T) {
	t.Parallel()
	const events, per = 8, 6 * time.Second
	api := subkittest.NewServer(subkittest.WithRateLimit(subkit.Polar, events, per))
	t.Cleanup(api.Close)
	product := api.AddPolarProduct(subkittest.PolarProduct{Name: "Team"})
	customer := api.AddPolarCustomer(subkittest.PolarCustomer{})
	rds := redistest.NewServer(t)

	shared := subkitredis.NewLimiter(rds.NewClient(), "polar:org_1", events, per)
	other := subkitredis.NewLimiter(rds.NewClient(), "polar:org_1", events, per)
	var clients []*subkit.Client
	for _, l := range []*subkitredis.Limiter{shared, shared, other} {
		c, err := api.Client(subkit.WithRateLimiter(subkit.Polar, l))
		require.NoError(t, err)
		t.Cleanup(c.CloseIdleConnections)
		clients = append(clients, c)
	}

	// A window and a quarter: two rounds of grants, the second a window
	// and a sixtieth after the first, where a shared budget that failed
	// would overrun.
	ctx, cancel := context.WithTimeout(context.Background(), per*5/4)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range clients {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					_, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer})
					if err != nil {
						assert.ErrorIs(t, err, subkit.ErrNotSent, "only the end of the run stops a create")
						return
					}
				}
			}()
		}
	}
	wg.Wait()

	reqs := api.Requests(subkit.Polar)
	var arrived []time.Time
	for _, r := range reqs {
		assert.Equal(t, 201, r.Status, "request %s at %v", r.ID, r.Time)
		arrived = append(arrived, r.Time)
	}
	most := busiest(arrived, per)
	t.Logf("%d requests, at most %d in any window of %v (limit %d)", len(reqs), most, per, events)
	assert.LessOrEqual(t, most, events)
	assert.Equal(t, events, most, "the budget is used")
	// The run is shorter than two windows of per + per/60, so the budget
	// allows at most two rounds; and the limiter gave the budget back after
	// the first window, so there were more than one.
	assert.Greater(t, len(reqs), events)
	assert.LessOrEqual(t, len(reqs), 2*events)
}

// Through the SDK, a call whose turn comes after its deadline fails at once
// with nothing sent, and says why.
func TestLimiterBeyondTheDeadlineSendsNothingThroughTheSDK(t *testing.T) {
	t.Parallel()
	api := subkittest.NewServer()
	t.Cleanup(api.Close)
	srv := redistest.NewServer(t)
	budget := subkitredis.NewLimiter(srv.Client(), "polar:org_1", 1, time.Minute)
	require.NoError(t, budget.Wait(testCtx(t))) // the minute's budget is spent
	c, err := api.Client(subkit.WithRateLimiter(subkit.Polar, budget))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var info subkit.ResponseInfo
	_, err = c.Subscriptions.Get(ctx, "9b4bd8a0-5b1c-4f3e-9a57-7f0f3c1d2e4b", subkit.WithResponseInfo(&info))
	require.ErrorIs(t, err, subkitredis.ErrWaitBeyondDeadline)
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.NoError(t, ctx.Err(), "it failed before the deadline")
	assert.Zero(t, info.Attempts)
	assert.Empty(t, api.Requests(subkit.Polar))

	// Redis down: the same, with Redis's error.
	srv.Stop()
	_, err = c.Subscriptions.Get(testCtx(t), "9b4bd8a0-5b1c-4f3e-9a57-7f0f3c1d2e4b")
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.ErrorContains(t, err, "connection refused")
	assert.Empty(t, api.Requests(subkit.Polar))
}
