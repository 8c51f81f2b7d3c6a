package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

func TestNewRefusesInvalidOptions(t *testing.T) {
	key := subkit.WithAgencyKey(testAgencyKey)
	cases := []struct {
		name string
		opts []subkit.Option
		msg  string
	}{
		{"no credential at all", nil, "no credential"},
		{"empty agency key", []subkit.Option{subkit.WithAgencyKey("")}, "WithAgencyKey: the credential is empty"},
		{"blank chargeflow key", []subkit.Option{key, subkit.WithChargeflowKey("   ")}, "WithChargeflowKey: the credential is empty"},
		{"empty polar token", []subkit.Option{key, subkit.WithOrganizationToken("")}, "WithOrganizationToken"},
		{"key with a newline", []subkit.Option{subkit.WithAgencyKey("CD.abc\r\nX-Evil: 1")}, "control character"},
		{"key with spaces around", []subkit.Option{subkit.WithAgencyKey(" CD.abc")}, "white space"},
		{"http base URL", []subkit.Option{key, subkit.WithBaseURL(subkit.ChatDash, "http://api.chat-dash.com")}, "must be https"},
		{"ftp base URL", []subkit.Option{key, subkit.WithBaseURL(subkit.ChatDash, "ftp://127.0.0.1")}, "must be https"},
		{"base URL without host", []subkit.Option{key, subkit.WithBaseURL(subkit.Polar, "https://")}, "no host"},
		{"relative base URL", []subkit.Option{key, subkit.WithBaseURL(subkit.Polar, "/v1")}, "no host"},
		{"base URL with user info", []subkit.Option{key, subkit.WithBaseURL(subkit.Polar, "https://u:p@api.polar.sh")}, "user info"},
		{"base URL with a query", []subkit.Option{key, subkit.WithBaseURL(subkit.Polar, "https://api.polar.sh?x=1")}, "query"},
		{"unparsable base URL", []subkit.Option{key, subkit.WithBaseURL(subkit.Polar, "https://a b\x7f")}, "not a valid URL"},
		{"unknown API", []subkit.Option{key, subkit.WithBaseURL("stripe", "https://api.stripe.com")}, `unknown API "stripe"`},
		{"negative timeout", []subkit.Option{key, subkit.WithTimeout(-time.Second)}, "WithTimeout"},
		{"negative MaxAttempts", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{MaxAttempts: -1})}, "MaxAttempts is negative"},
		{"negative MinBackoff", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: -1})}, "MinBackoff is negative"},
		{"negative MaxBackoff", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{MaxBackoff: -1})}, "MaxBackoff is negative"},
		{"negative MaxRetryAfter", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{MaxRetryAfter: -1})}, "MaxRetryAfter is negative"},
		{"negative SettleTime", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{SettleTime: -1})}, "SettleTime is negative"},
		{"negative AttemptTimeout", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{AttemptTimeout: -1})}, "AttemptTimeout is negative"},
		{"MinBackoff above MaxBackoff", []subkit.Option{key, subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Minute, MaxBackoff: time.Second})}, "greater than MaxBackoff"},
		{"nil HTTP client", []subkit.Option{key, subkit.WithHTTPClient(nil)}, "WithHTTPClient"},
		{"user agent with a newline", []subkit.Option{key, subkit.WithUserAgent("app\n1")}, "WithUserAgent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := subkit.New(tc.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "CD.abc")
		})
	}
	_, err := subkit.New()
	assert.ErrorIs(t, err, subkit.ErrMissingCredential)
}

func TestNewAcceptsLoopbackAndDefaults(t *testing.T) {
	for _, u := range []string{"http://localhost:8080", "http://127.0.0.1", "http://[::1]:9000/prefix", "https://127.0.0.2", "https://api.example.com/base/"} {
		_, err := subkit.New(subkit.WithAgencyKey(testAgencyKey), subkit.WithBaseURL(subkit.ChatDash, u))
		assert.NoError(t, err, u)
	}
	p := subkit.DefaultRetryPolicy()
	assert.Equal(t, subkit.RetryPolicy{MaxAttempts: 4, MinBackoff: 500 * time.Millisecond, MaxBackoff: 10 * time.Second,
		MaxRetryAfter: 60 * time.Second, SettleTime: 6 * time.Second}, p)
}

