package subkittest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

func TestURLAndClient(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	u, err := url.Parse(s.URL())
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("URL %q", s.URL())
	}
	c, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		if !strings.Contains(c.String(), string(api)+": "+s.URL()) {
			t.Errorf("client %s does not point %s at the server", c, api)
		}
	}
	if strings.Contains(c.String(), PolarToken) {
		t.Errorf("the client prints a credential")
	}
}

func TestUnknownPathsInEachAPIsStyle(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	got := post(t, s.URL()+"/v1/public/nowhere", nil, "")
	expectAnswer(t, got, 404, `{"message":"Not Found"}`)
	got = post(t, s.URL()+"/public/nowhere", nil, "")
	expectAnswer(t, got, 404, `{"message":"Not Found","requestId":"`+got.header.Get("X-Request-Id")+`"}`)
	expectAnswer(t, post(t, s.URL()+"/nowhere", nil, ""), 404, `{"detail":"Not Found"}`)
	// A known path with another method.
	for path, allow := range map[string]string{"/v1/subscriptions/": "GET, POST", "/v1/subscriptions/" + productID: "GET"} {
		req, _ := http.NewRequest(http.MethodPut, s.URL()+path, nil)
		req.Header.Set("Authorization", "Bearer "+PolarToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != allow {
			t.Errorf("PUT %s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		if n := len(s.Requests(api)); n == 0 {
			t.Errorf("no %s request recorded", api)
		}
	}
}

func TestRequestsAreRecordedWithCredentialsRedacted(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	s := newServer(t, WithClock(func() time.Time { return now }))
	c := newClient(t, s, subkit.WithUserAgent("tests/1"))
	var infos [3]subkit.ResponseInfo
	for i, cr := range creates {
		if _, err := cr.create(context.Background(), c, &infos[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i, cr := range creates {
		reqs := s.Requests(cr.api)
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", cr.api, len(reqs))
		}
		r := reqs[0]
		if r.ID != infos[i].RequestID || r.Method != "POST" || r.Status != infos[i].StatusCode || !r.Time.Equal(now) ||
			len(r.Created) != 1 || len(r.Body) == 0 || r.API != cr.api || r.Fault != "" {
			t.Errorf("%s: recorded %+v", cr.api, r)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, AgencyKey) || strings.Contains(v, ChargeflowKey) || strings.Contains(v, PolarToken) {
					t.Errorf("%s: header %s carries a credential", cr.api, k)
				}
			}
		}
		if !strings.HasPrefix(r.Header.Get("User-Agent"), "tests/1 subkit-go/") {
			t.Errorf("%s: User-Agent %q", cr.api, r.Header.Get("User-Agent"))
		}
	}
	for api, want := range map[subkit.API][2]string{
		subkit.ChatDash: {"Authorization", "[REDACTED]"}, subkit.Chargeflow: {"X-Api-Key", "[REDACTED]"},
		subkit.Polar: {"Authorization", "Bearer [REDACTED]"},
	} {
		if got := s.Requests(api)[0].Header.Get(want[0]); got != want[1] {
			t.Errorf("%s: %s recorded as %q", api, want[0], got)
		}
	}
	// Records are copies.
	r := s.Requests(subkit.Polar)[0]
	r.Body[0], r.Header["X-Test"] = 'X', []string{"1"}
	if again := s.Requests(subkit.Polar)[0]; again.Body[0] == 'X' || again.Header.Get("X-Test") != "" {
		t.Errorf("Requests returned the server's own record")
	}
}

func TestAddCredential(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddCredential(subkit.Polar, "polar_pat_second")
	c := newClient(t, s, subkit.WithOrganizationToken("polar_pat_second"))
	if _, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams()); err != nil {
		t.Fatal(err)
	}
	// Credentials do not cross APIs.
	c = newClient(t, s, subkit.WithAgencyKey("polar_pat_second"))
	if _, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams()); err == nil {
		t.Errorf("a Polar token worked for ChatDash")
	}
}

func TestConcurrentCreates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	const each = 20
	var wg sync.WaitGroup
	errs := make(chan error, each*len(creates))
	for range each {
		for _, cr := range creates {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var info subkit.ResponseInfo
				if _, err := cr.create(context.Background(), c, &info); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mustHold(t, s, subkit.ChatDash, each)
	mustHold(t, s, subkit.Polar, each)
	// One dispute holds one subscription; the others were replaced.
	mustHold(t, s, subkit.Chargeflow, 1)
	if n := len(s.Requests(subkit.Chargeflow)); n != each {
		t.Errorf("%d Chargeflow requests", n)
	}
}

func TestServersAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := newServer(t), newServer(t)
	a.AddPolarProduct(PolarProduct{})
	a.InjectFault(subkit.Polar, 1, Respond(500, ""))
	rc := rawCreates[subkit.Polar]
	if got := post(t, b.URL()+rc.path, rc.header, rc.body); got.status != 201 {
		t.Errorf("b: %d %s", got.status, got.body)
	}
	if a.polar.orgID == b.polar.orgID {
		t.Errorf("two servers share an organization")
	}
	mustHold(t, a, subkit.Polar, 0)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := newServer(t, WithClock(clock), WithRateLimit(subkit.Polar, 2, time.Minute), WithRateLimit(subkit.Chargeflow, 1, time.Second))
	rc := rawCreates[subkit.Polar]
	for i := range 2 {
		if got := post(t, s.URL()+rc.path, rc.header, rc.body); got.status != 201 {
			t.Fatalf("request %d: %d", i, got.status)
		}
		advance(10 * time.Second)
	}
	got := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got.status != 429 || got.body != "" || got.header.Get("Retry-After") != "40" {
		t.Errorf("over the limit: %d %q %v", got.status, got.body, got.header)
	}
	advance(41 * time.Second)
	if got := post(t, s.URL()+rc.path, rc.header, rc.body); got.status != 201 {
		t.Errorf("after the window: %d %s", got.status, got.body)
	}
	mustHold(t, s, subkit.Polar, 3)

	cf := rawCreates[subkit.Chargeflow]
	post(t, s.URL()+cf.path, cf.header, cf.body)
	got = post(t, s.URL()+cf.path, cf.header, cf.body)
	if got.status != 429 || got.body != `{"message":"Too Many Requests"}` || got.header.Get("Retry-After") != "1" {
		t.Errorf("Chargeflow over the limit: %d %q %v", got.status, got.body, got.header)
	}
	// ChatDash has no limit.
	cd := rawCreates[subkit.ChatDash]
	for range 5 {
		if got := post(t, s.URL()+cd.path, cd.header, cd.body); got.status != 200 {
			t.Errorf("ChatDash: %d", got.status)
		}
	}
}

// polarSandboxRateLimit is Polar's published limit in its sandbox, in
// requests per minute.
const polarSandboxRateLimit = 100

func TestRateLimitThroughSDK(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRateLimit(subkit.Polar, polarSandboxRateLimit, time.Minute))
	c := newClient(t, s)
	ctx := context.Background()
	for i := range polarSandboxRateLimit {
		if _, err := c.Subscriptions.CreateForCustomer(ctx, polarParams()); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	// The next must wait about a minute: longer than the deadline allows.
	c = newClient(t, s, subkit.WithTimeout(time.Second))
	_, err := c.Subscriptions.CreateForCustomer(ctx, polarParams())
	if ae := apiError(t, err); ae.StatusCode != 429 || ae.RetryAfter < 50*time.Second {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Polar, polarSandboxRateLimit)
}
