package transport

import (
	"testing"
	"time"
)

func TestBackoffIsExponentialWithFullJitterWithinBounds(t *testing.T) {
	c := &call{p: Policy{MinBackoff: 10 * time.Millisecond, MaxBackoff: 80 * time.Millisecond}}
	for attempt := 1; attempt <= 8; attempt++ {
		ceiling := min(10*time.Millisecond<<(attempt-1), 80*time.Millisecond)
		seen := map[time.Duration]bool{}
		for range 200 {
			d := c.backoffFor(attempt)
			if d < 10*time.Millisecond || d > ceiling {
				t.Fatalf("attempt %d: wait %v outside [10ms, %v]", attempt, d, ceiling)
			}
			seen[d] = true
		}
		if attempt > 1 && len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct waits: no jitter", attempt, len(seen))
		}
	}
	same := &call{p: Policy{MinBackoff: time.Second, MaxBackoff: time.Second}}
	if d := same.backoffFor(5); d != time.Second {
		t.Errorf("min == max: got %v", d)
	}
}
