package bulk_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// Tests of pages.go: a page of Polar keys looked up in one request before its
// creates, and the resume rule — a key missing from a look-up made before run
// start + SettleTime is looked up once more at that time, unless the store
// remembers every earlier run (Options.StoreRemembersEarlierRuns) — with and
// without read lag.

// lagged is a Polar whose look-ups trail its creates by up to maxLag, as
// Polar's read replica does, and a client that knows it: its settle time
// covers the lag. The settle time is also far longer than a rerun takes to
// reach its first page with missing keys, even under -race beside the other
// packages' tests: the rule looks again only at pages looked up before run
// start + settle time, and with 2 s a loaded CI machine once reached that
// page later, so that nothing was looked up again.
const maxLag, settle = 1500 * time.Millisecond, 5 * time.Second

func laggedClient(t *testing.T, f *polarFake, opts ...subkit.Option) *subkit.Client {
	return f.client(t, append([]subkit.Option{subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond,
		MaxBackoff: 5 * time.Millisecond, SettleTime: settle})}, opts...)...)
}

// stopHalfWay runs items 0…n−1 and cancels the run once half of them are
// reported, as a Ctrl-C would; it returns how many were created. The run
// is paced to last longer than the lag, so that its first creates are
// visible when it stops and its last ones are not (a run stopped within the
// lag of its start looks fresh to a rerun: see the package documentation).
func stopHalfWay(t *testing.T, f *polarFake, n int) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, created := 0, 0
	c := laggedClient(t, f, subkit.WithRateLimiter(subkit.Polar, subkit.NewLimiter(500, time.Second)))
	// A new fake: no earlier run, so no resume wait before the first creates.
	for r := range bulk.Run(ctx, c, f.items(0, n), bulk.Options{Concurrency: 16, SettleTime: settle, StoreRemembersEarlierRuns: true}) {
		if done++; done == n/2 {
			cancel()
		}
		if r.Outcome == bulk.Created {
			created++
		}
	}
	return created
}

func TestResumeUnderReadLagCreatesOnlyTheMissing(t *testing.T) {
	const n = 2000
	f := newPolarFake(t, n, subkittest.WithReadLag(subkit.Polar, maxLag*2/3, maxLag))
	created := stopHalfWay(t, f, n)
	require.Less(t, created, n)
	before := len(f.Requests(subkit.Polar))
	made := keysOnServer(f.Server)
	firstMissing := 0
	for made[user(firstMissing)] > 0 {
		firstMissing++
	}

	// At once: the last creates of the stopped run are not visible yet.
	start := time.Now()
	got := run(t, context.Background(), laggedClient(t, f), f.items(0, n), bulk.Options{Concurrency: 16, SettleTime: settle})

	counts := countOutcomes(got)
	assert.Equal(t, map[bulk.Outcome]int{bulk.Replayed: created, bulk.Created: n - created}, counts)
	keys := keysOnServer(f.Server)
	require.Len(t, keys, n)
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s", k)
	}
	pages := (n + 99) / 100
	lookups, _ := lookupsOf(f.Requests(subkit.Polar)[before:])
	assert.LessOrEqual(t, lookups-pages, pages, "at most one extra look-up per page")
	// The page of the first key the stopped run never made was looked up
	// again if its first look-up came before run start + settle time. On a
	// quiet machine it does; a loaded one may reach it later, when one
	// look-up is enough.
	var reached time.Time
	for _, r := range f.Requests(subkit.Polar)[before:] {
		if r.Method == http.MethodGet && strings.Contains(r.Query, "="+user(firstMissing)) {
			reached = r.Time
			break
		}
	}
	if reached.Before(start.Add(settle)) {
		assert.Positive(t, lookups-pages, "the pages looked up before run start + settle time are looked up again")
	}
	t.Logf("rerun after a stop at %d/%d: %d look-ups for %d pages; the first missing key looked up %s after the rerun's start",
		created, n, lookups, pages, reached.Sub(start).Round(time.Millisecond))
}

// The same rerun without waiting for the lag creates duplicates: the test
// can tell a rerun that applies the rule from one that does not.
func TestResumeUnderReadLagWithoutTheRuleDuplicates(t *testing.T) {
	const n = 2000
	// A lag far longer than the rerun takes to reach the stopped run's last
	// creates, so that they are invisible to it however slow the machine:
	// nothing here waits for the lag.
	f := newPolarFake(t, n, subkittest.WithReadLag(subkit.Polar, 20*time.Second, 20*time.Second))
	stopHalfWay(t, f, n)

	run(t, context.Background(), laggedClient(t, f), f.items(0, n), bulk.Options{Concurrency: 16, SettleTime: time.Nanosecond})

	dups := 0
	for _, c := range keysOnServer(f.Server) {
		dups += c - 1
	}
	assert.Positive(t, dups, "a settle time shorter than the lag lets the rerun create again what it could not see yet")
}

