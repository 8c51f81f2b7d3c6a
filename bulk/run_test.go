package bulk_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

func TestRunCreatesEachPolarItemOnceWithOneLookUpPerPage(t *testing.T) {
	f := newPolarFake(t, 250)
	// A new fake: no earlier run sent it anything, which the client's store
	// may say for it, so the resume rule's second look-up is not needed.
	got := run(t, context.Background(), f.client(t), f.items(0, 250), bulk.Options{StoreRemembersEarlierRuns: true})

	require.Len(t, got, 250)
	ids := map[string]bool{}
	for i := range 250 {
		r := got[i]
		require.Equal(t, bulk.Created, r.Outcome, "item %d: %v", i, r.Err)
		assert.Equal(t, user(i), r.Item.Key)
		assert.Equal(t, i+1, r.Item.Line)
		assert.Equal(t, subkit.Polar, r.API)
		require.NotNil(t, r.Subscription)
		assert.Equal(t, user(i), *r.Subscription.Customer.ExternalID)
		assert.Equal(t, user(i), r.Subscription.IdempotencyKey())
		assert.Equal(t, subkit.OutcomeCreated, r.Info.Outcome)
		ids[r.SubscriptionID()] = true
	}
	assert.Len(t, ids, 250, "one subscription per item")

	reqs := f.Requests(subkit.Polar)
	tr := trafficOf(reqs)
	assert.Equal(t, polarTraffic{posts: 250, gets: 3}, tr, "a POST per item and a GET per page of 100 keys")
	_, keys := lookupsOf(reqs)
	assert.Equal(t, []int{100, 100, 50}, keys)
	for k, n := range keysOnServer(f.Server) {
		assert.Equal(t, 1, n, "key %s", k)
	}
}

func TestRunRerunReplaysWithoutCreating(t *testing.T) {
	f := newPolarFake(t, 250)
	first := run(t, context.Background(), f.client(t), f.items(0, 250), bulk.Options{})
	before := len(f.Requests(subkit.Polar))

	// A new client: a new process, whose in-memory store knows nothing.
	again := run(t, context.Background(), f.client(t), f.items(0, 250), bulk.Options{})

	require.Len(t, again, 250)
	for i, r := range again {
		require.Equal(t, bulk.Replayed, r.Outcome, "item %d: %v", i, r.Err)
		assert.Equal(t, first[i].SubscriptionID(), r.SubscriptionID())
	}
	assert.Equal(t, polarTraffic{gets: 3}, trafficOf(f.Requests(subkit.Polar)[before:]),
		"a rerun of a finished run costs its page look-ups, and creates nothing")
	assert.Len(t, f.PolarSubscriptions(), 250)
}

func TestRunMixedCreates(t *testing.T) {
	f := newPolarFake(t, 2)
	customer := f.AddPolarCustomer(subkittest.PolarCustomer{Name: "By Polar ID"})
	disputes := []string{"65f0c1d2e3a4b5c6d7e8f901", "65f0c1d2e3a4b5c6d7e8f902"}
	for _, d := range disputes {
		f.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: d})
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	dispute := func(key, id string) bulk.Item {
		return bulk.Item{Key: key, DisputeID: id, Dispute: &subkit.DisputeSubscriptionParams{SourceID: "sub_" + id[20:],
			CreatedAt: start, StartDate: start, Frequency: subkit.FrequencyMonth, FrequencyCount: 1}}
	}
	items := bulk.Items(
		f.externalItem(0),
		dispute("d1", disputes[0]),
		bulk.Item{Key: "by-id", Customer: &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: customer}},
		dispute("d2", disputes[1]),
		f.externalItem(1),
	)
	// A new fake: no earlier run, so no second look-up (see pages_test.go).
	got := run(t, context.Background(), f.client(t), items, bulk.Options{Concurrency: 2, StoreRemembersEarlierRuns: true})

	require.Len(t, got, 5)
	for i, r := range got {
		require.Equal(t, bulk.Created, r.Outcome, "item %d: %v", i, r.Err)
	}
	assert.Equal(t, subkit.Chargeflow, got[1].API)
	require.NotNil(t, got[1].Dispute)
	assert.Equal(t, "sub_"+disputes[0][20:], got[1].Dispute.SourceID)
	assert.Equal(t, customer, got[2].Subscription.CustomerID)
	assert.Equal(t, polarTraffic{posts: 3, gets: 1}, trafficOf(f.Requests(subkit.Polar)), "one page for the three Polar items")
	assert.Equal(t, polarTraffic{posts: 2, gets: 2}, trafficOf(f.Requests(subkit.Chargeflow)),
		"Chargeflow: the SDK's replay check and the create, per item")
	assert.Len(t, f.ChargeflowSubscriptions(), 2)
}

