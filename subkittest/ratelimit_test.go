package subkittest

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// expectPolar429 checks asgi-ratelimit's answer to the byte: 429, no body,
// no Content-Type, Retry-After the whole window, no X-RateLimit-* header.
func expectPolar429(t *testing.T, got rawAnswer, retryAfter string) {
	t.Helper()
	if got.status != 429 || got.body != "" || got.header.Get("Retry-After") != retryAfter {
		t.Errorf("answer %d %q, Retry-After %q; want 429, no body, Retry-After %q", got.status, got.body, got.header.Get("Retry-After"), retryAfter)
	}
	for k := range got.header {
		if k == "Content-Type" || strings.HasPrefix(k, "X-Ratelimit") {
			t.Errorf("the 429 carries %s: %v", k, got.header)
		}
	}
	if got.header.Get("CF-Ray") == "" || got.header.Get("Polar-Version") != "2026-04" {
		t.Errorf("the 429's headers %v", got.header)
	}
}

// The limiter is asgi-ratelimit's on Redis: a counter per window that
// starts with the identity's first request; a refused request neither
// counts nor moves the window, and Retry-After is the whole window.
func TestPolarRateLimitFixedWindow(t *testing.T) {
	t.Parallel()
	// Half a minute past the hour: windows start with requests, not on the
	// clock's minutes.
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithRateLimit(subkit.Polar, 3, time.Minute))
	rc := rawCreates[subkit.Polar]
	create := func() rawAnswer { return post(t, s.URL()+rc.path, rc.header, rc.body) }
	// The token's first request counts in its pending-auth group; once it
	// authenticated, its requests count in the organization's 3.
	for i := range 4 {
		if got := create(); got.status != 201 {
			t.Fatalf("request %d: %d %s", i, got.status, got.body)
		}
		clock.Advance(time.Second)
	}
	expectPolar429(t, create(), "60")
	// At 00:01:28, past the clock's minute but 57 s into the window (from
	// 00:00:31): still refused, still "60", though 3 s are left.
	clock.Advance(54 * time.Second)
	expectPolar429(t, create(), "60")
	clock.Advance(3 * time.Second) // 00:01:31: the window has ended
	for range 3 {
		if got := create(); got.status != 201 {
			t.Errorf("in the next window: %d %s", got.status, got.body)
		}
	}
	expectPolar429(t, create(), "60")
	// Look-ups count in the same budget.
	expectPolar429(t, get(t, s.URL()+"/v1/subscriptions/", lookupHeaders[subkit.Polar]), "60")
	mustHold(t, s, subkit.Polar, 7)
}

// The limit runs before authentication: requests with an unknown token
// count in their own pending-auth group (60 a window), and a known token
// that was not used for five windows is counted as new again.
func TestPolarRateLimitBeforeAuthentication(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithRateLimit(subkit.Polar, 1, time.Second))
	rc := rawCreates[subkit.Polar]
	bad := headers(rc.header, "Authorization", "Bearer polar_oat_unknown")
	for i := range polarPendingAuthLimit {
		if got := post(t, s.URL()+rc.path, bad, rc.body); got.status != 401 {
			t.Fatalf("bad token, request %d: %d %s", i, got.status, got.body)
		}
	}
	// The 61st is refused before its token is looked at, with the whole
	// (scaled) window.
	expectPolar429(t, post(t, s.URL()+rc.path, bad, rc.body), "1")
	expectPolar429(t, post(t, s.URL()+"/v1/nowhere", bad, ""), "1")

	// The valid token has budgets of its own: pending, then the
	// organization's 1.
	create := func() int { return post(t, s.URL()+rc.path, rc.header, rc.body).status }
	if a, b, c := create(), create(), create(); a != 201 || b != 201 || c != 429 {
		t.Errorf("valid token: %d %d %d, want 201 201 429", a, b, c)
	}
	// Within five windows the token is still known: one request a window.
	clock.Advance(4 * time.Second)
	if a, b := create(), create(); a != 201 || b != 429 {
		t.Errorf("4 windows later: %d %d, want 201 429", a, b)
	}
	// Unused for five windows (Polar: 5 minutes), it is new again: its next
	// request counts in the pending-auth group.
	clock.Advance(5 * time.Second)
	if a, b, c := create(), create(), create(); a != 201 || b != 201 || c != 429 {
		t.Errorf("5 windows later: %d %d %d, want 201 201 429", a, b, c)
	}
	// A token added later starts pending too; it shares the organization's
	// budget, spent in this window.
	s.AddCredential(subkit.Polar, "polar_oat_second")
	second := headers(rc.header, "Authorization", "Bearer polar_oat_second")
	if a, b := post(t, s.URL()+rc.path, second, rc.body).status, post(t, s.URL()+rc.path, second, rc.body).status; a != 201 || b != 429 {
		t.Errorf("second token: %d %d, want 201 429", a, b)
	}
	// Without a token, the client's address has a budget of its own.
	if got := post(t, s.URL()+rc.path, headers(rc.header, "Authorization", ""), rc.body); got.status != 401 {
		t.Errorf("no token: %d %s", got.status, got.body)
	}
	expectPolar429(t, post(t, s.URL()+rc.path, headers(rc.header, "Authorization", ""), rc.body), "1")
}

