package transport

import (
	"net/http"
	"time"
)

// NewHTTPClient returns the client the SDK sends with, and a function that
// closes the idle connections of the SDK's own transport (nil for a caller's).
//
// given, if not nil, is the caller's client: the SDK uses a shallow copy of it,
// so the caller's client is never modified, and hides its transport's
// CloseIdleConnections, which go-retryablehttp calls after a failure and which
// is the caller's to call. Otherwise the client is a pooled default keeping
// maxIdlePerHost idle connections per host and opening no more than that to
// one host: a connection the pool has no room for is closed when it comes back,
// so a burst of callers would otherwise open connections only to close them
// (net/http dials for a caller that finds no idle connection, even when one is
// about to return; on a busy 2-core VM 64 callers made 115 connections, 15
// closed; BENCHMARKS.md). A call beyond that many in flight to one host waits
// for a connection, within its context. Either way redirects are not
// followed, so a credential never travels to a host the caller did not name,
// every attempt waits on its request's Limiter first, and every attempt is
// bounded by attemptTimeout (0: no bound).
func NewHTTPClient(given *http.Client, attemptTimeout time.Duration, maxIdle, maxIdlePerHost int) (*http.Client, func()) {
	if given != nil {
		cp := *given
		rt := cp.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		cp.Transport = roundTripperOnly{paced{WithAttemptTimeout(rt, attemptTimeout)}}
		cp.CheckRedirect = refuseRedirect
		return &cp, nil
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxIdle
	t.MaxIdleConnsPerHost = maxIdlePerHost
	t.MaxConnsPerHost = maxIdlePerHost
	// roundTripperOnly also keeps go-retryablehttp from closing the SDK's own
	// idle connections after every failed call, which would churn
	// connections under load.
	return &http.Client{Transport: roundTripperOnly{paced{WithAttemptTimeout(t, attemptTimeout)}}, CheckRedirect: refuseRedirect},
		t.CloseIdleConnections
}

func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// roundTripperOnly exposes RoundTrip and nothing else of a transport.
type roundTripperOnly struct{ rt http.RoundTripper }

func (r roundTripperOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.rt.RoundTrip(req)
}
