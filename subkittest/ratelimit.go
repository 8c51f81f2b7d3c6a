package subkittest

import (
	"fmt"
	"time"

	"github.com/subkit-go/subkit"
)

// WithRateLimit makes the server refuse requests to api beyond limit in any
// sliding window of length per, with the API's 429 and a Retry-After in
// seconds until the window has room. Polar publishes 500 requests per
// minute per organization (100 in its sandbox); Chargeflow and ChatDash
// publish no limit. Requests refused for other reasons count too: for Polar
// every request past its token check (the real limit is kept per
// organization, so an unknown token is refused first), for Chargeflow and
// ChatDash every request to a path they serve (a create's or a look-up's)
// with a method it takes. Rate limiting is off by default. Polar's lower
// limit for a token new to the server is not modelled. It panics if limit
// or per is not positive, or api is not one of the three.
func WithRateLimit(api subkit.API, limit int, per time.Duration) ServerOption {
	return func(s *Server) {
		s.checkAPI(api)
		if limit < 1 || per <= 0 {
			panic(fmt.Sprintf("subkittest: WithRateLimit(%s, %d, %s): the limit and the window must be positive", api, limit, per))
		}
		s.limits[api] = &limiter{limit: limit, window: per}
	}
}

// rateLimited returns the API's 429 when the server's rate limit for the
// API is exhausted, nil otherwise.
func (x *exchange) rateLimited() *outcome {
	api := x.rec.API
	x.s.mu.Lock()
	l := x.s.limits[api]
	var wait time.Duration
	ok := true
	if l != nil {
		ok, wait = l.allow(x.s.now())
	}
	x.s.mu.Unlock()
	if ok {
		return nil
	}
	return x.handler.tooManyRequests(retryAfterSeconds(wait))
}

// limiter is a sliding-window rate limit.
type limiter struct {
	limit  int
	window time.Duration
	hits   []time.Time
}

// allow records a request at now if the window has room; otherwise it says
// how long until it has.
func (l *limiter) allow(now time.Time) (bool, time.Duration) {
	cut := 0
	for cut < len(l.hits) && !l.hits[cut].After(now.Add(-l.window)) {
		cut++
	}
	l.hits = l.hits[cut:]
	if len(l.hits) < l.limit {
		l.hits = append(l.hits, now)
		return true, 0
	}
	return false, l.hits[0].Add(l.window).Sub(now)
}
