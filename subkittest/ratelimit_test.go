package subkittest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

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