func TestWithEnvReadsCredentialsAndExplicitOptionsWin(t *testing.T) {
	t.Setenv("CHATDASH_AGENCY_KEY", "CD.fromenv")
	t.Setenv("CHARGEFLOW_API_KEY", "  ")
	t.Setenv("POLAR_ACCESS_TOKEN", "polar_oat_fromenv\n")
	m := newMock(t)
	m.on(http.MethodPost, chatdashCreateURL, answer(200, fixture(t, "chatdash-create-subscription.json")))
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithEnv(), subkit.WithHTTPClient(&http.Client{Transport: m}))
	require.NoError(t, err)
	require.NoError(t, connect(chatdashAccount, nil)(c))
	require.NoError(t, polarCustomer(nil)(c))
	err = dispute(disputeID, nil)(c)
	assert.ErrorIs(t, err, subkit.ErrMissingCredential, "a blank variable is no credential")
	reqs := m.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "CD.fromenv", reqs[0].Header.Get("Authorization"))
	assert.Equal(t, "Bearer "+testPolarToken, reqs[1].Header.Get("Authorization"), "the explicit option wins over the environment")
}

// countingTransport records whether the SDK reached past RoundTrip.
type countingTransport struct {
	http.RoundTripper
	closeIdle atomic.Int32
}

func (c *countingTransport) CloseIdleConnections() { c.closeIdle.Add(1) }

func TestWithHTTPClientIsNeverMutated(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(429, ""), answer(500, ""))
	ct := &countingTransport{RoundTripper: m}
	hc := &http.Client{Transport: ct, Timeout: 5 * time.Second}
	before := *hc
	c := newClient(t, m, subkit.WithHTTPClient(hc))
	for range 3 {
		_ = polarCustomer(nil)(c)
	}
	c.CloseIdleConnections()
	assert.Same(t, before.Transport, hc.Transport)
	assert.Nil(t, hc.CheckRedirect, "the caller's redirect policy is untouched")
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.Zero(t, ct.closeIdle.Load(), "the caller's idle connections are the caller's")
	assert.Len(t, m.requests(), 4, "429 then 500, then 500 twice: a 5xx is not retried")
}

// A caller's transport that writes to a request's header (against
// RoundTripper's contract, yet common in middleware) changes that request
// only: with a caller's client every request has a header of its own, while
// the SDK's own transport shares one per API (see requestHeaders).
func TestCallerTransportWritingAHeaderChangesOneRequest(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	var stamp atomic.Int32
	stamping := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Header.Add("X-Stamp", strconv.Itoa(int(stamp.Add(1))))
		return m.RoundTrip(r)
	})
	c := newClient(t, m, subkit.WithHTTPClient(&http.Client{Transport: stamping}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, polarCustomer(nil)(c))
		}()
	}
	wg.Wait()
	reqs := m.requests()
	require.Len(t, reqs, 8)
	seen := map[string]bool{}
	for _, r := range reqs {
		require.Len(t, r.Header.Values("X-Stamp"), 1, "one stamp per request: no request carries another's")
		seen[r.Header.Get("X-Stamp")] = true
		assert.Equal(t, "Bearer "+testPolarToken, r.Header.Get("Authorization"))
	}
	assert.Len(t, seen, 8)
}

func TestCrossHostRedirectForwardsNothing(t *testing.T) {
	var hits atomic.Int32
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(201)
	}))
	defer evil.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, evil.URL+"/v1/subscriptions/", http.StatusTemporaryRedirect)
	}))
	defer api.Close()

	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithBaseURL(subkit.Polar, api.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	err = polarCustomer(nil)(c)
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusTemporaryRedirect, ae.StatusCode)
	assert.Zero(t, hits.Load(), "the redirect was not followed: no credential went to the other host")
	assert.NotContains(t, err.Error(), testPolarToken)
}

func TestClientPrintsNoSecret(t *testing.T) {
	c := newClient(t, newMock(t))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
		for _, v := range []any{c, *c, c.Subscriptions, *c.Subscriptions} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{testAgencyKey, testCFKey, testPolarToken, "SECRET", "a1b2c3d4e5f6"} {
				assert.NotContains(t, out, secret, "%s of %T", verb, v)
			}
		}
	}
	assert.Contains(t, c.String(), "polar: https://api.polar.sh (credential [REDACTED])")
}