func TestRunReportsBadItemsAndRunsTheOthers(t *testing.T) {
	f := newPolarFake(t, 3)
	badLine := errors.New("line 3, column product_id: not a UUID")
	items := func(yield func(bulk.Item, error) bool) {
		_ = yield(f.externalItem(0), nil) &&
			yield(bulk.Item{Key: "no-create", Line: 2}, nil) &&
			yield(bulk.Item{Line: 3}, badLine) &&
			yield(bulk.Item{Line: 4, ExternalCustomer: f.externalItem(1).ExternalCustomer}, nil) &&
			yield(bulk.Item{Key: "two", Line: 5, ExternalCustomer: f.externalItem(1).ExternalCustomer,
				Customer: &subkit.CustomerSubscriptionParams{}}, nil) &&
			yield(bulk.Item{Key: "bad-product", Line: 6, ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{
				ProductID: "not-a-uuid", ExternalCustomerID: user(1)}}, nil) &&
			yield(bulk.Item{Key: "nul\x00", Line: 7, ExternalCustomer: f.externalItem(1).ExternalCustomer}, nil) &&
			yield(f.externalItem(2), nil)
	}
	got := run(t, context.Background(), f.client(t), items, bulk.Options{StoreRemembersEarlierRuns: true}) // a new fake

	require.Len(t, got, 8)
	assert.Equal(t, bulk.Created, got[0].Outcome)
	assert.Equal(t, bulk.Created, got[7].Outcome)
	for _, i := range []int{1, 2, 3, 4, 6} {
		r := got[i]
		assert.Equal(t, bulk.Failed, r.Outcome, "item %d", i)
		assert.ErrorIs(t, r.Err, bulk.ErrInvalidItem, "item %d", i)
		assert.Equal(t, i+1, r.Item.Line)
		assert.Equal(t, subkit.ActionFix, subkit.Classify(r.Err).Action, "item %d: %v", i, r.Err)
		assert.False(t, subkit.Classify(r.Err).MayBeApplied)
	}
	assert.ErrorIs(t, got[2].Err, badLine, "the input's own error is kept")
	assert.ErrorContains(t, got[1].Err, "no create")
	assert.ErrorContains(t, got[3].Err, "key is required")
	assert.ErrorContains(t, got[4].Err, "several creates")
	assert.ErrorContains(t, got[6].Err, "NUL")
	assert.Equal(t, bulk.Failed, got[5].Outcome, "the SDK refuses the params before sending")
	assert.ErrorIs(t, got[5].Err, subkit.ErrInvalidParams)
	assert.ErrorContains(t, got[5].Err, "product_id")
	assert.Equal(t, polarTraffic{posts: 2, gets: 1}, trafficOf(f.Requests(subkit.Polar)))
}

func TestRunOneKeyIsOneCreate(t *testing.T) {
	f := newPolarFake(t, 2)
	other := f.externalItem(1)
	other.Key = user(0) // the key of item 0, for another customer
	got := run(t, context.Background(), f.client(t), bulk.Items(f.externalItem(0), f.externalItem(0), other), bulk.Options{Concurrency: 1})

	n := countOutcomes(got)
	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: 1, bulk.Replayed: 1, bulk.Conflicted: 1}, n,
		"the same item twice is one create; the key for another customer is refused")
	for _, r := range got {
		if r.Outcome == bulk.Conflicted {
			assert.ErrorIs(t, r.Err, subkit.ErrIdempotencyConflict)
			assert.Equal(t, user(1), r.Item.ExternalCustomer.ExternalCustomerID)
		}
	}
	assert.Len(t, f.PolarSubscriptions(), 1)
}

func TestRunLookUpFailureFailsThePageDefinitely(t *testing.T) {
	f := newPolarFake(t, 3)
	f.InjectFault(subkit.Polar, 4, subkittest.Respond(http.StatusServiceUnavailable, `{"detail":"down"}`).On(subkittest.OpLookup))
	got := run(t, context.Background(), f.client(t), f.items(0, 3), bulk.Options{})

	for i, r := range got {
		assert.Equal(t, bulk.Failed, r.Outcome, "item %d", i)
		assert.ErrorIs(t, r.Err, subkit.ErrServer)
		assert.ErrorContains(t, r.Err, "looking up the key before creating")
		assert.False(t, subkit.Classify(r.Err).MayBeApplied, "nothing was sent")
	}
	assert.Equal(t, polarTraffic{gets: 4}, trafficOf(f.Requests(subkit.Polar)), "the look-up's four attempts, no create")
}

