package subkittest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

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

// A refused request's APIError carries the ID the server recorded it
// under, for every API (Polar's a CF-Ray, the others' an X-Request-Id).
func TestAPIErrorRequestIDMatchesTheRecordedRequest(t *testing.T) {
	t.Parallel()
	s := newEmptyServer(t) // nothing registered: every create is refused
	c := newClient(t, s)
	for _, cr := range creates {
		_, err := cr.create(context.Background(), c, &subkit.ResponseInfo{})
		ae := apiError(t, err)
		reqs := s.Requests(cr.api)
		if len(reqs) != 1 || ae.RequestID == "" || ae.RequestID != reqs[0].ID {
			t.Errorf("%s: APIError request ID %q, recorded %+v", cr.api, ae.RequestID, reqs)
		}
	}
}
