package subkittest

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

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
	// A known path with another method: Starlette answers with the Allow
	// of the path's first route, the GET.
	for path, allow := range map[string]string{"/v1/subscriptions/": "GET", "/v1/subscriptions/" + productID: "GET"} {
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

// A path that belongs to no API (by the SDK's API table) is a 404 that no
// API records: never taken for Polar's.
func TestPathOfNoAPIIsNotFound(t *testing.T) {
	s := newServer(t)
	for _, path := range []string{"/", "/health", "/v2/subscriptions/", "/public"} {
		got := send(t, http.MethodGet, s.URL()+path, map[string]string{"Authorization": "Bearer " + PolarToken}, nil)
		if got.status != http.StatusNotFound || got.body != `{"detail":"Not Found"}` {
			t.Errorf("%s: answer %d %s, want 404", path, got.status, got.body)
		}
	}
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		if n := len(s.Requests(api)); n != 0 {
			t.Errorf("%s recorded %d requests to no API's path", api, n)
		}
	}
}
