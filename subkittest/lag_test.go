package subkittest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// A lagging create is held at once (the accessors read the primary) and
// invisible to every look-up until its lag has passed since it was applied.
func TestReadLagHidesCreatesFromLookups(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithReadLag(subkit.Polar, 2*time.Second, 2*time.Second),
		WithReadLag(subkit.Chargeflow, time.Second, time.Second), WithReadLag(subkit.ChatDash, time.Second, time.Second))
	c := newClient(t, s)
	ctx := context.Background()
	var ids [3]string
	for i, cr := range creates {
		id, err := cr.create(ctx, c, &subkit.ResponseInfo{})
		if err != nil {
			t.Fatalf("%s: %v", cr.api, err)
		}
		ids[i] = id
		mustHold(t, s, cr.api, 1)
	}
	chatdash, chargeflow, polar := ids[0], ids[1], ids[2]
	h := lookupHeaders[subkit.Polar]
	getPolar := func() rawAnswer { return get(t, s.URL()+"/v1/subscriptions/"+polar, h) }

	// Not yet: the list is empty, the get is Polar's 404, the dispute has
	// no subscription, ChatDash's list and get do not know it.
	expectAnswer(t, get(t, s.URL()+"/v1/subscriptions/?customer_id="+customerID, h), 200,
		`{"items":[],"pagination":{"total_count":0,"max_page":0}}`)
	expectAnswer(t, getPolar(), 404, `{"error":"ResourceNotFound","detail":"Not found"}`)
	if got := mustGet(t, s, subkit.Chargeflow, lookupPaths[subkit.Chargeflow]); !strings.Contains(got.body, `"subscription":null`) {
		t.Errorf("Chargeflow before its lag: %s", got.body)
	}
	expectAnswer(t, get(t, s.URL()+lookupPaths[subkit.ChatDash], lookupHeaders[subkit.ChatDash]), 200,
		`{"subscriptions":[],"has_more":false,"next_cursor":null}`)
	expectAnswer(t, get(t, s.URL()+connectPath+accountID+"/subscriptions/"+chatdash, lookupHeaders[subkit.ChatDash]), 404,
		`{"message":"Subscription not found"}`)

	// Chargeflow's and ChatDash's lag (1 s) has passed, Polar's (2 s) not.
	clock.Advance(time.Second)
	if !lookupFinds(t, s, subkit.Chargeflow, chargeflow) || !lookupFinds(t, s, subkit.ChatDash, chatdash) {
		t.Errorf("after 1 s, Chargeflow's and ChatDash's look-ups do not find their creates")
	}
	if got := getPolar(); got.status != 404 {
		t.Errorf("Polar after 1 s of 2: %d", got.status)
	}
	clock.Advance(time.Second)
	if got := getPolar(); got.status != 200 || !lookupFinds(t, s, subkit.Polar, polar) {
		t.Errorf("Polar after its lag: %d %s", got.status, got.body)
	}
}

// The SDK's Get does not find a create within its lag, though the create
// was answered: what a read replica does.
func TestReadLagThroughSDKGet(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now))
	c := newClient(t, s)
	ctx := context.Background()
	s.InjectFault(subkit.Polar, 1, ReadLag(time.Minute))
	sub, err := c.Subscriptions.CreateForCustomer(ctx, polarParams())
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Requests(subkit.Polar)[0]; r.Fault != "read lag 1m0s" || r.Status != 201 {
		t.Errorf("recorded %+v", r)
	}
	if _, err := c.Subscriptions.Get(ctx, sub.ID); err == nil {
		t.Errorf("the get found a create within its lag")
	}
	clock.Advance(time.Minute)
	if got, err := c.Subscriptions.Get(ctx, sub.ID); err != nil || got.ID != sub.ID {
		t.Errorf("after the lag: %v %v", got, err)
	}
}

// A lag drawn between a minimum and a maximum: never visible before the
// minimum, always by the maximum.
func TestReadLagRange(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithReadLag(subkit.Polar, time.Second, 3*time.Second))
	for range 20 {
		createPolarRaw(t, s, rawCreates[subkit.Polar].body)
	}
	clock.Advance(time.Second - time.Nanosecond)
	if l := listPolar(t, s, "limit=100"); l.Pagination.TotalCount != 0 {
		t.Errorf("before the minimum: %d visible", l.Pagination.TotalCount)
	}
	clock.Advance(2*time.Second + time.Nanosecond)
	if l := listPolar(t, s, "limit=100"); l.Pagination.TotalCount != 20 {
		t.Errorf("at the maximum: %d visible", l.Pagination.TotalCount)
	}
	mustHold(t, s, subkit.Polar, 20)
}

// A Chargeflow create that replaces a dispute's subscription is invisible
// within its lag: the look-up answers the one it replaced.
func TestReadLagKeepsTheReplacedChargeflowSubscription(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now))
	rc := rawCreates[subkit.Chargeflow]
	first := idOf(t, post(t, s.URL()+rc.path, rc.header, rc.body).body)
	s.InjectFault(subkit.Chargeflow, 1, ReadLag(time.Second).On(OpCreate))
	second := idOf(t, post(t, s.URL()+rc.path, rc.header, rc.body).body)
	if held := mustHold(t, s, subkit.Chargeflow, 1); held[0].ID != second {
		t.Fatalf("held %+v", held)
	}
	if !lookupFinds(t, s, subkit.Chargeflow, first) {
		t.Errorf("within the lag the dispute does not answer its previous subscription")
	}
	clock.Advance(time.Second)
	if !lookupFinds(t, s, subkit.Chargeflow, second) {
		t.Errorf("after the lag the dispute does not answer its new subscription")
	}
}

func TestWithReadLagPanicsOnABadRange(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ lo, hi time.Duration }{{-time.Second, 0}, {2 * time.Second, time.Second}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("WithReadLag(%s, %s) did not panic", c.lo, c.hi)
				}
			}()
			WithReadLag(subkit.Polar, c.lo, c.hi)(&Server{lags: map[subkit.API]lagRange{}})
		}()
	}
}
