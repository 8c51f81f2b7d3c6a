package subkitsql

import (
	"context"
	"fmt"
	"time"

	"github.com/subkit-go/subkit"
)

// lock is one holder's lock on one key of a Store. Each of its writes is one
// statement that acts only while the row still holds the lock's token and
// its lease has not run out on the database's clock.
type lock struct {
	s     *Store
	key   string
	token string
}

// Extend renews the lease for lease from now: see subkit.IdempotencyLock.
func (l *lock) Extend(ctx context.Context, lease time.Duration) error {
	if lease <= 0 {
		return fmt.Errorf("subkitsql: Extend %q: the lease must be positive, not %v", l.key, lease)
	}
	return l.fenced(ctx, "extending the lock on", l.s.q.extend, l.key, l.token, micros(lease))
}

// Save stores rec as the key's record for ttl, or deletes the record when
// rec is nil or ttl is not positive (it would have run out already); a
// pending record's send time is the database's now: see
// subkit.IdempotencyLock.
func (l *lock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	if rec == nil || ttl <= 0 {
		return l.fenced(ctx, "deleting the record of", l.s.q.clear, l.key, l.token)
	}
	return l.fenced(ctx, "saving the record of", l.s.q.save, append([]any{l.key, l.token, micros(ttl)}, recordArgs(rec)...)...)
}

// Release is Save then Unlock in one statement: see subkit.IdempotencyLock.
// With a nil rec it deletes the key's row.
func (l *lock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	var err error
	if rec == nil || ttl <= 0 {
		err = l.fenced(ctx, "releasing the lock on", l.s.q.releaseNil, l.key, l.token)
	} else {
		err = l.fenced(ctx, "releasing the lock on", l.s.q.release, append([]any{l.key, l.token, micros(ttl)}, recordArgs(rec)...)...)
	}
	if err == nil {
		l.s.afterUnlock(ctx)
	}
	return err
}

// Unlock releases the lock if l still holds it; a lock lost (run out, maybe
// taken over) is not an error. It returns the database's error, wrapped, if
// the statement fails: the lock then runs out with its lease.
func (l *lock) Unlock(ctx context.Context) error {
	if _, err := l.s.exec(ctx, l.s.q.unlock, l.key, l.token); err != nil {
		return l.s.failed(ctx, "releasing the lock on", l.key, err)
	}
	l.s.afterUnlock(ctx)
	return nil
}

// fenced runs a write that affects the key's row only while l holds it:
// none affected is subkit.ErrLockLost.
func (l *lock) fenced(ctx context.Context, what, query string, args ...any) error {
	n, err := l.s.exec(ctx, query, args...)
	switch {
	case err != nil:
		return l.s.failed(ctx, what, l.key, err)
	case n == 0:
		return fmt.Errorf("subkitsql: %s %q: %w", what, l.key, subkit.ErrLockLost)
	}
	return nil
}

// exec runs a statement that writes, again while the database is busy, and
// returns the rows it affected.
func (s *Store) exec(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := s.write(ctx, func() error {
		res, err := s.db().ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}
