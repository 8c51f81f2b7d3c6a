package transport

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(context.Context) error { l.waits.Add(1); return nil }

// A Gate that held an attempt past gateHold (a store retried) sends it back
// for a new turn on the Limiter, so that attempts it held together do not
// go out together; a quick Gate costs one turn.
func TestGateThatHeldTheAttemptTakesANewTurn(t *testing.T) {
	for _, tc := range []struct {
		name  string
		holds []time.Duration // the Gate's hold, call by call
		turns int32
	}{
		{"a quick gate", []time.Duration{0}, 1},
		{"held once", []time.Duration{2 * gateHold, 0}, 2},
		{"held every time", []time.Duration{2 * gateHold, 2 * gateHold, 2 * gateHold, 2 * gateHold, 2 * gateHold}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &countingLimiter{}
			calls := 0
			g := gates{limiter: l, gate: func(context.Context) error {
				time.Sleep(tc.holds[min(calls, len(tc.holds)-1)])
				calls++
				return nil
			}}
			if err := g.pass(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := l.waits.Load(); got != tc.turns {
				t.Errorf("%d turns on the limiter, want %d", got, tc.turns)
			}
		})
	}
}
