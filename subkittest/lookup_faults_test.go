package subkittest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// lookupPaths is one look-up per API, valid on a fresh server.
var lookupPaths = map[subkit.API]string{
	subkit.ChatDash:   connectPath + accountID + "/subscriptions",
	subkit.Chargeflow: disputePath + disputeID + "?expand=subscription",
	subkit.Polar:      "/v1/subscriptions/?customer_id=" + customerID,
}

// unknownPaths are paths of each API that serve nothing.
var unknownPaths = map[subkit.API]string{
	subkit.ChatDash:   connectPath + accountID + "/subscriptions/x/y",
	subkit.Chargeflow: disputePath + disputeID + "/x/y",
	subkit.Polar:      "/v1/subscriptions/x/y",
}

// nothingFound is what each look-up of lookupPaths answers within while it
// finds no subscription.
var nothingFound = map[subkit.API]string{
	subkit.ChatDash:   `"subscriptions":[]`,
	subkit.Chargeflow: `"subscription":null`,
	subkit.Polar:      `"items":[]`,
}

func TestFaultsOnLookups(t *testing.T) {
	t.Parallel()
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			url, h, rc := s.URL()+lookupPaths[api], lookupHeaders[api], rawCreates[api]
			s.InjectFault(api, 1, Respond(503, `{"message":"Service Unavailable"}`).On(OpLookup))
			// A create does not take a look-up fault.
			if got := post(t, s.URL()+rc.path, rc.header, rc.body); got.status/100 != 2 {
				t.Fatalf("create: %d %s", got.status, got.body)
			}
			expectAnswer(t, get(t, url, h), 503, `{"message":"Service Unavailable"}`)
			healthy := get(t, url, h)
			if healthy.status != 200 {
				t.Fatalf("after the fault: %d %s", healthy.status, healthy.body)
			}

			// A fault without On takes the next request, a look-up too.
			s.InjectFault(api, 1, RateLimited("2"))
			if got := get(t, url, h); got.status != 429 || got.header.Get("Retry-After") != "2" {
				t.Errorf("rate limited: %d %v", got.status, got.header)
			}
			// A create fault leaves look-ups alone.
			s.InjectFault(api, 1, Respond(500, "").On(OpCreate))
			if got := get(t, url, h); got.status != 200 || s.pendingFaults(api) != 1 {
				t.Errorf("look-up took a create fault: %d, %d pending", got.status, s.pendingFaults(api))
			}
			s.clearFaults(api)

			// A fault is played before the credential is checked.
			s.InjectFault(api, 1, Respond(502, "bad gateway").On(OpLookup))
			if got := get(t, url, nil); got.status != 502 || got.body != "bad gateway" {
				t.Errorf("unauthenticated: %d %s", got.status, got.body)
			}
			// Handling faults answer what the look-up found.
			s.InjectFault(api, 1, MalformedBody().On(OpLookup))
			if got := get(t, url, h); got.status != 200 || got.body != healthy.body[:len(healthy.body)/2] {
				t.Errorf("malformed: %d %s", got.status, got.body)
			}
			s.InjectFault(api, 1, Delay(100*time.Millisecond).On(OpLookup))
			start := time.Now()
			if got := get(t, url, h); got.status != 200 || got.body != healthy.body || time.Since(start) < 100*time.Millisecond {
				t.Errorf("delay: %d after %s", got.status, time.Since(start))
			}
			s.InjectFault(api, 1, CloseBeforeHandling().On(OpLookup))
			// A new connection: net/http would repeat a GET that failed on
			// a reused one.
			fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			if resp, err := fresh.Get(url); err == nil {
				resp.Body.Close()
				t.Errorf("close before handling: %d", resp.StatusCode)
			}
			// An unknown path takes no fault.
			s.InjectFault(api, 1, Respond(500, "").On(OpLookup))
			if got := get(t, s.URL()+unknownPaths[api], h); got.status != 404 {
				t.Errorf("unknown path: %d", got.status)
			}
			if n := s.pendingFaults(api); n != 1 {
				t.Errorf("%d faults pending", n)
			}

			var faults []string
			for _, r := range s.Requests(api) {
				if r.Fault != "" {
					faults = append(faults, r.Fault)
				}
			}
			want := "respond 503,rate limited (Retry-After: 2),respond 502,malformed body,delay 100ms,close before handling"
			if strings.Join(faults, ",") != want {
				t.Errorf("faults %q", faults)
			}
		})
	}
}

// lookupFinds reports whether the API's look-up finds a subscription with id.
func lookupFinds(t *testing.T, s *Server, api subkit.API, id string) bool {
	t.Helper()
	got := mustGet(t, s, api, lookupPaths[api])
	return strings.Contains(got.body, `"id":"`+id+`"`)
}

