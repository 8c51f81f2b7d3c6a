package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// credentialVars are the environment variables subkit.WithEnv reads.
var credentialVars = map[subkit.API]string{
	subkit.ChatDash:   "CHATDASH_AGENCY_KEY",
	subkit.Chargeflow: "CHARGEFLOW_API_KEY",
	subkit.Polar:      "POLAR_ACCESS_TOKEN",
}

// env is what a run talks to: its client, the fake when there is one, and
// the request counter on the client's transport.
type env struct {
	client  *subkit.Client
	fake    *subkittest.Server
	counter *counter
	closers []func()
}

func (e *env) close() {
	e.client.CloseIdleConnections()
	e.counter.CloseIdleConnections()
	for _, c := range e.closers {
		c()
	}
	if e.fake != nil {
		e.fake.Close()
	}
}

// connect makes the client the flags ask for: the fake by default, the
// server at -base-url, or the real APIs with -live. It returns nil and the
// exit status when it cannot, having said why on stderr.
func (c *config) connect(sc *scan, stderr io.Writer) (*env, int) {
	e := &env{counter: newCounter()}
	opts := []subkit.Option{
		subkit.WithHTTPClient(&http.Client{Transport: e.counter}),
		subkit.WithTimeout(c.timeout),
		subkit.WithRetryPolicy(subkit.RetryPolicy{SettleTime: c.settle}),
		subkit.WithUserAgent("subkit-bulk/" + subkit.Version),
	}
	shared, err := c.shared()
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: -redis %s: %v\n", c.redisAddr, err)
		return nil, 2
	}
	e.closers = append(e.closers, shared.close)
	opts = append(opts, shared.options...)
	if !c.live && c.baseURL == "" {
		e.fake = subkittest.NewServer()
		sc.seed(e.fake)
		if e.client, err = e.fake.Client(opts...); err != nil {
			e.fake.Close()
			fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
			return nil, 2
		}
		fmt.Fprintf(stderr, "subkit bulk: no -live: running against the built-in fake APIs at %s, seeded with what the input names; nothing real is created\n", e.fake.URL())
		return e, 0
	}
	if why := missingCredentials(sc); why != "" {
		fmt.Fprintf(stderr, "subkit bulk: %s\n", why)
		return nil, 2
	}
	opts = append([]subkit.Option{subkit.WithEnv()}, opts...)
	switch {
	case c.baseURL != "":
		for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
			opts = append(opts, subkit.WithBaseURL(api, c.baseURL))
		}
	case !c.production:
		opts = append(opts, subkit.WithPolarSandbox())
	}
	if e.client, err = subkit.New(opts...); err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err) // never carries a credential
		return nil, 2
	}
	return e, 0
}

// missingCredentials says which credentials the input needs and the
// environment lacks, "" when none.
func missingCredentials(sc *scan) string {
	var missing []string
	anySet := false
	for api, v := range credentialVars {
		set := strings.TrimSpace(os.Getenv(v)) != ""
		anySet = anySet || set
		if sc.apis[api] && !set {
			missing = append(missing, v)
		}
	}
	sort.Strings(missing)
	switch {
	case len(missing) > 0:
		return "the input's creates need " + strings.Join(missing, ", ") + " in the environment; nothing was sent"
	case !anySet:
		return "no credential in the environment (CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY, POLAR_ACCESS_TOKEN); nothing was sent. Without -live and -base-url, subkit bulk runs against the built-in fake"
	}
	return ""
}

// counter counts the requests the client sends, per API, and the 429s it
// is answered, for the summary.
type counter struct {
	base     http.RoundTripper
	requests map[subkit.API]*atomic.Int64
	tooMany  atomic.Int64
}

func newCounter() *counter {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 100 // as the SDK's own client: workers reuse connections
	c := &counter{base: t, requests: map[subkit.API]*atomic.Int64{}}
	for api := range credentialVars {
		c.requests[api] = new(atomic.Int64)
	}
	return c
}

// RoundTrip counts the request under the API its path belongs to (the three
// APIs' paths do not overlap, so this holds on one fake as on the real hosts).
func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	api := subkit.Polar
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/public/"):
		api = subkit.ChatDash
	case strings.HasPrefix(r.URL.Path, "/public/"):
		api = subkit.Chargeflow
	}
	c.requests[api].Add(1)
	res, err := c.base.RoundTrip(r)
	if err == nil && res.StatusCode == http.StatusTooManyRequests {
		c.tooMany.Add(1)
	}
	return res, err
}

// CloseIdleConnections lets the client's CloseIdleConnections reach the
// transport.
func (c *counter) CloseIdleConnections() {
	if t, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