func TestResumeLooksMissingKeysUpAgainAfterSettleTime(t *testing.T) {
	f := newPolarFake(t, 300)
	run(t, context.Background(), f.client(t), f.items(0, 150), bulk.Options{})
	before := len(f.Requests(subkit.Polar))

	// Long enough that page 2, looked up right after page 1, is looked up
	// before run start + settle even on a loaded machine.
	const settle = 2 * time.Second
	c := f.client(t, subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: settle}))
	start := time.Now()
	got := run(t, context.Background(), c, f.items(0, 300), bulk.Options{SettleTime: settle})

	assert.Equal(t, map[bulk.Outcome]int{bulk.Replayed: 150, bulk.Created: 150}, countOutcomes(got))
	reqs := f.Requests(subkit.Polar)[before:]
	n, keys := lookupsOf(reqs)
	// Page 1: all found, a resume. Page 2: half missing, looked up before
	// start + settle, so its 50 missing keys are looked up again. Page 3 is
	// looked up after that: once is enough.
	assert.Equal(t, 4, n)
	assert.Equal(t, []int{100, 100, 50, 100}, keys)
	var lookups []time.Time
	for _, r := range reqs {
		if r.Method == http.MethodGet {
			lookups = append(lookups, r.Time)
		}
	}
	assert.False(t, lookups[2].Before(start.Add(settle)), "the second look-up waits for run start + SettleTime")
	assert.Equal(t, 150, trafficOf(reqs).posts)
	assert.Len(t, f.PolarSubscriptions(), 300)
}

// A fresh run cannot tell from its look-ups that it is fresh: its first
// page's missing keys are looked up again at run start + SettleTime before
// any is created, and the pages after are looked up once.
func TestFreshRunWaitsForSettleTimeOnce(t *testing.T) {
	f := newPolarFake(t, 300)
	const settle = 300 * time.Millisecond
	start := time.Now()
	got := run(t, context.Background(), f.client(t), f.items(0, 300), bulk.Options{SettleTime: settle})

	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: 300}, countOutcomes(got))
	reqs := f.Requests(subkit.Polar)
	n, keys := lookupsOf(reqs)
	assert.Equal(t, []int{100, 100, 100, 100}, keys, "page 1 twice, then pages 2 and 3 once")
	assert.Equal(t, 4, n)
	for _, r := range reqs {
		if r.Method == http.MethodPost {
			assert.False(t, r.Time.Before(start.Add(settle)), "a create before run start + SettleTime")
		}
	}
}

// With a store that remembers every earlier run, a fresh run creates at
// once: one look-up per page, no wait.
func TestFreshRunWithAStoreThatRemembersCreatesAtOnce(t *testing.T) {
	f := newPolarFake(t, 300)
	// A settle time longer than the test: the run never waits for it.
	got := run(t, context.Background(), f.client(t), f.items(0, 300), bulk.Options{SettleTime: time.Hour, StoreRemembersEarlierRuns: true})
	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: 300}, countOutcomes(got))
	n, _ := lookupsOf(f.Requests(subkit.Polar))
	assert.Equal(t, 3, n, "no second look-up")
}

// invisibleLag hides every create from look-ups for longer than a run of
// 150 items takes to make its creates and a rerun to look their keys up,
// even under -race on a loaded machine; settleOverLag covers it.
const invisibleLag, settleOverLag = 2 * time.Second, 2500 * time.Millisecond

// A run makes its creates and a rerun starts at once, while every one of
// them is still invisible to look-ups (a Ctrl-C soon after the start, then
// the same command again): the rerun finds no key at first, yet creates
// none again. (The rule used to apply only once a run had found some key,
// and such a rerun created everything twice.)
func TestRerunAtOnceWhileEveryEarlierCreateIsInvisible(t *testing.T) {
	const n = 150
	f := newPolarFake(t, n, subkittest.WithReadLag(subkit.Polar, invisibleLag, invisibleLag))
	policy := subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: settleOverLag})
	first := run(t, context.Background(), f.client(t, policy), f.items(0, n), bulk.Options{StoreRemembersEarlierRuns: true})
	require.Equal(t, map[bulk.Outcome]int{bulk.Created: n}, countOutcomes(first))
	before := len(f.Requests(subkit.Polar))

	// Another process: a store of its own, which knows nothing of the first run.
	got := run(t, context.Background(), f.client(t, policy), f.items(0, n), bulk.Options{})

	reqs := f.Requests(subkit.Polar)[before:]
	n1, keys := lookupsOf(reqs)
	require.Positive(t, n1)
	var firstCreate time.Time
	for _, r := range f.Requests(subkit.Polar)[:before] {
		if r.Method == http.MethodPost {
			firstCreate = r.Time
			break
		}
	}
	assert.Less(t, reqs[0].Time.Sub(firstCreate), invisibleLag, "the rerun's first look-up came while every create was invisible")
	assert.Equal(t, map[bulk.Outcome]int{bulk.Replayed: n}, countOutcomes(got))
	assert.Equal(t, 0, trafficOf(reqs).posts, "nothing created again")
	// Page 1, then its missing keys again at run start + SettleTime (all
	// of them, unless a loaded machine let some become visible first), then
	// page 2 once, after it.
	require.Len(t, keys, 3, "page 1 again at run start + SettleTime, page 2 once, after it: %v", keys)
	assert.Equal(t, 100, keys[0])
	assert.True(t, keys[1] > 0 && keys[1] <= 100, "page 1's missing keys looked up again: %v", keys)
	assert.Equal(t, 50, keys[2])
	for k, c := range keysOnServer(f.Server) {
		require.Equal(t, 1, c, "key %s", k)
	}
}

