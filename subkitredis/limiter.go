package subkitredis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// limiterPrefix starts the key of every Limiter's log; the package
// documentation names the whole key.
const limiterPrefix = "subkit:rate:"

// callTimeout bounds each Redis call a Limiter makes, whatever ctx allows:
// the script runs in microseconds, so a Redis that takes longer is in
// trouble, and Wait should fail rather than hang on it.
const callTimeout = 5 * time.Second

// ErrWaitBeyondDeadline is returned by Limiter.Wait, at once, when the
// earliest moment a request could go lies past ctx's deadline: waiting would
// be in vain, so the call fails before sending instead (as
// golang.org/x/time/rate's Wait does). It does not match
// context.DeadlineExceeded: the context has not ended yet.
var ErrWaitBeyondDeadline = errors.New("subkitredis: the rate limiter's next free slot comes after the context's deadline")

// Limiter is a subkit.Limiter whose budget is shared by every process that
// makes one with the same name on the same Redis. Make one with NewLimiter;
// it is safe for concurrent use. See NewLimiter for what it guarantees.
type Limiter struct {
	// client is behind a func, as in Store, so that no printer walking
	// unexported fields can reach the client's options and their password.
	client     func() redis.UniversalClient
	name       string
	key        string
	events     int
	span       time.Duration // per plus per/60: the window the log counts over
	spanMicros int64         // span in whole microseconds, rounded up, as the script wants it
	err        error         // why the limiter cannot work, returned by every Wait
}

// NewLimiter returns a Limiter that lets at most events requests through in
// any window of length per, across every process that makes a Limiter with
// the same name (and the same events and per) on rdb's Redis. It is the
// fleet's version of subkit.NewLimiter, sized the same way for an API that
// counts requests in fixed windows, such as Polar (500 a minute per
// organization: name it after the budget, e.g. "polar:"+organizationID).
//
// It keeps a sliding-window log in Redis: one sorted set per name holding
// the time each request was let through, read and written by one Lua script
// that stamps every grant with the Redis server's own clock (TIME), so that
// processes whose clocks disagree still agree on the log. A Wait is let
// through only if fewer than events grants lie within the last per + per/60
// on that clock; otherwise the script says when the oldest of them leaves
// the window, and Wait sleeps that long (plus a little jitter, about a
// thousandth of the window at most, so that waiters do not ask in step) and
// asks again.
//
// The guarantee, exactly: on the Redis server's clock (in whole µs), no
// interval [t, t + per + per/60) holds more than events grants of the name. A server counts a
// request when it arrives, after its grant; if every request arrives within
// per/60 of its grant (a second of a minute: the time to send it, a
// connection included), every window of length per on the server's clock —
// a sliding one, or a fixed one however the server aligns it — receives at
// most events requests, as long as the server's clock runs at the rate of
// Redis's (an offset between the two clocks only moves the windows). A grant
// whose request is never sent still counts, which errs on the safe side.
// With callers always waiting, each slot comes back per + per/60 after it was
// taken: the fleet sustains events per (per + per/60), 60/61 or 98.4% of the
// limit, for any limit, less the polling delay. The package documentation
// says what breaks the guarantee (Redis losing its data, a step in its
// clock).
//
// The log holds up to events entries of about 50 bytes each, and expires
// with the window once the name is idle. rdb may be a *redis.Client or a
// *redis.ClusterClient (the script touches one key). Every Redis call is
// bounded by Wait's context and by 5 s; set ContextTimeoutEnabled in rdb's
// options so that go-redis honours the context's deadline (without it,
// go-redis bounds each try by its ReadTimeout, 3 s by default).
//
// NewLimiter never fails: given a nil rdb, an empty name, events below 1 or
// per not positive (or so long that per/60 more overflows), it returns a Limiter whose Wait always returns an error
// naming every problem, so every call paced by it fails before sending.
func NewLimiter(rdb redis.UniversalClient, name string, events int, per time.Duration) *Limiter {
	span := per + per/60
	l := &Limiter{
		client:     func() redis.UniversalClient { return rdb },
		name:       name,
		key:        limiterPrefix + "{" + escapeBraces.Replace(name) + "}",
		events:     events,
		span:       span,
		spanMicros: int64((span + time.Microsecond - 1) / time.Microsecond),
	}
	var problems []string
	if isNil(rdb) {
		problems = append(problems, "no Redis client (rdb is nil)")
	}
	if name == "" {
		problems = append(problems, "the name is empty")
	}
	if events < 1 {
		problems = append(problems, fmt.Sprintf("events must be at least 1, not %d", events))
	}
	switch {
	case per <= 0:
		problems = append(problems, fmt.Sprintf("per must be positive, not %v", per))
	case span <= 0:
		problems = append(problems, fmt.Sprintf("per is too long: %v", per))
	}
	if problems != nil {
		l.err = fmt.Errorf("subkitredis: NewLimiter(%q, %d, %v) lets nothing through: %s", name, events, per, strings.Join(problems, "; "))
	}
	return l
}

