package subkitredis

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
)

// DefaultPrefix starts every key a Store writes unless StoreOptions.Prefix
// names another.
const DefaultPrefix = "subkit:idem:"

// How long Lock waits between tries while another holder has the key: from
// minPoll, doubling up to maxPoll, never past the holder's lease, with
// jitter so that waiters do not retry in step.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// StoreOptions configures a Store made by NewStoreWithOptions.
type StoreOptions struct {
	// Prefix starts every key the store writes; "" means DefaultPrefix.
	// Give each application or environment sharing one Redis its own
	// prefix, so that their idempotency keys never meet. It may not hold
	// '{' or '}': the store adds its own Redis Cluster hash tag after it.
	Prefix string
}

// Store is a subkit.IdempotencyStore on Redis, shared by every process
// whose Clients use a Store on the same Redis (and the same prefix). Make one
// with NewStore or NewStoreWithOptions; it is safe for concurrent use. See the
// package documentation for its guarantees and its keys.
type Store struct {
	// client is behind a func so that no printer walking unexported fields
	// (fmt's %v of a caller's struct, go-spew in testify) can reach the
	// client's options and their password.
	client func() redis.UniversalClient
	prefix string
	err    error // why the store cannot work (a nil client), reported by Lock
}

// NewStore returns a Store that keeps its locks and records in rdb under
// DefaultPrefix. rdb may be a *redis.Client (a failover client included) or
// a *redis.ClusterClient; the package documentation says what each
// guarantees, and why a *redis.Ring is not recommended. Every call passes its context to rdb; set
// ContextTimeoutEnabled in rdb's options so that a context's deadline also
// bounds a Redis that stops answering (without it go-redis bounds each try by
// its ReadTimeout, 3 s by default, and retries MaxRetries times). A nil rdb
// makes a Store whose Lock returns an error.
func NewStore(rdb redis.UniversalClient) *Store {
	return newStore(rdb, StoreOptions{})
}

// NewStoreWithOptions is NewStore with options. It returns a nil Store and
// an error naming the problem when rdb is nil or the prefix holds a brace.
func NewStoreWithOptions(rdb redis.UniversalClient, o StoreOptions) (*Store, error) {
	s := newStore(rdb, o)
	if s.err != nil {
		return nil, s.err
	}
	return s, nil
}

// newStore returns a Store, one that reports its problem from Lock if the
// options are not usable: NewStore has no error to return.
func newStore(rdb redis.UniversalClient, o StoreOptions) *Store {
	s := &Store{client: func() redis.UniversalClient { return rdb }, prefix: o.Prefix}
	if s.prefix == "" {
		s.prefix = DefaultPrefix
	}
	switch {
	case rdb == nil:
		s.err = errors.New("subkitredis: the store has no Redis client (NewStore was given nil)")
	case strings.ContainsAny(o.Prefix, "{}"):
		s.err = fmt.Errorf("subkitredis: StoreOptions.Prefix %q holds a brace: the store adds its own Redis Cluster hash tag", o.Prefix)
	}
	return s
}

// nowMs is Lua that reads the store's clock, Redis TIME, in milliseconds:
// the one clock every process sharing the store agrees on.
const nowMs = `local function now_ms()
  local t = redis.call('time')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// obtainScript takes the lock if it is free and returns {1, record JSON
// ("" when there is none), ms since the record's pending send (-1 when not
// pending), its send time in ms}, read in the same step, so that the record
// returned is the one as it stands once the lock is held. When there is no
// record and a claim is given, the claim becomes the record, pending from
// now. When the lock is held it returns {0, the holder's lease left in ms}.
// KEYS: lock, record. ARGV: token, lease in ms, claim JSON or "", claim TTL
// in ms.
var obtainScript = redis.NewScript(nowMs + `
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {0, redis.call('pttl', KEYS[1]), -1, 0}
end
local r = redis.call('hmget', KEYS[2], 'rec', 'sent')
if not r[1] then
  if ARGV[3] ~= '' then
    redis.call('hset', KEYS[2], 'rec', ARGV[3], 'sent', now_ms())
    redis.call('pexpire', KEYS[2], ARGV[4])
  end
  return {1, '', -1, 0}
end
if r[2] then
  return {1, r[1], now_ms() - tonumber(r[2]), tonumber(r[2])}
