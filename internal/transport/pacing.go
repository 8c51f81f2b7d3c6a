package transport

import (
	"context"
	"errors"
	"net/http"
)

// Limiter paces requests: Wait blocks until one may be sent, or until ctx
// ends, and then returns an error.
type Limiter interface {
	Wait(ctx context.Context) error
}

// paced makes every attempt wait on its request's Limiter first, in the
// client's transport so that the first attempt and every retry wait alike,
// and above the attempt timeout so that waiting is no part of an attempt.
type paced struct{ next http.RoundTripper }

type limiterKey struct{}

// gates are what an attempt passes before it is written: its Limiter, then
// its Gate (either may be nil).
type gates struct {
	limiter Limiter
	gate    func(ctx context.Context) error
}

func (p paced) RoundTrip(req *http.Request) (*http.Response, error) {
	if g, ok := req.Context().Value(limiterKey{}).(gates); ok {
		if g.limiter != nil {
			if err := g.limiter.Wait(req.Context()); err != nil {
				return nil, &WaitError{Err: err, what: "waiting on the rate limiter"}
			}
		}
		if g.gate != nil {
			if err := g.gate(req.Context()); err != nil {
				return nil, &WaitError{Err: err, what: "before sending"}
			}
		}
	}
	return p.next.RoundTrip(req)
}

// WaitError is an attempt that never started because waiting on its
// Limiter failed (the context ended, or the limiter refused): nothing was
// sent, and it counts as no attempt.
type WaitError struct {
	Err  error
	what string
}

func (e *WaitError) Error() string { return e.what + ": " + e.Err.Error() }

func (e *WaitError) Unwrap() error { return e.Err }

func isWaitError(err error) bool {
	var we *WaitError
	return errors.As(err, &we)
}
