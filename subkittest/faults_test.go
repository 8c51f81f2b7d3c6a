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

// TestFaultsThroughSDK plays each fault for each API's create with the SDK's
// default policy (short backoffs) and checks both what the caller gets and
// what the server holds: one call never leaves two subscriptions behind.
func TestFaultsThroughSDK(t *testing.T) {
	t.Parallel()
	type result struct {
		err      error
		info     subkit.ResponseInfo
		id       string
		requests []Request
		held     []heldSub
	}
	cases := []struct {
		name    string
		fault   Fault
		n       int
		timeout time.Duration
		check   func(t *testing.T, r result)
	}{
		{name: "500", fault: Respond(500, `{"message":"Internal server error"}`), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) || !errors.Is(r.err, subkit.ErrServer) {
				t.Errorf("error %v", r.err)
			}
			if ae := apiError(t, r.err); ae.StatusCode != 500 || ae.Attempts != 1 || ae.RequestID != r.requests[0].ID {
				t.Errorf("APIError %+v", ae)
			}
			expectHeld(t, r.held, r.requests, 1, 0)
		}},
		{name: "503 not retried", fault: Respond(503, "").WithHeader("Retry-After", "1"), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) || !errors.Is(r.err, subkit.ErrServer) {
				t.Errorf("error %v", r.err)
			}
			expectHeld(t, r.held, r.requests, 1, 0)
		}},
		{name: "429 with Retry-After", fault: RateLimited("1"), n: 1, check: func(t *testing.T, r result) {
			if r.err != nil || r.info.Attempts != 2 {
				t.Errorf("error %v, info %+v", r.err, r.info)
			}
			if gap := r.requests[1].Time.Sub(r.requests[0].Time); gap < 900*time.Millisecond {
				t.Errorf("retried after %s, not the second asked for", gap)
			}
			expectHeld(t, r.held, r.requests, 2, 1)
		}},
		{name: "429 without Retry-After", fault: RateLimited(""), n: 2, check: func(t *testing.T, r result) {
			if r.err != nil || r.info.Attempts != 3 {
				t.Errorf("error %v, info %+v", r.err, r.info)
			}
			expectHeld(t, r.held, r.requests, 3, 1)
		}},
		{name: "429 asking too long", fault: RateLimited("3600"), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrRateLimited) || errors.Is(r.err, subkit.ErrOutcomeUnknown) {
				t.Errorf("error %v", r.err)
			}
			if ae := apiError(t, r.err); ae.RetryAfter != time.Hour {
				t.Errorf("RetryAfter %s", ae.RetryAfter)
			}
			expectHeld(t, r.held, r.requests, 1, 0)
		}},
		{name: "429 every time", fault: RateLimited("0"), n: 10, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrRateLimited) {
				t.Errorf("error %v", r.err)
			}
			expectHeld(t, r.held, r.requests, 4, 0) // the default MaxAttempts
		}},
		{name: "short delay", fault: Delay(50 * time.Millisecond), n: 1, check: func(t *testing.T, r result) {
			if r.err != nil {
				t.Errorf("error %v", r.err)
			}
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
		{name: "delay past the deadline", fault: Delay(5 * time.Second), n: 1, timeout: 200 * time.Millisecond, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, context.DeadlineExceeded) || !errors.Is(r.err, subkit.ErrOutcomeUnknown) {
				t.Errorf("error %v", r.err)
			}
			// Applied before the answer was held back: the caller cannot know.
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
		{name: "close before handling", fault: CloseBeforeHandling(), n: 1, check: func(t *testing.T, r result) {
			// To the client this is a reset after sending: not retried.
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) || r.info.Attempts != 1 {
				t.Errorf("error %v, info %+v", r.err, r.info)
			}
			expectHeld(t, r.held, r.requests, 1, 0)
			if r.requests[0].Status != 0 || r.requests[0].Fault != "close before handling" {
				t.Errorf("recorded %+v", r.requests[0])
			}
		}},
		{name: "close after handling", fault: CloseAfterHandling(), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) || r.info.Attempts != 1 {
				t.Errorf("error %v, info %+v", r.err, r.info)
			}
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
		{name: "malformed body", fault: MalformedBody(), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) {
				t.Errorf("error %v", r.err)
			}
			if ae := apiError(t, r.err); ae.StatusCode != r.requests[0].Status || ae.StatusCode < 200 || ae.StatusCode > 299 {
				t.Errorf("APIError %+v", ae)
			}
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
		{name: "oversized body, chunked", fault: OversizedBody(64<<20, false), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) {
				t.Errorf("error %v", r.err)
			}
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
		{name: "oversized body, Content-Length", fault: OversizedBody(64<<20, true), n: 1, check: func(t *testing.T, r result) {
			if !errors.Is(r.err, subkit.ErrOutcomeUnknown) {
				t.Errorf("error %v", r.err)
			}
			expectHeld(t, r.held, r.requests, 1, 1)
		}},
	}
	for _, api := range creates {
		for _, c := range cases {
			t.Run(string(api.api)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				s := newServer(t)
				var opts []subkit.Option
				if c.timeout > 0 {
					opts = append(opts, subkit.WithTimeout(c.timeout))
				}
				client := newClient(t, s, opts...)
				s.InjectFault(api.api, c.n, c.fault)
				var r result
				r.id, r.err = api.create(context.Background(), client, &r.info)
				r.requests = s.Requests(api.api)
				r.held = heldSubs(s, api.api)
				if r.err == nil && (len(r.held) != 1 || r.held[0].ID != r.id) {
					t.Errorf("the caller got %q; the server holds %+v", r.id, r.held)
				}
				c.check(t, r)
			})
		}
	}
}

