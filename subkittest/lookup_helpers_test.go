package subkittest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// lookupHeaders are each API's valid credentials for a GET.
var lookupHeaders = map[subkit.API]map[string]string{
	subkit.ChatDash:   {"Authorization": AgencyKey},
	subkit.Chargeflow: {"X-Api-Key": ChargeflowKey},
	subkit.Polar:      {"Authorization": "Bearer " + PolarToken},
}

// get sends a raw GET with exactly the given headers and does not follow
// redirects.
func get(t *testing.T, url string, header map[string]string) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// mustGet sends a GET with the API's credential and expects a 200.
func mustGet(t *testing.T, s *Server, api subkit.API, pathAndQuery string) rawAnswer {
	t.Helper()
	got := get(t, s.URL()+pathAndQuery, lookupHeaders[api])
	if got.status != 200 {
		t.Fatalf("GET %s: %d %s", pathAndQuery, got.status, got.body)
	}
	return got
}

// createPolarRaw creates a Polar subscription with a raw request and returns
// the answered body.
func createPolarRaw(t *testing.T, s *Server, body string) string {
	t.Helper()
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+rc.path, rc.header, body)
	if got.status != 201 {
		t.Fatalf("create %s: %d %s", body, got.status, got.body)
	}
	return got.body
}

// polarList is a decoded list answer: the item IDs and the pagination.
type polarList struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	Pagination struct {
		TotalCount int `json:"total_count"`
		MaxPage    int `json:"max_page"`
	} `json:"pagination"`
}

func (l polarList) ids() []string {
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.ID
	}
	return out
}

func listPolar(t *testing.T, s *Server, query string) polarList {
	t.Helper()
	got := mustGet(t, s, subkit.Polar, "/v1/subscriptions/?"+query)
	var l polarList
	if err := json.Unmarshal([]byte(got.body), &l); err != nil {
		t.Fatalf("decoding %s: %v", got.body, err)
	}
	return l
}

func idOf(t *testing.T, body string) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", body)
	}
	return v.ID
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// steppingClock is a clock that tests move by hand.
type steppingClock struct {
	now chan time.Time
}

func newSteppingClock(start time.Time) *steppingClock {
	c := &steppingClock{now: make(chan time.Time, 1)}
	c.now <- start
	return c
}

func (c *steppingClock) Now() time.Time {
	t := <-c.now
	c.now <- t
	return t
}

func (c *steppingClock) Advance(d time.Duration) {
	t := <-c.now
	c.now <- t.Add(d)
}
