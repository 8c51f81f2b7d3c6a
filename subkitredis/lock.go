package subkitredis

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
)

// lock is one holder's lock on one key of a Store. Each of its scripts
// first checks that the lock key still holds the holder's token, so that a
// holder whose lease ran out cannot touch what the next holder owns.
type lock struct {
	store              *Store
	key                string // the caller's key, for errors
	lockKey, recordKey string
	token              string
}

// extendScript renews the lease while the token holds the lock. KEYS: lock.
// ARGV: token, lease in ms. Returns 1, or 0 if the lock is lost.
var extendScript = redis.NewScript(`
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1
`)

// saveScript writes the record (a hash: its JSON, and its pending send
// time from Redis's clock when ARGV[4] is "1"), or deletes it when ARGV[2]
// is empty, and with ARGV[5] "1" releases the lock too — only while the
// token holds the lock. KEYS: lock, record. ARGV: token, record JSON, TTL in
// ms, pending, release. Returns 1, or 0 if the lock is lost.
var saveScript = redis.NewScript(nowMs + `
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('del', KEYS[2])
if ARGV[2] ~= '' then
  if ARGV[4] == '1' then
    redis.call('hset', KEYS[2], 'rec', ARGV[2], 'sent', now_ms())
  else
    redis.call('hset', KEYS[2], 'rec', ARGV[2])
  end
  redis.call('pexpire', KEYS[2], ARGV[3])
end
if ARGV[5] == '1' then redis.call('del', KEYS[1]) end
return 1
`)

// unlockScript deletes the lock key while the token holds it; a lock taken
// over since is left to its new holder. KEYS: lock. ARGV: token.
var unlockScript = redis.NewScript(`
if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1
`)

// Extend renews the lease for lease from now: see subkit.IdempotencyLock.
func (l *lock) Extend(ctx context.Context, lease time.Duration) error {
	if lease <= 0 {
		return fmt.Errorf("subkitredis: Extend %q: the lease must be positive, not %v", l.key, lease)
	}
	return l.fenced(ctx, "extending the lock on", extendScript, []string{l.lockKey}, l.token, millis(lease))
}

// Save stores rec as the key's record for ttl, or deletes the record when
// rec is nil or ttl is not positive (it would have run out already); a
// pending rec is stamped with Redis's clock: see subkit.IdempotencyLock.
func (l *lock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	return l.save(ctx, "saving the record of", rec, ttl, "")
}

// Release is Save and Unlock in one script: see subkit.IdempotencyLock.
func (l *lock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	return l.save(ctx, "releasing", rec, ttl, "1")
}

func (l *lock) save(ctx context.Context, what string, rec *subkit.IdempotencyRecord, ttl time.Duration, release string) error {
	value, pending := "", ""
	if rec != nil && ttl > 0 {
		b, err := encodeRecord(rec)
		if err != nil {
			return fmt.Errorf("subkitredis: encoding the record of %q: %w", l.key, err)
		}
		value = b
		if rec.Pending {
			pending = "1"
		}
	}
	return l.fenced(ctx, what, saveScript, []string{l.lockKey, l.recordKey}, l.token, value, millis(ttl), pending, release)
}

// fenced runs a script that acts only while l's token holds the lock and
// answers 0 when it does not.
func (l *lock) fenced(ctx context.Context, what string, script *redis.Script, keys []string, args ...any) error {
	held, err := script.Run(ctx, l.store.client(), keys, args...).Int64()
	switch {
	case err != nil:
		return fmt.Errorf("subkitredis: %s %q: %w", what, l.key, err)
	case held == 0:
		return fmt.Errorf("subkitredis: %s %q: %w", what, l.key, subkit.ErrLockLost)
	}
	return nil
}

// Unlock releases the lock if l still holds it; a lock lost (run out, maybe
// taken over) is not an error. It returns Redis's error, wrapped, if Redis
// cannot be reached: the lock then runs out with its lease.
func (l *lock) Unlock(ctx context.Context) error {
	if err := unlockScript.Run(ctx, l.store.client(), []string{l.lockKey}, l.token).Err(); err != nil {
		return fmt.Errorf("subkitredis: releasing the lock on %q: %w", l.key, err)
	}
	return nil
}
