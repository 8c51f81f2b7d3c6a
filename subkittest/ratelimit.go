package subkittest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// Polar's pending-auth group (server/polar/rate_limit.py): 60 requests per
// minute for a token whose identity is not cached, and the cache keeps an
// identity for 5 minutes after the token's last authenticated request
// (_IDENTITY_TTL_SECONDS = 300).
const (
	polarPendingAuthLimit = 60
	polarIdentityWindows  = 5 // the identity cache's 300 s, in 60 s windows
)

// WithRateLimit makes the server count requests to api in fixed windows of
// length window and refuse those past limit in a window with the API's 429.
// Rate limiting is off by default. A window stands for a real minute, so a
// test can scale time down (a limit per second runs sixty times faster than
// Polar's per minute). It panics if limit or window is not positive, or
// api is not one of the three.
//
// For Polar the limiter is the one its server runs (server/polar/rate_limit.py
// with asgi-ratelimit 0.10.0 on Redis): limit is the default group's budget
// (Polar's is 500 per minute in production, 100 in its sandbox), shared by
// every valid token, since they all belong to the fake's one organization.
//
//   - A window is a counter that starts with the first request of its
//     identity and lasts window (Redis SET NX EX, then DECR): windows are not
//     aligned to the clock, and a refused request neither counts nor moves
//     the window.
//   - Refused: 429 with an empty body, no Content-Type, no X-RateLimit-*
//     headers, and Retry-After equal to the whole window in seconds (60 for
//     a minute), not the time left; a window under a second answers 1.
//   - The limit runs before authentication, for every path under /v1:
//     requests with an unknown token count too. A bearer token the server
//     has not seen authenticate within the last five windows (Polar: 5
//     minutes) counts in its own pending-auth group, 60 per window, the
//     token on its own; once a request with it authenticates, its later
//     requests count in the organization's budget. Requests without a
//     token count in a budget of limit for the client's IP address.
//   - An unknown Polar-Version (404), a POST without a Content-Length (411)
//     or a body too large (413) is answered before the limit and does not
//     count.
//
// Polar's restricted and elevated groups (organizations Polar flags) are not
// modelled.
//
// Chargeflow and ChatDash publish no limit: for them the limit is a simple
// fixed window starting with the first request, counting every request to a
// path they serve (a create's or a look-up's) with a method it takes,
// refused ones included, and refusing with 429 {"message":"Too Many
// Requests"} and a Retry-After of the seconds left in the window.
func WithRateLimit(api subkit.API, limit int, window time.Duration) ServerOption {
	return func(s *Server) {
		s.checkAPI(api)
		if limit < 1 || window <= 0 {
			panic(fmt.Sprintf("subkittest: WithRateLimit(%s, %d, %s): the limit and the window must be positive", api, limit, window))
		}
		s.limits[api] = &rateLimit{limit: limit, window: window, buckets: map[string]*fixedWindow{}, seen: map[string]time.Time{}}
	}
}

// rateLimit is one API's limiter: a fixed-window counter per identity.
type rateLimit struct {
	limit   int
	window  time.Duration
	buckets map[string]*fixedWindow
	// seen is Polar's identity cache: when each token that authenticated
	// stops being known.
	seen map[string]time.Time
}

// fixedWindow is one identity's current window: when it started and how
// many requests it still admits.
type fixedWindow struct {
	start time.Time
	left  int
}

// take counts a request of identity against a budget of limit at now; it
// returns false, and how long the window still runs, when the budget is
// spent. It runs with the lock held.
func (l *rateLimit) take(identity string, limit int, now time.Time) (bool, time.Duration) {
	w := l.buckets[identity]
	if w == nil || !now.Before(w.start.Add(l.window)) {
		w = &fixedWindow{start: now, left: limit}
		l.buckets[identity] = w
	}
	if w.left < 1 {
		return false, w.start.Add(l.window).Sub(now)
	}
	w.left--
	return true, 0
}

// rateLimited counts a request to Chargeflow or ChatDash and returns the
// API's 429 when its budget is spent, nil otherwise.
func (x *exchange) rateLimited() *outcome {
	s := x.s
	s.mu.Lock()
	l := s.limits[x.rec.API]
	ok, left := true, time.Duration(0)
	if l != nil {
		ok, left = l.take("", l.limit, s.now())
	}
	s.mu.Unlock()
	if ok {
		return nil
	}
	return x.handler.tooManyRequests(retryAfterSeconds(left))
}

// polarRateLimited counts a request to Polar as asgi-ratelimit does, with
// the identity Polar's _authenticate gives it, and returns the 429 when
// its group's budget is spent, nil otherwise.
func (x *exchange) polarRateLimited(token string) *outcome {
	if !strings.HasPrefix(x.r.URL.Path, "/v1") {
		return nil
	}
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limits[subkit.Polar]
	if l == nil {
		return nil
	}
	now := s.now()
	identity, limit := "ip:"+clientIP(x.r), l.limit
	if token != "" {
		if until, ok := l.seen[token]; ok && now.Before(until) {
			identity = "organization"
		} else {
			identity, limit = "token:"+token, polarPendingAuthLimit
		}
	}
	if ok, _ := l.take(identity, limit, now); ok {
		return nil
	}
	return polarHandler{}.tooManyRequests(retryAfterSeconds(l.window))
}

// polarAuthenticated records that token authenticated at now: Polar caches
// its identity (write_cached_identity in server/polar/auth/middlewares.py),
// so that its next requests count in the organization's budget.
func (x *exchange) polarAuthenticated(token string) {
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.limits[subkit.Polar]; l != nil {
		l.seen[token] = s.now().Add(polarIdentityWindows * l.window)
	}
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