// What Polar answers before its rate limiter neither counts nor is refused:
// an unknown Polar-Version, a body without length or too large. Paths
// outside /v1 are not limited.
func TestPolarRateLimitOrderOfChecks(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithRateLimit(subkit.Polar, 1, time.Minute))
	rc := rawCreates[subkit.Polar]
	for range 2 { // pending, then the organization's one
		if got := post(t, s.URL()+rc.path, rc.header, rc.body); got.status != 201 {
			t.Fatalf("%d %s", got.status, got.body)
		}
	}
	expectPolar429(t, post(t, s.URL()+rc.path, rc.header, rc.body), "60")
	got := post(t, s.URL()+rc.path, headers(rc.header, "Polar-Version", "2026-07"), rc.body)
	expectAnswer(t, got, 404, `{"detail":"Not Found"}`)
	if got.header.Get("Polar-Version") != "" || got.header.Get("Retry-After") != "" {
		t.Errorf("unknown version: %v", got.header)
	}
	expectAnswer(t, chunkedPost(t, s.URL()+rc.path, rc.header, rc.body), 411,
		`{"error": "LengthRequired", "detail": "A Content-Length header is required."}`)
	expectAnswer(t, post(t, s.URL()+"/nowhere", rc.header, rc.body), 404, `{"detail":"Not Found"}`)
	// The known version is limited like the default.
	expectPolar429(t, post(t, s.URL()+rc.path, headers(rc.header, "Polar-Version", "2026-04"), rc.body), "60")
	mustHold(t, s, subkit.Polar, 2)
}

// Chargeflow and ChatDash publish no limit: the optional one is a plain
// fixed window in their own 429 style, with the seconds left.
func TestRateLimitOfChargeflowAndChatDash(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now), WithRateLimit(subkit.Chargeflow, 2, 10*time.Second))
	cf := rawCreates[subkit.Chargeflow]
	for range 2 {
		if got := post(t, s.URL()+cf.path, cf.header, cf.body); got.status != 201 {
			t.Fatalf("%d %s", got.status, got.body)
		}
	}
	clock.Advance(3500 * time.Millisecond)
	got := post(t, s.URL()+cf.path, cf.header, cf.body)
	expectAnswer(t, got, 429, `{"message":"Too Many Requests"}`)
	if got.header.Get("Retry-After") != "7" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("Chargeflow's 429: %v", got.header)
	}
	// A refused request counts too: a wrong key in the next window.
	clock.Advance(7 * time.Second)
	if got := post(t, s.URL()+cf.path, headers(cf.header, "X-Api-Key", "wrong"), cf.body); got.status != 403 {
		t.Errorf("wrong key: %d", got.status)
	}
	post(t, s.URL()+cf.path, cf.header, cf.body)
	expectAnswer(t, post(t, s.URL()+cf.path, cf.header, cf.body), 429, `{"message":"Too Many Requests"}`)
	// ChatDash has no limit unless asked.
	cd := rawCreates[subkit.ChatDash]
	for range 5 {
		if got := post(t, s.URL()+cd.path, cd.header, cd.body); got.status != 200 {
			t.Errorf("ChatDash: %d", got.status)
		}
	}
}

// polarSandboxRateLimit is Polar's default group in its sandbox, in
// requests per minute.
const polarSandboxRateLimit = 100

func TestRateLimitThroughSDK(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRateLimit(subkit.Polar, polarSandboxRateLimit, time.Minute))
	c := newClient(t, s)
	ctx := context.Background()
	// The first request counts as the token's pending authentication.
	for i := range polarSandboxRateLimit + 1 {
		if _, err := c.Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	// The next must wait the whole window: longer than the deadline allows.
	c = newClient(t, s, subkit.WithTimeout(time.Second))
	var info subkit.ResponseInfo
	_, err := c.Subscriptions.CreateForCustomer(ctx, polarParams(), subkit.WithResponseInfo(&info))
	ae := apiError(t, err)
	if ae.StatusCode != 429 || ae.RetryAfter != time.Minute || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Polar, polarSandboxRateLimit+1)
}

// chunkedPost sends a POST whose body has no declared length.
func chunkedPost(t *testing.T, url string, header map[string]string, body string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, struct{ *strings.Reader }{strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}