func TestRunUnknownOutcome(t *testing.T) {
	f := newPolarFake(t, 1)
	f.InjectFault(subkit.Polar, 1, subkittest.Delay(0).On(subkittest.OpLookup)) // the page look-up passes
	f.InjectFault(subkit.Polar, 1, subkittest.Respond(http.StatusBadGateway, "").On(subkittest.OpCreate))
	f.InjectFault(subkit.Polar, 100, subkittest.Respond(http.StatusServiceUnavailable, "").On(subkittest.OpLookup))
	got := run(t, context.Background(), f.client(t), f.items(0, 1), bulk.Options{SettleTime: quick.SettleTime, StoreRemembersEarlierRuns: true}) // a new fake

	require.Equal(t, bulk.Unknown, got[0].Outcome, "%v", got[0].Err)
	assert.ErrorIs(t, got[0].Err, subkit.ErrOutcomeUnknown)
	assert.Equal(t, subkit.ActionLookUp, subkit.Classify(got[0].Err).Action)
}

func TestRunCancelledReportsEveryItemAndTheRerunFinishes(t *testing.T) {
	const n = 1000
	f := newPolarFake(t, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := map[int]bulk.Result{}
	for r := range bulk.Run(ctx, f.client(t), f.items(0, n), bulk.Options{Concurrency: 4}) {
		got[r.Index] = r
		if len(got) == 300 {
			cancel() // a Ctrl-C
		}
	}

	require.Len(t, got, n, "every item is reported, those never read included")
	counts := countOutcomes(got)
	assert.Equal(t, n, counts[bulk.Created]+counts[bulk.NotAttempted], "in-flight creates finish: %v", counts)
	assert.Positive(t, counts[bulk.NotAttempted])
	for _, r := range got {
		if r.Outcome == bulk.NotAttempted {
			assert.ErrorIs(t, r.Err, context.Canceled)
			assert.ErrorIs(t, r.Err, bulk.ErrNotAttempted)
			assert.Equal(t, subkit.ActionRetry, subkit.Classify(r.Err).Action)
			assert.Zero(t, r.Info.Attempts)
		}
	}
	assert.Len(t, f.PolarSubscriptions(), counts[bulk.Created], "what was reported created, and nothing else")

	again := countOutcomes(run(t, context.Background(), f.client(t), f.items(0, n), bulk.Options{SettleTime: quick.SettleTime}))
	assert.Equal(t, map[bulk.Outcome]int{bulk.Replayed: counts[bulk.Created], bulk.Created: counts[bulk.NotAttempted]}, again)
	keys := keysOnServer(f.Server)
	assert.Len(t, keys, n)
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s", k)
	}
}

func TestRunBreakStopsReadingAndWaitsForTheCreatesInFlight(t *testing.T) {
	const n = 500
	f := newPolarFake(t, n)
	read := 0
	items := func(yield func(bulk.Item, error) bool) {
		for i := range n {
			read++
			if !yield(f.externalItem(i), nil) {
				return
			}
		}
	}
	seen := 0
	for range bulk.Run(context.Background(), f.client(t), items, bulk.Options{Concurrency: 4}) {
		if seen++; seen == 10 {
			break
		}
	}
	posts := trafficOf(f.Requests(subkit.Polar)).posts
	assert.Less(t, read, n, "the rest of the input is not read")
	assert.Len(t, f.PolarSubscriptions(), posts, "every create that was sent has finished")
	// goleak (TestMain) checks that no worker outlived the loop.
}

func TestRunReportsProgress(t *testing.T) {
	f := newPolarFake(t, 250)
	var reports []bulk.Progress
	got := run(t, context.Background(), f.client(t), f.items(0, 250), bulk.Options{Total: 250, ProgressInterval: time.Millisecond,
		Progress: func(p bulk.Progress) { reports = append(reports, p) }})

	require.Len(t, got, 250)
	require.NotEmpty(t, reports)
	last := reports[len(reports)-1]
	assert.True(t, last.Final)
	assert.Equal(t, 250, last.Done)
	assert.Equal(t, 250, last.Total)
	assert.Equal(t, map[bulk.Outcome]int{bulk.Created: 250}, last.Counts)
	assert.Zero(t, last.ETA, "nothing left")
	for i, p := range reports[:len(reports)-1] {
		assert.False(t, p.Final)
		if i > 0 {
			assert.GreaterOrEqual(t, p.Done, reports[i-1].Done)
		}
	}
}

// sequence is a compile-time check that Items makes what Run reads.
var _ iter.Seq2[bulk.Item, error] = bulk.Items()
