package subkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// A server's state saved and loaded into another: the second holds the
// same subscriptions, keeps its seeds and its organization, answers
// look-ups for what the first made (so a keyed create replays), and keeps
// a ChatDash client's Stripe customer.
func TestStateSurvivesARestart(t *testing.T) {
	first := newServer(t, WithReadLag(subkit.Polar, time.Hour, time.Hour))
	c1 := newClient(t, first)
	ctx := context.Background()
	sub, err := c1.Subscriptions.CreateForCustomer(ctx, polarParams(), subkit.WithIdempotencyKey("k-1"))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second replaces the first on its dispute
		if _, err := c1.Subscriptions.CreateForDispute(ctx, disputeID, disputeParams()); err != nil {
			t.Fatal(err)
		}
	}
	connect, err := c1.Subscriptions.CreateConnect(ctx, accountID, connectParams())
	if err != nil {
		t.Fatal(err)
	}
	var saved bytes.Buffer
	if err := first.SaveState(&saved); err != nil {
		t.Fatal(err)
	}

	second := newEmptyServer(t)
	if err := second.LoadState(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}

	sameJSON(t, "Polar subscriptions", second.PolarSubscriptions(), first.PolarSubscriptions())
	sameJSON(t, "Chargeflow subscriptions", second.ChargeflowSubscriptions(), first.ChargeflowSubscriptions())
	sameJSON(t, "ChatDash subscriptions", second.ChatDashSubscriptions(), first.ChatDashSubscriptions())
	if len(second.Requests(subkit.Polar)) != 0 {
		t.Error("the requests of the first server were loaded")
	}
	// The Polar create was saved with its read lag: look-ups still miss it.
	if lookupFinds(t, second, subkit.Polar, sub.ID) {
		t.Error("a look-up finds a create whose read lag has not passed")
	}

	third := newEmptyServer(t)
	var noLag bytes.Buffer
	if err := second.SaveState(&noLag); err != nil {
		t.Fatal(err)
	}
	loaded := strings.Replace(noLag.String(), `"visible_at":"`, `"visible_at":"2000-01-01T00:00:00Z","was":"`, 1)
	if err := third.LoadState(strings.NewReader(loaded)); err != nil {
		t.Fatal(err)
	}
	c3 := newClient(t, third)
	var info subkit.ResponseInfo
	again, err := c3.Subscriptions.CreateForCustomer(ctx, polarParams(), subkit.WithIdempotencyKey("k-1"), subkit.WithResponseInfo(&info))
	if err != nil || info.Outcome != subkit.OutcomeReplayed || again.ID != sub.ID {
		t.Fatalf("keyed create after the load: %v, outcome %q, %v (want %s replayed)", err, info.Outcome, again, sub.ID)
	}
	if again.Customer.OrganizationID != sub.Customer.OrganizationID {
		t.Errorf("the organization changed: %s, was %s", again.Customer.OrganizationID, sub.Customer.OrganizationID)
	}
	// The seeds came along: a new create for the same product and customer
	// is accepted, and ChatDash bills the same client's customer.
	if _, err := c3.Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
		t.Errorf("create for the seeded product and customer: %v", err)
	}
	connect2, err := c3.Subscriptions.CreateConnect(ctx, accountID, connectParams())
	if err != nil || connect2.Customer.ID != connect.Customer.ID {
		t.Errorf("ChatDash create after the load: %v, customer %v (want %s)", err, connect2, connect.Customer.ID)
	}
	if d, err := c3.Subscriptions.GetForDispute(ctx, disputeID); err != nil || d.ID != first.ChargeflowSubscriptions()[0].ID {
		t.Errorf("the dispute's subscription after the load: %v, %v", d, err)
	}
}

// sameJSON compares two values as JSON: times compare by their instant,
// without the monotonic reading a saved time cannot keep.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil || string(g) != string(w) || string(w) == "null" {
		t.Errorf("%s after the load:\n got %s\nwant %s", what, g, w)
	}
}

func TestLoadStateRefusesWhatItCannotRead(t *testing.T) {
	s := newServer(t)
	c := newClient(t, s)
	if _, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams()); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		``,
		`{"version":2}`,
		`not json`,
		`{"version":1,"subscriptions":[{"api":"polar","id":"x","body":{}}]}`,
		`{"version":1,"subscriptions":[{"api":"stripe","id":"x","body":{},"polar":{}}]}`,
	} {
		if err := s.LoadState(strings.NewReader(bad)); err == nil {
			t.Errorf("LoadState(%q) did not fail", bad)
		}
	}
	mustHold(t, s, subkit.Polar, 1) // a refused load changes nothing
}

func TestResetForgetsWhatWasMadeAndKeepsTheSeeds(t *testing.T) {
	s := newServer(t, WithRateLimit(subkit.Polar, 1, time.Hour))
	c := newClient(t, s)
	ctx := context.Background()
	if _, err := c.Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
		t.Fatal(err)
	}
	s.InjectFault(subkit.Chargeflow, 5, Respond(503, ""))
	mark := s.StateMark()

	s.Reset()

	if s.StateMark() == mark {
		t.Error("StateMark did not change with Reset")
	}
	mustHold(t, s, subkit.Polar, 0)
	if n := len(s.Requests(subkit.Polar)); n != 0 {
		t.Errorf("%d requests remembered after Reset", n)
	}
	if n := s.pendingFaults(subkit.Chargeflow); n != 0 {
		t.Errorf("%d faults still queued after Reset", n)
	}
	// The window's one request was spent; Reset starts a new one, and the
	// seeds are still there.
	if _, err := c.Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
		t.Errorf("create after Reset: %v", err)
	}
	if s.StateMark() == mark {
		t.Error("StateMark did not change with a create")
	}
}

// A server made WithoutListener serves where its caller serves it, and
// WithRequestLog bounds what it remembers.
func TestServerWithoutListener(t *testing.T) {
	s := newServer(t, WithoutListener(), WithRequestLog(3))
	if s.URL() != "" {
		t.Errorf("URL %q, want none", s.URL())
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := subkit.New(subkit.WithBaseURL(subkit.Polar, ts.URL), subkit.WithOrganizationToken(PolarToken), fastPolicy())
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for range 7 {
		if _, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams()); err != nil {
			t.Fatal(err)
		}
	}
	mustHold(t, s, subkit.Polar, 7)
	reqs := s.Requests(subkit.Polar)
	if len(reqs) < 3 || len(reqs) > 6 {
		t.Errorf("%d requests remembered, want between 3 and 6", len(reqs))
	}
	last := s.PolarSubscriptions()[6]
	if got := reqs[len(reqs)-1].Created; len(got) != 1 || got[0] != last.ID {
		t.Errorf("the last request remembered created %v, want %s", got, last.ID)
	}
	var st struct {
		Version       int               `json:"version"`
		Subscriptions []json.RawMessage `json:"subscriptions"`
	}
	var buf bytes.Buffer
	if err := s.SaveState(&buf); err != nil || json.Unmarshal(buf.Bytes(), &st) != nil || st.Version != 1 || len(st.Subscriptions) != 7 {
		t.Errorf("SaveState: %v, %d subscriptions of version %d", err, len(st.Subscriptions), st.Version)
	}
}
