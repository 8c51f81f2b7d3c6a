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

func (p paced) RoundTrip(req *http.Request) (*http.Response, error) {
	if l, _ := req.Context().Value(limiterKey{}).(Limiter); l != nil {
		if err := l.Wait(req.Context()); err != nil {
			return nil, &WaitError{Err: err}
		}
	}
	return p.next.RoundTrip(req)
}

// WaitError is an attempt that never started because waiting on its
// Limiter failed (the context ended, or the limiter refused): nothing was
// sent, and it counts as no attempt.
type WaitError struct{ Err error }

func (e *WaitError) Error() string { return "waiting on the rate limiter: " + e.Err.Error() }

func (e *WaitError) Unwrap() error { return e.Err }

func isWaitError(err error) bool {
	var we *WaitError
	return errors.As(err, &we)
}
