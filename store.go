package subkit

import (
	"context"
	"errors"
	"time"
)

// IdempotencyStore is where keyed creates are serialised and recorded. A
// keyed create takes its key in the store before it sends anything —
// claiming it, in the same step, as "sending now" when the key has no
// record — re-marks it right before any later attempt, and at the end saves
// what came of it and releases the key, also in one step: a fresh key costs
// two round trips to the store. Another call with the same key waits for
// the lock, then replays the recorded result instead of creating again.
//
// Every Client has one: by default the process's MemoryStore (see
// WithIdempotencyStore); give the processes of a fleet one shared store
// (subkitredis.NewStore, subkitsql.NewStore).
//
// An implementation must give these guarantees, which the SDK's
// exactly-once promise rests on (subkittest.TestIdempotencyStore checks
// them):
//
//   - At most one holder of a key's lock at a time, among every Client that
//     shares the store.
//   - A lock ends by itself when its lease runs out on the store's own clock,
//     so that a holder that dies never locks its key for ever. The SDK
//     extends the lease while the call runs.
//   - Every write through a lock (Extend, Save, Release) takes effect only
//     while that lock is held: a holder whose lease ran out, and whose key
//     another holder took, gets ErrLockLost and changes nothing.
//   - One clock: a pending record's send time is written by the store from
//     its own clock (Redis TIME, SQL now(), the process's monotonic clock for
//     memory), never from the caller's, and a record the store returns says
//     how long ago that was (SinceSent), measured on the same clock. No
//     process compares its wall clock with another's.
//   - A record lives for the TTL it was saved with, then counts as absent.
//
// Keys arrive scoped to their API ("polar:" + the caller's key); a record
// names the target it belongs to (IdempotencyRecord.Target). The SDK calls
// the store only for creates keyed by the caller (WithIdempotencyKey): the
// random keys of RetryPolicy.Reconcile cannot collide and skip it.
type IdempotencyStore interface {
	// Lock takes the lock on key for req.Lease, waiting while another
	// holder has it, until ctx ends (then it returns ctx's error). It
	// returns the key's record as it stands once the lock is held, or nil
	// if there is none. When req.Claim is set and the key has no record,
	// the store saves req.Claim as the record in the same step, marked
	// pending with its send time on the store's clock, and returns nil.
	Lock(ctx context.Context, key string, req LockRequest) (IdempotencyLock, *IdempotencyRecord, error)
}

// LockRequest is what IdempotencyStore.Lock is asked for.
type LockRequest struct {
	// Lease is how long the lock lasts unless extended; positive.
	Lease time.Duration
	// Claim, if not nil, becomes the key's record when the key has none,
	// in the same step as taking the lock: the store sets Pending and
	// stamps SentAt from its own clock. It lives for ClaimTTL.
	Claim    *IdempotencyRecord
	ClaimTTL time.Duration
}

// IdempotencyLock is one holder's lock on one key of an IdempotencyStore.
// Its methods return ErrLockLost, and change nothing, once the lock's lease
// has run out on the store's clock and the key may have another holder.
type IdempotencyLock interface {
	// Extend renews the lease for lease from now.
	Extend(ctx context.Context, lease time.Duration) error
	// Save stores rec as the key's record for ttl, or deletes the record
	// when rec is nil. A pending rec (Pending set) gets its SentAt from the
	// store's clock, whatever rec says.
	Save(ctx context.Context, rec *IdempotencyRecord, ttl time.Duration) error
	// Release is Save then Unlock, in one step.
	Release(ctx context.Context, rec *IdempotencyRecord, ttl time.Duration) error
	// Unlock releases the lock and leaves the record as it is. Unlocking a
	// lock already lost is not an error.
	Unlock(ctx context.Context) error
}

// IdempotencyRecord is what an IdempotencyStore keeps of a keyed create.
type IdempotencyRecord struct {
	// Fingerprint names the whole create the key belongs to: its API,
	// endpoint and every parameter, metadata included. The same key with
	// another fingerprint is a conflict (ErrIdempotencyConflict).
	Fingerprint string `json:"fingerprint"`
	// Target names where the create was sent: the API, its base URL and a
	// hash of the credential's identity (never the credential). A record of
	// another target counts as no record, so that a dry run against a fake
	// never answers for production.
	Target string `json:"target,omitempty"`
	// Pending is set while a create under the key was sent and its outcome
	// is not known: a later call looks it up, waiting out the look-up lag
	// (RetryPolicy.SettleTime) from SentAt, before it creates again.
	Pending bool `json:"pending,omitempty"`
	// SentAt is when the pending create was last sent, on the store's clock
	// (written by the store; a caller's value is ignored). Zero when not
	// pending.
	SentAt time.Time `json:"sent_at,omitzero"`
	// SinceSent is how long before the store returned the record SentAt
	// was, on the store's clock. It is what a caller compares, never SentAt
	// with its own clock. Set by the store on records it returns; not
	// stored.
	SinceSent time.Duration `json:"-"`
	// Result is the created subscription as JSON, once the create is known
	// to have succeeded; nil before.
	Result []byte `json:"result,omitempty"`
	// StatusCode and RequestID are those of the create's response, when
	// Result came from one ("" when the create was found by a look-up).
	StatusCode int    `json:"status,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
}

// ErrLockLost is what an IdempotencyLock returns when its lock ran out and
// another holder may have taken the key.
var ErrLockLost = errors.New("subkit: idempotency lock lost")

// Lease and retention the SDK asks of an IdempotencyStore.
const (
	// DefaultLockLease is how long a keyed create's lock lasts unless
	// extended (WithIdempotencyLease changes it); the SDK extends it every
	// third of the lease while the call runs. A holder that dies keeps its
	// key locked for at most this long.
	DefaultLockLease = 15 * time.Second
	// RecordTTL is how long a store keeps a key's record: a call with the
	// same key within it replays without asking the API.
	RecordTTL = 24 * time.Hour
)

// Clone returns a deep copy of r (nil for nil): what a store keeps or
// hands out must not share the caller's bytes.
func (r *IdempotencyRecord) Clone() *IdempotencyRecord {
	if r == nil {
		return nil
	}
	c := *r
	if r.Result != nil {
		c.Result = append([]byte(nil), r.Result...)
	}
	return &c
}
