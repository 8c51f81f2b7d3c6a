package subkitredis

import (
	"context"
	"time"
)

// WaitGranted is l.Wait returning the Redis server's time of the grant too,
// so that tests check the limiter's promise on the clock it is made on.
func WaitGranted(ctx context.Context, l *Limiter) (time.Time, error) { return l.wait(ctx) }

// Admit runs l's script once for member: whether it was let through, and
// the grant's Redis time or the wait in µs.
func Admit(ctx context.Context, l *Limiter, member string) (bool, int64, error) {
	return l.admit(ctx, member)
}