// expectHeld checks the number of attempts the server saw and of
// subscriptions it holds, and that no request created more than one.
func expectHeld(t *testing.T, held []heldSub, reqs []Request, attempts, subs int) {
	t.Helper()
	if len(reqs) != attempts {
		t.Errorf("the server saw %d requests, want %d", len(reqs), attempts)
	}
	if len(held) != subs {
		t.Errorf("the server holds %d subscriptions, want %d", len(held), subs)
	}
	created := 0
	for _, r := range reqs {
		if len(r.Created) > 1 {
			t.Errorf("request %s created %v", r.ID, r.Created)
		}
		created += len(r.Created)
	}
	if created != subs {
		t.Errorf("requests created %d subscriptions, the server holds %d", created, subs)
	}
}

// RetryAmbiguous is the caller's choice to repeat what may have been
// applied: after a close before handling the repeat is harmless, after a
// close after handling it duplicates (Polar takes no idempotency key).
func TestRetryAmbiguousAgainstFaults(t *testing.T) {
	t.Parallel()
	policy := subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, RetryAmbiguous: true})
	ctx := context.Background()

	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, CloseBeforeHandling())
	var info subkit.ResponseInfo
	got, err := newClient(t, s, policy).Subscriptions.CreateForCustomer(ctx, polarParams(), subkit.WithResponseInfo(&info))
	if err != nil || info.Attempts != 2 {
		t.Fatalf("close before handling: %v, %+v", err, info)
	}
	if held := mustHold(t, s, subkit.Polar, 1); held[0].ID != got.ID {
		t.Errorf("held %+v", held)
	}

	s = newServer(t)
	s.InjectFault(subkit.Polar, 1, CloseAfterHandling())
	if _, err := newClient(t, s, policy).Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
		t.Fatalf("close after handling: %v", err)
	}
	held := mustHold(t, s, subkit.Polar, 2)
	reqs := s.Requests(subkit.Polar)
	if len(reqs) != 2 || held[0].RequestID != reqs[0].ID || held[1].RequestID != reqs[1].ID {
		t.Errorf("requests %+v held %+v", reqs, held)
	}
}

