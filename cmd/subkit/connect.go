package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// envVar is the environment variable subkit.WithEnv reads api's
// credential from.
func envVar(api subkit.API) string {
	info, _ := api.Info()
	return info.EnvVar
}

// env is what a run talks to: its client, the fake when there is one, and
// the request counter on the client's transport.
type env struct {
	client  *subkit.Client
	fake    *subkittest.Server
	counter *counter
	shared  *sharedState
}

func (e *env) close() {
	if e.client != nil {
		e.client.CloseIdleConnections()
	}
	e.counter.CloseIdleConnections()
	e.shared.close()
	if e.fake != nil {
		e.fake.Close()
	}
}

// connect makes the client the flags ask for: the built-in fake by default,
// the server at -base-url, or the real APIs with -live. It returns nil and
// the exit status when it cannot, having said why on stderr.
//
// The client has no deadline on a whole call (WithTimeout(0)), and -timeout
// bounds each request instead (RetryPolicy.AttemptTimeout), from when it
// may go: a paced run queues for its turns on purpose, for as long as the
// budget makes it, and a wait must never fail an item while the run lives
// (package bulk's documentation, Pacing). The run's context ends the waits.
func (c *config) connect(ctx context.Context, sc *scan, stderr io.Writer) (*env, int) {
	e := &env{counter: newCounter()}
	opts := []subkit.Option{
		subkit.WithHTTPClient(&http.Client{Transport: e.counter}),
		subkit.WithTimeout(0),
		subkit.WithRetryPolicy(subkit.RetryPolicy{SettleTime: c.settle, AttemptTimeout: c.timeout}),
		subkit.WithIdempotencyLease(c.lease),
		subkit.WithUserAgent("subkit-bulk/" + subkit.Version),
	}
	dry := !c.live && c.baseURL == ""
	fakeCreds := c.baseURL != "" && onThisMachine(c.baseURL)
	if why := missingCredentials(sc, fakeCreds); !dry && why != "" {
		fmt.Fprintf(stderr, "subkit bulk: %s\n", why)
		return nil, exitUsage
	}
	shared, err := c.openShared(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v; nothing was sent\n", err)
		return nil, exitUsage
	}
	e.shared = shared
	opts = append(opts, shared.options...)
	fmt.Fprintf(stderr, "subkit bulk: %s\n", shared.announce())
	if dry {
		e.fake = subkittest.NewServer()
		sc.seed(e.fake)
		if e.client, err = e.fake.Client(append(opts, dryRunCredentials(e.fake)...)...); err != nil {
			fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
			e.close()
			return nil, exitUsage
		}
		fmt.Fprintf(stderr, "subkit bulk: a dry run against the built-in fake APIs at %s, seeded with what the input names: "+
			"nothing real is created, and the fake is gone when the run ends (\"subkit fake\" serves one that outlives it; -live calls the real APIs)\n", e.fake.URL())
		return e, exitOK
	}
	opts = append([]subkit.Option{subkit.WithEnv()}, opts...)
	switch {
	case c.baseURL != "":
		for _, info := range subkit.APIs() {
			api := info.API
			opts = append(opts, subkit.WithBaseURL(api, c.baseURL))
			if fakeCreds && strings.TrimSpace(os.Getenv(info.EnvVar)) == "" {
				opts = append(opts, fakeCredential(api))
				if sc.apis[api] {
					fmt.Fprintf(stderr, "subkit bulk: no %s in the environment: using subkit fake's own, since %s is on this machine\n",
						info.EnvVar, c.baseURL)
				}
			}
		}
	case !c.production:
		opts = append(opts, subkit.WithPolarSandbox())
	}
	if e.client, err = subkit.New(opts...); err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err) // never carries a credential
		e.shared.close()
		return nil, exitUsage
	}
	return e, exitOK
}

// dryRunCredentials makes the built-in fake accept credentials of its own,
// drawn for this run, and returns the options that use them. A record
// belongs to its target — the API, the base URL and a hash of the
// credential —, so that a dry run's records in the state file never answer
// for any other target: not for a later dry run, nor for a "subkit fake"
// that happens to listen on the port this fake had (it accepts only its
// public test values).
func dryRunCredentials(fake *subkittest.Server) []subkit.Option {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	suffix := hex.EncodeToString(nonce)
	keys := map[subkit.API]string{subkit.ChatDash: "CD.dryrun" + suffix, subkit.Chargeflow: "cf_dryrun_" + suffix,
		subkit.Polar: "polar_oat_dryrun_" + suffix}
	for api, key := range keys {
		fake.AddCredential(api, key)
	}
	return []subkit.Option{subkit.WithAgencyKey(keys[subkit.ChatDash]), subkit.WithChargeflowKey(keys[subkit.Chargeflow]),
		subkit.WithOrganizationToken(keys[subkit.Polar])}
}

// fakeCredential is the option that sets the credential subkit fake (and
// every subkittest server) accepts for api: public test values, not
// secrets.
func fakeCredential(api subkit.API) subkit.Option {
	switch api {
	case subkit.ChatDash:
		return subkit.WithAgencyKey(subkittest.AgencyKey)
	case subkit.Chargeflow:
		return subkit.WithChargeflowKey(subkittest.ChargeflowKey)
	}
	return subkit.WithOrganizationToken(subkittest.PolarToken)
}

// onThisMachine reports whether rawURL names a loopback host, where a
// subkit fake may listen: only there are its credentials offered.
func onThisMachine(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// missingCredentials says which credentials the input needs and the
// environment lacks, "" when none. With fakeCreds, a missing one is the
// fake's own and is never missing.
func missingCredentials(sc *scan, fakeCreds bool) string {
	if fakeCreds {
		return ""
	}
	var missing, all []string
	anySet := false
	for _, info := range subkit.APIs() {
		all = append(all, info.EnvVar)
		set := strings.TrimSpace(os.Getenv(info.EnvVar)) != ""
		anySet = anySet || set
		if sc.apis[info.API] && !set {
			missing = append(missing, info.EnvVar)
		}
	}
	sort.Strings(missing)
	switch {
	case len(missing) > 0:
		return "the input's creates need " + strings.Join(missing, ", ") + " in the environment; nothing was sent"
	case !anySet:
		return "no credential in the environment (" + strings.Join(all, ", ") + "); nothing was sent. Without -live and -base-url, subkit bulk runs against the built-in fake"
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
	for _, info := range subkit.APIs() {
		c.requests[info.API] = new(atomic.Int64)
	}
	return c
}

// RoundTrip counts the request under the API its path belongs to (the three
// APIs' paths do not overlap, so this holds on one fake as on the real hosts).
func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	if api, ok := subkit.APIForPath(r.URL.EscapedPath()); ok {
		c.requests[api].Add(1)
	}
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
