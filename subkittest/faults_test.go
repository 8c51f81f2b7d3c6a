package subkittest

import (
	"context"
	"errors"
	"net/http"
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
		if got.status != 429 || got.body != want || got.header.Get("Retry-After") != "" || got.header.Get("X-Request-Id") == "" {
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