// isNil reports whether rdb is nil, a typed nil pointer included, which
// would otherwise panic on its first command.
func isNil(rdb redis.UniversalClient) bool {
	if rdb == nil {
		return true
	}
	v := reflect.ValueOf(rdb)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// admitScript is the sliding-window log. It drops the grants that left the
// window, and lets the caller through if fewer than the limit remain, or if
// its member is there already (a retry by go-redis of a script whose answer
// was lost: it is counted once, at its latest time). It returns {1, the
// server's time of the grant in µs} or {0, µs until the oldest grant
// leaves}. KEYS: the log. ARGV: the window in µs, the limit, the caller's
// member, the log's TTL in ms.
var admitScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end -- Redis < 5: TIME before a write
local t = redis.call('time')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
redis.call('zremrangebyscore', KEYS[1], '-inf', now - window)
if redis.call('zscore', KEYS[1], ARGV[3]) or redis.call('zcard', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('zadd', KEYS[1], now, ARGV[3])
  redis.call('pexpire', KEYS[1], ARGV[4])
  return {1, now}
end
local oldest = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + window - now}
`)

// Wait blocks until the fleet's budget lets one more request through, and
// then returns nil: see NewLimiter. It returns ctx's error if ctx ends first
// (or had ended already), an error matching ErrWaitBeyondDeadline at once if
// the next free slot comes after ctx's deadline, and Redis's error, wrapped,
// if Redis cannot be reached: never a nil that was not granted. A Limiter
// made from bad input returns its error.
func (l *Limiter) Wait(ctx context.Context) error {
	_, err := l.wait(ctx)
	return err
}

// wait is Wait, returning the Redis server's time of the grant as well, so
// that tests can check the log's promise on the clock it is made on.
func (l *Limiter) wait(ctx context.Context) (time.Time, error) {
	if l.err != nil {
		return time.Time{}, l.err
	}
	member := newToken() // one per Wait, so that a retried script counts once
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		granted, micros, err := l.admit(ctx, member)
		switch {
		case err != nil:
			return time.Time{}, fmt.Errorf("subkitredis: rate limiter %q: %w", l.name, err)
		case granted:
			return time.UnixMicro(micros), nil
		}
		wait := time.Duration(micros) * time.Microsecond
		jitter := rand.N(l.span/1000 + 100*time.Microsecond)
		if deadline, ok := ctx.Deadline(); ok {
			left := time.Until(deadline)
			if left <= wait {
				return time.Time{}, fmt.Errorf("subkitredis: rate limiter %q: %w (the next slot is %v away)", l.name, ErrWaitBeyondDeadline, wait)
			}
			jitter = min(jitter, left-wait)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(wait + jitter): // collected when unreferenced (Go 1.23+)
		}
	}
}

// admit runs admitScript once, bounded by ctx and callTimeout.
func (l *Limiter) admit(ctx context.Context, member string) (granted bool, micros int64, err error) {
	callCtx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	res, err := admitScript.Run(callCtx, l.client(), []string{l.key}, l.spanMicros, l.events, member, millis(l.span)).Int64Slice()
	switch {
	case err != nil && ctx.Err() == nil && callCtx.Err() != nil:
		return false, 0, fmt.Errorf("no answer from Redis within %v: %w", callTimeout, err)
	case err != nil:
		return false, 0, err
	case len(res) != 2 || res[0] == 0 && res[1] <= 0:
		return false, 0, fmt.Errorf("unexpected answer from Redis: %v", res)
	}
	return res[0] == 1, res[1], nil
}