func TestErrorsAndLogsCarryNoSecret(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, fail(refused), answer(429, "", "Retry-After", "0"),
		answer(401, `{"error":"invalid_token","error_description":"bad token"}`))
	m.on(http.MethodPost, chargeflowCreateURL, answer(503, "down"))
	m.on(http.MethodPost, chatdashCreateURL, fail(refused))
	var logs logLines
	c := newClient(t, m, subkit.WithLogger(logs.logger()))

	var errs []error
	errs = append(errs, polarCustomer(nil)(c))                                                              // retried twice, then an APIError
	errs = append(errs, dispute(disputeID, nil)(c))                                                         // 5xx
	errs = append(errs, connect(chatdashAccount, nil)(c))                                                   // transport error
	errs = append(errs, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "x" })(c)) // validation
	c2, _ := subkit.New(subkit.WithAgencyKey(testAgencyKey))
	errs = append(errs, polarCustomer(nil)(c2)) // missing credential
	_, err := subkit.New(subkit.WithAgencyKey(testAgencyKey), subkit.WithBaseURL(subkit.Polar, "http://example.com"))
	errs = append(errs, err) // option error

	for i, err := range errs {
		require.Error(t, err, "error %d", i)
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			out := fmt.Sprintf(verb, err)
			for _, secret := range []string{testAgencyKey, testCFKey, testPolarToken, "SECRET"} {
				assert.NotContains(t, out, secret, "error %d with %s", i, verb)
			}
		}
	}

	debug, warn := logs.at(t, "DEBUG"), logs.at(t, "WARN")
	assert.Len(t, debug, 3+1+4, "one Debug line per attempt")
	assert.Len(t, warn, 2+3, "one Warn line per retry")
	for _, l := range debug {
		for _, k := range []string{"api", "method", "path", "status", "attempt", "duration", "request_id"} {
			assert.Contains(t, l, k)
		}
	}
	out := logs.buf.String()
	for _, secret := range []string{testAgencyKey, testCFKey, testPolarToken, "SECRET", "Authorization", "x-api-key", "product_id"} {
		assert.NotContains(t, out, secret, "logs must carry no credential, header or body")
	}
	assert.True(t, strings.Contains(out, `"path":"/v1/subscriptions/"`))
}

func TestDefaultClientReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"id":"` + productID + `"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithBaseURL(subkit.Polar, srv.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	for range 20 {
		require.NoError(t, polarCustomer(nil)(c))
	}
	assert.Equal(t, int32(1), conns.Load(), "sequential calls share one connection")
	_ = context.Background()
}

// The SDK's own pool opens no more connections to a host than it keeps idle
// (100): more callers than that wait for a connection instead of dialing one
// that would be closed when it came back. The server holds every request
// until 100 are in flight at once, so without the bound the other 50
// callers would each dial.
func TestDefaultPoolOpensNoMoreConnectionsThanItKeeps(t *testing.T) {
	const pool, callers = 100, 150
	var (
		opened, closed, inFlight, most atomic.Int32
		full                           = make(chan struct{})
		fullOnce                       sync.Once
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if n >= pool {
			fullOnce.Do(func() { close(full) })
		}
		select {
		case <-full:
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(201)
		_, _ = w.Write([]byte(`{"id":"` + productID + `"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithBaseURL(subkit.Polar, srv.URL))
	require.NoError(t, err)
	errs := make(chan error, callers)
	for range callers {
		go func() { errs <- polarCustomer(nil)(c) }()
	}
	for range callers {
		require.NoError(t, <-errs)
	}
	assert.Equal(t, int32(pool), most.Load(), "requests in flight at once")
	assert.Equal(t, int32(pool), opened.Load(), "connections opened")
	assert.Zero(t, closed.Load(), "connections closed before the client let them go")
	c.CloseIdleConnections()
}

// A retried call releases each refused response before the next attempt:
// the first one (made outside go-retryablehttp) and the later ones (inside
// it) alike, so every attempt goes over the one connection.
func TestRetriedCallReusesItsConnection(t *testing.T) {
	var conns, hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if hits.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"detail":"slow down"}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(fixture(t, "polar-subscription.json")))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithBaseURL(subkit.Polar, srv.URL),
		subkit.WithRetryPolicy(fastPolicy()))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	var info subkit.ResponseInfo
	sub, err := c.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.NotEmpty(t, sub.ID)
	assert.Equal(t, 3, info.Attempts, "two 429s, then the create")
	assert.Equal(t, http.StatusCreated, info.StatusCode)
	assert.Equal(t, int32(3), hits.Load())
	assert.Equal(t, int32(1), conns.Load(), "every attempt used the one connection")
}

func TestNilStoreIsRefused(t *testing.T) {
	_, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithIdempotencyStore(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithIdempotencyStore")
	_, err = subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithIdempotencyLease(0))
	assert.ErrorContains(t, err, "WithIdempotencyLease")
}

func TestMissingCredentialIsRefusedBeforeSending(t *testing.T) {
	m := newMock(t)
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithHTTPClient(&http.Client{Transport: m}))
	require.NoError(t, err)
	var info subkit.ResponseInfo
	_, err = c.Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams(), subkit.WithResponseInfo(&info))
	require.ErrorIs(t, err, subkit.ErrMissingCredential)
	assert.Contains(t, err.Error(), "WithAgencyKey")
	_, err = c.Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams())
	require.ErrorIs(t, err, subkit.ErrMissingCredential)
	assert.False(t, errors.Is(err, subkit.ErrOutcomeUnknown))
	assert.Zero(t, m.GetTotalCallCount())
	assert.Equal(t, subkit.ResponseInfo{API: subkit.ChatDash}, info)
}