func TestFaultQueue(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Chargeflow]
	url := s.URL() + rc.path
	s.InjectFault(subkit.Chargeflow, 1, Respond(502, "bad gateway").On(OpLookup))
	s.InjectFault(subkit.Chargeflow, 2, Respond(503, `{"message":"Service Unavailable"}`))
	s.InjectFault(subkit.Chargeflow, 1, RateLimited("7").WithHeader("X-Extra", "yes"))
	s.InjectFault(subkit.Polar, 0, Respond(500, "")) // n < 1 queues nothing
	if n := s.pendingFaults(subkit.Chargeflow); n != 4 {
		t.Errorf("pendingFaults = %d", n)
	}
	if n := s.pendingFaults(subkit.Polar); n != 0 {
		t.Errorf("pendingFaults(Polar) = %d", n)
	}
	// An unknown path reaches no operation and takes no fault.
	expectAnswer(t, post(t, s.URL()+"/public/nowhere", rc.header, rc.body), 404,
		`{"message":"Not Found","requestId":"`+s.Requests(subkit.Chargeflow)[0].ID+`"}`)

	for range 2 {
		got := post(t, url, rc.header, rc.body)
		if got.status != 503 || got.body != `{"message":"Service Unavailable"}` || got.header.Get("Content-Type") != "application/json" {
			t.Errorf("answer %d %v %s", got.status, got.header, got.body)
		}
	}
	got := post(t, url, rc.header, rc.body)
	if got.status != 429 || got.header.Get("Retry-After") != "7" || got.header.Get("X-Extra") != "yes" ||
		got.body != `{"message":"Too Many Requests"}` {
		t.Errorf("answer %d %v %s", got.status, got.header, got.body)
	}
	if got := post(t, url, rc.header, rc.body); got.status != 201 {
		t.Errorf("after the faults: %d %s", got.status, got.body)
	}
	// The look-up fault is still queued; creates never took it.
	if n := s.pendingFaults(subkit.Chargeflow); n != 1 {
		t.Errorf("pendingFaults = %d", n)
	}
	s.clearFaults(subkit.Chargeflow)
	if n := s.pendingFaults(subkit.Chargeflow); n != 0 {
		t.Errorf("pendingFaults after clearFaults = %d", n)
	}
	var faults []string
	for _, r := range s.Requests(subkit.Chargeflow) {
		faults = append(faults, r.Fault)
	}
	want := []string{"", "respond 503", "respond 503", "rate limited (Retry-After: 7)", ""}
	if len(faults) != len(want) {
		t.Fatalf("faults %q", faults)
	}
	for i := range want {
		if faults[i] != want[i] {
			t.Errorf("faults %q, want %q", faults, want)
			break
		}
	}
}

func TestFaultsAreAPIStyled(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for api, want := range map[subkit.API]string{
		subkit.Polar: "", subkit.Chargeflow: `{"message":"Too Many Requests"}`, subkit.ChatDash: `{"message":"Too Many Requests"}`,
	} {
		s.InjectFault(api, 1, RateLimited(""))
		rc := rawCreates[api]
		got := post(t, s.URL()+rc.path, rc.header, rc.body)
		if got.status != 429 || got.body != want || got.header.Get("Retry-After") != "" || requestIDIn(got.header) == "" {
			t.Errorf("%s: %d %v %q", api, got.status, got.header, got.body)
		}
	}
}

// A fault that handles the request runs the API's checks: a refused create
// is answered as usual, and nothing is applied.
func TestHandlingFaultsKeepRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	s.InjectFault(subkit.Polar, 1, MalformedBody())
	s.InjectFault(subkit.Polar, 1, OversizedBody(1<<20, true))
	for range 2 {
		expectAnswer(t, post(t, s.URL()+rc.path, headers(rc.header, "Authorization", ""), rc.body), 401,
			`{"error":"Unauthorized","detail":"Unauthorized"}`)
	}
	mustHold(t, s, subkit.Polar, 0)
}

func TestOversizedBodyIsStreamed(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.ChatDash]
	s.InjectFault(subkit.ChatDash, 1, OversizedBody(3<<20, false))
	req, _ := http.NewRequest(http.MethodPost, s.URL()+rc.path, stringsReader(rc.body))
	for k, v := range rc.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, prefix := countBody(resp.Body)
	if resp.StatusCode != 200 || resp.ContentLength != -1 || n != 3<<20 || prefix[:8] != `{"id":"s` {
		t.Errorf("status %d, length %d, read %d bytes starting %q", resp.StatusCode, resp.ContentLength, n, prefix)
	}
	mustHold(t, s, subkit.ChatDash, 1)
}

