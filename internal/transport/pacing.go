package transport

import (
	"context"
	"errors"
	"net/http"
	"time"
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

// gateHold is how long a Gate may hold an attempt after its Limiter let it
// go before the attempt takes a new turn: a Gate that waited out a store
// that dropped for a moment would otherwise release every attempt it held
// at once, past the Limiter's pace.
const gateHold = 100 * time.Millisecond

func (p paced) RoundTrip(req *http.Request) (*http.Response, error) {
	if g, ok := req.Context().Value(limiterKey{}).(gates); ok {
		if err := g.pass(req.Context()); err != nil {
			return nil, err
		}
	}
	return p.next.RoundTrip(req)
}

// pass waits on the Limiter, then the Gate; a Gate that held the attempt
// longer than gateHold sends it back for a new turn (at most three times:
// a Gate that keeps holding stops the attempt itself).
func (g gates) pass(ctx context.Context) error {
	for turn := 0; ; turn++ {
		if g.limiter != nil {
			if err := g.limiter.Wait(ctx); err != nil {
				return &WaitError{Err: err, what: "waiting on the rate limiter"}
			}
		}
		if g.gate == nil {
			return nil
		}
		start := time.Now()
		if err := g.gate(ctx); err != nil {
			return &WaitError{Err: err, what: "before sending"}
		}
		if g.limiter == nil || time.Since(start) < gateHold || turn == 3 {
			return nil
		}
	}
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
