package bulk

import (
	"context"
	"reflect"

	"github.com/subkit-go/subkit"
)

// runKey is the context key under which a create carries its run's
// context, for Interruptible.
type runKey struct{}

// Interruptible returns a Limiter that waits on l, and whose waits made for
// a Run end as soon as that run is stopped (its context ends): give it to
// the client (subkit.WithRateLimiter) so that stopping a paced run never
// waits for a turn. A create stopped so is NotAttempted: nothing was sent.
//
// Run makes its creates with a context of their own that outlives the
// run's, so that a create already sent is not cut short; the SDK waits for
// a turn under that context, and only the Limiter can tell a wait, which is
// safe to end, from a request on its way, which is not. Waits made outside
// a Run behave as l's. A nil l, typed or not, returns nil (no pacing).
func Interruptible(l subkit.Limiter) subkit.Limiter {
	if v := reflect.ValueOf(l); l == nil || v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	return interruptible{l}
}

type interruptible struct{ l subkit.Limiter }

// Wait waits on the limiter until ctx ends or, for a create of a Run, its
// run is stopped.
func (i interruptible) Wait(ctx context.Context) error {
	run, ok := ctx.Value(runKey{}).(context.Context)
	if !ok {
		return i.l.Wait(ctx)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(run, cancel)
	defer stop()
	return i.l.Wait(wctx)
}