func TestCloseEndsDelays(t *testing.T) {
	t.Parallel()
	s := NewServer()
	s.AddPolarProduct(PolarProduct{ID: productID})
	s.AddPolarCustomer(PolarCustomer{ID: customerID})
	s.InjectFault(subkit.Polar, 1, Delay(time.Hour))
	rc := rawCreates[subkit.Polar]
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = httpPost(s.URL()+rc.path, rc.header, stringsReader(rc.body))
	}()
	for len(heldSubs(s, subkit.Polar)) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	s.Close()
	s.Close() // a second Close does nothing
	<-done
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s", d)
	}
}

func TestRateLimitedWithHTTPDate(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.InjectFault(subkit.Chargeflow, 1, RateLimited(time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat)))
	var info subkit.ResponseInfo
	if _, err := newClient(t, s).Subscriptions.CreateForDispute(context.Background(), disputeID, disputeParams(),
		subkit.WithResponseInfo(&info)); err != nil || info.Attempts != 2 {
		t.Fatalf("%v, %+v", err, info)
	}
	reqs := s.Requests(subkit.Chargeflow)
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 500*time.Millisecond {
		t.Errorf("retried after %s", gap)
	}
	mustHold(t, s, subkit.Chargeflow, 1)
}

// After a dropped connection the same client goes on working.
func TestClientRecoversAfterDroppedConnections(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	ctx := context.Background()
	for _, cr := range creates {
		var info subkit.ResponseInfo
		if _, err := cr.create(ctx, c, &info); err != nil { // a pooled connection first
			t.Fatal(err)
		}
		s.InjectFault(cr.api, 1, CloseAfterHandling())
		if _, err := cr.create(ctx, c, &info); !errors.Is(err, subkit.ErrOutcomeUnknown) {
			t.Errorf("%s: %v", cr.api, err)
		}
		if _, err := cr.create(ctx, c, &info); err != nil {
			t.Errorf("%s after the drop: %v", cr.api, err)
		}
	}
	mustHold(t, s, subkit.ChatDash, 3)
	mustHold(t, s, subkit.Polar, 3)
	mustHold(t, s, subkit.Chargeflow, 1) // one dispute
	if n := len(s.Requests(subkit.Chargeflow)); n != 3 {
		t.Errorf("%d Chargeflow requests", n)
	}
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
	s := NewServer(WithImplicitResources())
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

func TestRespondAfterHandlingAppliesThenFails(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, RespondAfterHandling(500, `{"detail":"boom"}`))
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	var ae *subkit.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || !errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("error %v, want a 500 APIError matching ErrOutcomeUnknown", err)
	}
	held := s.PolarSubscriptions()
	reqs := s.Requests(subkit.Polar)
	if len(held) != 1 || len(reqs) != 1 || len(reqs[0].Created) != 1 || reqs[0].Created[0] != held[0].ID {
		t.Fatalf("held %d, requests %+v: the create must be applied once", len(held), reqs)
	}
	if reqs[0].Status != 500 || reqs[0].Fault != "respond 500 after handling" {
		t.Errorf("recorded status %d, fault %q", reqs[0].Status, reqs[0].Fault)
	}

	// A refusal is answered as the API answers it.
	s.InjectFault(subkit.Polar, 1, RespondAfterHandling(500, ""))
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/subscriptions/", strings.NewReader(`{"product_id":"x","customer_id":"y"}`))
	req.Header.Set("Authorization", "Bearer "+PolarToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || len(s.PolarSubscriptions()) != 1 {
		t.Errorf("status %d, held %d: want Polar's 422 and nothing new", resp.StatusCode, len(s.PolarSubscriptions()))
	}
	http.DefaultClient.CloseIdleConnections()
}