end
return {1, r[1], -1, 0}
`)

// Lock takes the lock on key for req.Lease (at least 1 ms; rounded up to
// whole milliseconds), waiting while another holder has it until ctx ends,
// and returns the key's record as it stands once the lock is held (nil if
// there is none), claiming the key with req.Claim in the same step when
// it has none: see subkit.IdempotencyStore. It returns ctx's error if ctx
// ends while waiting, and Redis's error, wrapped, if Redis cannot be
// reached; a key that is empty or a lease that is not positive is an error
// too. If ctx ends while the lock is being taken, the key may stay locked
// until the lease runs out.
func (s *Store) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	switch {
	case s.err != nil:
		return nil, nil, s.err
	case key == "":
		return nil, nil, errors.New("subkitredis: Lock: the key is empty")
	case req.Lease <= 0:
		return nil, nil, fmt.Errorf("subkitredis: Lock %q: the lease must be positive, not %v", key, req.Lease)
	}
	claim, claimTTL := "", "0"
	if req.Claim != nil && req.ClaimTTL > 0 {
		c := *req.Claim
		c.Pending = true
		b, err := encodeRecord(&c)
		if err != nil {
			return nil, nil, fmt.Errorf("subkitredis: encoding the claim on %q: %w", key, err)
		}
		claim, claimTTL = b, millis(req.ClaimTTL)
	}
	l := &lock{store: s, key: key, lockKey: s.lockKey(key), recordKey: s.recordKey(key), token: newToken()}
	backoff := minPoll
	for {
		res, err := obtainScript.Run(ctx, s.client(), []string{l.lockKey, l.recordKey}, l.token, millis(req.Lease), claim, claimTTL).Slice()
		if err != nil {
			return nil, nil, fmt.Errorf("subkitredis: taking the lock on %q: %w", key, err)
		}
		ob, err := obtained(res)
		if err != nil {
			return nil, nil, fmt.Errorf("subkitredis: taking the lock on %q: %w", key, err)
		}
		if ob.taken {
			rec, err := decodeRecord(ob.record, ob.sinceSent, ob.sentAt)
			if err != nil {
				_ = l.Unlock(ctx) // the caller gets no lock to release
				return nil, nil, fmt.Errorf("subkitredis: reading the record of %q: %w", key, err)
			}
			return l, rec, nil
		}
		wait := backoff
		if ob.leaseLeft > 0 {
			wait = min(wait, time.Duration(ob.leaseLeft)*time.Millisecond) // the lease runs out sooner: take over then
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(wait/2 + rand.N(wait/2+1)): // collected when unreferenced (Go 1.23+)
		}
		backoff = min(2*backoff, maxPoll)
	}
}

// obtainedAnswer is obtainScript's answer.
type obtainedAnswer struct {
	taken     bool
	record    string
	leaseLeft int64 // ms, when not taken
	sinceSent int64 // ms, -1 when not pending
	sentAt    int64 // ms on Redis's clock, when pending
}

// obtained reads obtainScript's answer.
func obtained(res []any) (obtainedAnswer, error) {
	var a obtainedAnswer
	if len(res) != 4 {
		return a, fmt.Errorf("unexpected answer from Redis: %d values", len(res))
	}
	flag, ok1 := res[0].(int64)
	a.sinceSent, _ = res[2].(int64)
	a.sentAt, _ = res[3].(int64)
	switch v := res[1].(type) {
	case string:
		a.record = v
	case int64:
		a.leaseLeft = v
	default:
		ok1 = false
	}
	if !ok1 {
		return a, errors.New("unexpected answer from Redis")
	}
	a.taken = flag == 1
	return a, nil
}

// encodeRecord is rec as the store keeps it: the send time is the store's
// to write, and SinceSent is worked out on every read.
func encodeRecord(rec *subkit.IdempotencyRecord) (string, error) {
	c := *rec
	c.SentAt, c.SinceSent = time.Time{}, 0
	b, err := json.Marshal(&c)
	return string(b), err
}

func decodeRecord(value string, sinceSent, sentAt int64) (*subkit.IdempotencyRecord, error) {
	if value == "" {
		return nil, nil
	}
	rec := new(subkit.IdempotencyRecord)
	if err := json.Unmarshal([]byte(value), rec); err != nil {
		return nil, err
	}
	if rec.Pending && sinceSent >= 0 {
		rec.SinceSent = time.Duration(sinceSent) * time.Millisecond
		rec.SentAt = time.UnixMilli(sentAt).UTC()
	}
	return rec, nil
}

// escapeBraces keeps a key's braces (and the escape character itself) out
// of the hash tag, so that the tag is the whole key and the mapping from keys
// to Redis keys stays one to one.
var escapeBraces = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

// lockKey and recordKey share the hash tag {key}, so that both land in one
// Redis Cluster slot and one script may touch both.
func (s *Store) lockKey(key string) string {
	return s.prefix + "{" + escapeBraces.Replace(key) + "}:lock"
}
func (s *Store) recordKey(key string) string {
	return s.prefix + "{" + escapeBraces.Replace(key) + "}:record"
}

// newToken returns a random lock token: the proof, checked by every script,
// that a lock is still its holder's.
func newToken() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// millis is d in whole milliseconds, rounded up, as Redis's PX wants it.
func millis(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Millisecond-1)/time.Millisecond), 10)
}
