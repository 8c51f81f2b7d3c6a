package subkit

import (
	"context"
	"net/url"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces an API's requests: every request to the
// API, creates and look-ups and each of their retries, first waits on it.
// Wait blocks until a request may be sent, or returns an error when ctx ends
// first (then nothing is sent, and the wait counts as no attempt).
// *rate.Limiter from golang.org/x/time/rate is one; NewLimiter makes one
// sized for an API that counts in fixed windows, and subkitredis.NewLimiter
// one that a fleet of processes shares.
type Limiter interface {
	Wait(ctx context.Context) error
}

// NewLimiter returns a Limiter for one process that lets at most events
// requests through in any window of length per — so also in every fixed
// window of that length, however the server aligns its windows, as Polar's
// server counts. It is a token bucket (x/time/rate) with a burst of 1% of
// events (at least 1) and a rate that refills the rest over per plus 1/60 of
// per, so that requests delayed on the way by up to per/60 (a second of a
// minute) still land within the server's count: about 97% of the limit,
// sustained, for limits of 100 and more (a small limit loses its one burst
// request: 10 a second gives 8.9). With events below 1 or per not positive it lets nothing
// through: every Wait fails, so every call fails before sending.
func NewLimiter(events int, per time.Duration) *rate.Limiter {
	if events < 1 || per <= 0 {
		return rate.NewLimiter(0, 0)
	}
	burst := max(1, events/100)
	window := per + per/60
	if events == burst {
		return rate.NewLimiter(rate.Every(window), burst)
	}
	return rate.NewLimiter(rate.Limit(float64(events-burst)/window.Seconds()), burst)
}

// defaultLimiter paces an API's own servers to their published limits (the
// API table's Rates: Polar's), so that one Client running creates flat out
// never draws Polar's 429, whose Retry-After is the whole minute. Other
// hosts (a fake, a proxy) and the APIs that publish no limit are not paced
// by default.
func defaultLimiter(api API, base string) Limiter {
	spec, ok := specFor(api)
	if !ok {
		return nil
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil
	}
	for _, r := range spec.Rates {
		if u.Hostname() == r.Host {
			return NewLimiter(r.Events, r.Per)
		}
	}
	return nil
}