// The control: the same rerun told, falsely, that its store remembers the
// first run skips the second look-up and creates every key again. The test
// above can tell a rerun that applies the rule from one that does not.
func TestRerunAtOnceWithoutTheRuleDuplicates(t *testing.T) {
	const n = 150
	// Nothing here waits for the lag: a long one keeps the creates
	// invisible however slow the machine.
	f := newPolarFake(t, n, subkittest.WithReadLag(subkit.Polar, 20*time.Second, 20*time.Second))
	run(t, context.Background(), f.client(t), f.items(0, n), bulk.Options{StoreRemembersEarlierRuns: true})

	got := run(t, context.Background(), f.client(t), f.items(0, n), bulk.Options{StoreRemembersEarlierRuns: true})

	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: n}, countOutcomes(got))
	dups := 0
	for _, c := range keysOnServer(f.Server) {
		dups += c - 1
	}
	assert.Equal(t, n, dups, "every key created twice")
}

// What StoreRemembersEarlierRuns stands on: a rerun at once sharing the
// first run's store, while the first run's creates are all invisible to
// look-ups and some were cut short with their outcome unknown (pending in
// the store), skips the rule's wait and creates nothing again: finished
// keys replay from the store, pending ones settle by look-up. The same
// rerun with a store of its own (the control) duplicates.
func TestRerunSharingTheStoreSettlesPendingCreates(t *testing.T) {
	const n, cut = 150, 10
	// Longer than the first run takes to make its other creates, while the
	// cut ones settle.
	const lag, settle = 3 * time.Second, 4 * time.Second
	for _, shared := range []bool{true, false} {
		t.Run(fmt.Sprintf("shared=%t", shared), func(t *testing.T) {
			f := newPolarFake(t, n, subkittest.WithReadLag(subkit.Polar, lag, lag))
			store := subkit.NewMemoryStore()
			policy := subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: settle})
			// The first run: cut creates are applied, their answers lost, and
			// the run stopped while they settle.
			f.InjectFault(subkit.Polar, cut, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
			ctx, cancel := context.WithCancel(context.Background())
			unknown := 0
			done := 0
			for r := range bulk.Run(ctx, f.client(t, policy, subkit.WithIdempotencyStore(store)), f.items(0, n),
				bulk.Options{Concurrency: 32, StoreRemembersEarlierRuns: true, StopGrace: time.Millisecond}) {
				if done++; done == n-cut {
					cancel() // every create answered: the others are settling
				}
				if r.Outcome == bulk.Unknown {
					unknown++
				}
			}
			cancel()
			require.Equal(t, cut, unknown, "the cut creates, stopped while settling")
			require.Len(t, f.PolarSubscriptions(), n)
			before := len(f.Requests(subkit.Polar))

			rerunStore := store
			if !shared {
				rerunStore = subkit.NewMemoryStore()
			}
			start := time.Now()
			got := run(t, context.Background(), f.client(t, policy, subkit.WithIdempotencyStore(rerunStore)), f.items(0, n),
				bulk.Options{StoreRemembersEarlierRuns: true})

			tr := trafficOf(f.Requests(subkit.Polar)[before:])
			if !shared {
				assert.Positive(t, tr.posts, "the control: a store of its own lets the invisible keys be created again")
				t.Logf("the control created %d of %d keys again", tr.posts, n)
				return
			}
			assert.Equal(t, map[bulk.Outcome]int{bulk.Replayed: n}, countOutcomes(got))
			assert.Equal(t, 0, tr.posts, "nothing created again")
			for k, c := range keysOnServer(f.Server) {
				require.Equal(t, 1, c, "key %s", k)
			}
			t.Logf("rerun: %d look-ups, %s", tr.gets, time.Since(start).Round(time.Millisecond))
		})
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