func TestCommitLateIsVisibleOnlyAfterTheDelay(t *testing.T) {
	t.Parallel()
	const d = 400 * time.Millisecond
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		t.Run(string(api), func(t *testing.T) {
			t.Parallel()
			s := newServer(t)
			s.InjectFault(api, 1, CommitLate(d).On(OpCreate))
			rc := rawCreates[api]
			start := time.Now()
			answered := make(chan rawAnswer, 1)
			go func() { answered <- post(t, s.URL()+rc.path, rc.header, rc.body) }()
			for len(s.Requests(api)) == 0 {
				time.Sleep(time.Millisecond)
			}
			// While d runs, neither look-ups nor the inspection see it.
			for time.Since(start) < d/2 {
				if got := mustGet(t, s, api, lookupPaths[api]); !strings.Contains(got.body, nothingFound[api]) {
					t.Fatalf("visible before the commit: %s", got.body)
				}
				if n := len(heldSubs(s, api)); n != 0 {
					t.Fatalf("held %d before the commit", n)
				}
				time.Sleep(20 * time.Millisecond)
			}
			got := <-answered
			if got.status/100 != 2 || time.Since(start) < d {
				t.Fatalf("answered %d after %s", got.status, time.Since(start))
			}
			id := idOf(t, got.body)
			held := mustHold(t, s, api, 1)
			if held[0].ID != id || string(held[0].Body) != got.body || !lookupFinds(t, s, api, id) {
				t.Errorf("after the commit: held %+v; answer %s", held[0], got.body)
			}
			r := s.Requests(api)[0]
			if r.Fault != "commit late 400ms" || len(r.Created) != 1 || r.Created[0] != id {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

// The server finishes its work when the client gives up: the create is
// applied at d all the same.
func TestCommitLateAppliesAfterTheClientLeft(t *testing.T) {
	t.Parallel()
	const d = 500 * time.Millisecond
	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, CommitLate(d))
	rc := rawCreates[subkit.Polar]
	req, _ := http.NewRequest(http.MethodPost, s.URL()+rc.path, strings.NewReader(rc.body))
	for k, v := range rc.header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	if _, err := (&http.Client{Timeout: 100 * time.Millisecond}).Do(req); err == nil {
		t.Fatal("the client did not time out")
	}
	if l := listPolar(t, s, ""); len(l.Items) != 0 {
		t.Fatalf("visible right after the client left: %v", l.ids())
	}
	for len(heldSubs(s, subkit.Polar)) == 0 {
		if time.Since(start) > 10*time.Second {
			t.Fatal("never applied")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if elapsed := time.Since(start); elapsed < d {
		t.Errorf("applied after %s, before d", elapsed)
	}
	held := mustHold(t, s, subkit.Polar, 1)
	sameIDs(t, "list", listPolar(t, s, "").ids(), []string{held[0].ID})
	r := s.Requests(subkit.Polar)[0]
	if len(r.Created) != 1 || r.Created[0] != held[0].ID {
		t.Errorf("recorded %+v", r)
	}
}

// Through the SDK: a deadline shorter than d is an unknown outcome, and the
// subscription appears only later.
func TestCommitLateThroughSDK(t *testing.T) {
	t.Parallel()
	const d = 400 * time.Millisecond
	s := newServer(t)
	s.InjectFault(subkit.Chargeflow, 1, CommitLate(d).On(OpCreate))
	c := newClient(t, s, subkit.WithTimeout(100*time.Millisecond))
	start := time.Now()
	_, err := c.Subscriptions.CreateForDispute(context.Background(), disputeID, disputeParams())
	if !errors.Is(err, subkit.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v", err)
	}
	var d0 struct{ Subscription json.RawMessage }
	_ = json.Unmarshal([]byte(mustGet(t, s, subkit.Chargeflow, lookupPaths[subkit.Chargeflow]).body), &d0)
	if string(d0.Subscription) != "null" {
		t.Fatalf("visible before d: %s", d0.Subscription)
	}
	time.Sleep(d - time.Since(start) + 200*time.Millisecond)
	held := mustHold(t, s, subkit.Chargeflow, 1)
	if !lookupFinds(t, s, subkit.Chargeflow, held[0].ID) {
		t.Errorf("the look-up does not find %s", held[0].ID)
	}
}

// Close stops a late commit: the create is never applied.
func TestCommitLateDroppedWhenTheServerCloses(t *testing.T) {
	t.Parallel()
	s := NewServer()
	s.InjectFault(subkit.ChatDash, 1, CommitLate(time.Hour))
	rc := rawCreates[subkit.ChatDash]
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = httpPost(s.URL()+rc.path, rc.header, stringsReader(rc.body))
	}()
	for len(s.Requests(subkit.ChatDash)) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Close()
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
	if n := len(heldSubs(s, subkit.ChatDash)); n != 0 {
		t.Errorf("held %d after Close", n)
	}
	if r := s.Requests(subkit.ChatDash)[0]; len(r.Created) != 0 || r.Status != 0 {
		t.Errorf("recorded %+v", r)
	}
}
