package subkit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// IdempotencyStore is where keyed creates are serialised and recorded
// (design rule 10). A keyed create locks its key before it sends anything,
// records in the store what it is about to do and what came of it, and
// unlocks; another call with the same key waits for the lock, then replays
// the recorded result instead of creating again. Every Client has one: by
// default its own MemoryStore; give the processes of a fleet one shared store
// (subkitredis.NewStore) with WithIdempotencyStore.
//
// An implementation must give these guarantees, which the SDK's exactly-once
// promise rests on:
//
//   - At most one holder of a key's lock at a time, among every Client that
//     shares the store.
//   - A lock ends by itself when its lease runs out, so that a holder that
//     dies (a crash, a lost network) never locks its key for ever. The SDK
//     extends the lease while the call runs.
//   - Save takes effect only while the lock is held: a holder whose lease ran
//     out, and whose key another holder took, must not overwrite the new
//     holder's record (ErrLockLost).
//   - A record lives for the TTL given to Save, which the SDK sets far longer
//     than any look-up lag (RecordTTL).
//
// Keys arrive scoped to their API ("polar:" + the caller's key). The SDK
// calls the store only for creates keyed by the caller (WithIdempotencyKey);
// the random keys of RetryPolicy.Reconcile cannot collide and skip it.
type IdempotencyStore interface {
	// Lock takes the lock on key for lease, waiting while another holder has
	// it, until ctx ends (then it returns ctx's error). It returns the key's
	// record as it stands once the lock is held, or nil if there is none.
	Lock(ctx context.Context, key string, lease time.Duration) (IdempotencyLock, *IdempotencyRecord, error)
}

// IdempotencyLock is one holder's lock on one key of an IdempotencyStore.
type IdempotencyLock interface {
	// Extend renews the lease for lease from now; ErrLockLost if the lock
	// ran out and another holder took the key.
	Extend(ctx context.Context, lease time.Duration) error
	// Save stores rec as the key's record for ttl, or deletes the record
	// when rec is nil; ErrLockLost if the lock is no longer held.
	Save(ctx context.Context, rec *IdempotencyRecord, ttl time.Duration) error
	// Unlock releases the lock. Unlocking a lock already lost is not an
	// error.
	Unlock(ctx context.Context) error
}

// IdempotencyRecord is what an IdempotencyStore keeps of a keyed create.
type IdempotencyRecord struct {
	// Fingerprint names the create the key belongs to: its API and identity
	// (Polar: product and customer or external customer; Chargeflow: dispute
	// and source_id). The same key with another fingerprint is a conflict
	// (ErrIdempotencyConflict).
	Fingerprint string `json:"fingerprint"`
	// SentAt is when a create under the key was last sent while its outcome
	// is not known: a later call looks it up, waiting out the look-up lag
	// (RetryPolicy.SettleTime) from SentAt, before it creates again. Zero
	// when no create is pending.
	SentAt time.Time `json:"sent_at,omitzero"`
	// Result is the created subscription as JSON, once the create is known to
	// have succeeded; nil before.
	Result []byte `json:"result,omitempty"`
	// StatusCode and RequestID are those of the create's response, when
	// Result came from one ("" when the create was found by a look-up).
	StatusCode int    `json:"status,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
}

// ErrLockLost is what IdempotencyLock's Extend and Save return when the lock
// ran out and another holder may have taken the key.
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

// MemoryStore is an IdempotencyStore in the memory of one process: the
// default store of every Client (one per Client). Share one between the
// Clients of a process with WithIdempotencyStore; processes share nothing
// through it (see subkitredis for a fleet). Records expire after their TTL
// and are then removed. The zero MemoryStore is not usable: make one with
// NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	now       func() time.Time
	retention time.Duration // 0: as long as Save asks

	mu        sync.Mutex
	keys      map[string]*memoryKey
	nextToken uint64
	lastSweep time.Time
}

type memoryKey struct {
	holder    uint64        // 0: unlocked
	leaseEnd  time.Time     // when the holder's lock runs out
	released  chan struct{} // closed when the lock is released; nil when unlocked
	rec       *IdempotencyRecord
	recExpiry time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore(opts ...MemoryStoreOption) *MemoryStore {
	m := &MemoryStore{now: time.Now, keys: map[string]*memoryKey{}}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
}

// MemoryStoreOption configures a MemoryStore in NewMemoryStore.
type MemoryStoreOption func(*MemoryStore)

// MemoryRetention caps how long a MemoryStore keeps a record; by default as
// long as the SDK asks (RecordTTL). Every record holds the created
// subscription (a few KiB for Polar), so a long batch in one process holds
// all it made for that long; a shorter retention trades that memory for a
// look-up at the API when a key comes back after it. d ≤ 0 leaves the
// default.
func MemoryRetention(d time.Duration) MemoryStoreOption {
	return func(m *MemoryStore) {
		if d > 0 {
			m.retention = d
		}
	}
}

// Lock takes the lock on key; see IdempotencyStore.
func (m *MemoryStore) Lock(ctx context.Context, key string, lease time.Duration) (IdempotencyLock, *IdempotencyRecord, error) {
	for {
		m.mu.Lock()
		now := m.now()
		m.sweep(now)
		k := m.keys[key]
		if k == nil {
			k = &memoryKey{}
			m.keys[key] = k
		}
		if k.holder == 0 || !now.Before(k.leaseEnd) {
			if k.released != nil {
				close(k.released) // a lease ran out: wake the other waiters too
			}
			m.nextToken++
			k.holder, k.leaseEnd, k.released = m.nextToken, now.Add(lease), make(chan struct{})
			var rec *IdempotencyRecord
			if k.rec != nil && now.Before(k.recExpiry) {
				rec = k.rec.clone()
			}
			m.mu.Unlock()
			return &memoryLock{m: m, key: key, token: k.holder}, rec, nil
		}
		released, wait := k.released, k.leaseEnd.Sub(now)
		m.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		case <-released:
		case <-t.C: // the lease ran out: take the key over
		}
		t.Stop()
	}
}

// sweep drops expired, unlocked keys once a minute, so that a long-lived
// store does not grow without bound. It runs with m.mu held.
func (m *MemoryStore) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < time.Minute {
		return
	}
	m.lastSweep = now
	for key, k := range m.keys {
		if (k.holder == 0 || !now.Before(k.leaseEnd)) && (k.rec == nil || !now.Before(k.recExpiry)) {
			delete(m.keys, key)
		}
	}
}

type memoryLock struct {
	m     *MemoryStore
	key   string
	token uint64
}

// held returns the key while l still holds it. It runs with m.mu held.
func (l *memoryLock) held() *memoryKey {
	k := l.m.keys[l.key]
	if k == nil || k.holder != l.token || !l.m.now().Before(k.leaseEnd) {
		return nil
	}
	return k
}

func (l *memoryLock) Extend(_ context.Context, lease time.Duration) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	k := l.held()
	if k == nil {
		return ErrLockLost
	}
	k.leaseEnd = l.m.now().Add(lease)
	return nil
}

func (l *memoryLock) Save(_ context.Context, rec *IdempotencyRecord, ttl time.Duration) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	k := l.held()
	if k == nil {
		return ErrLockLost
	}
	if rec == nil {
		k.rec = nil
		return nil
	}
	if l.m.retention > 0 {
		ttl = min(ttl, l.m.retention)
	}
	k.rec, k.recExpiry = rec.clone(), l.m.now().Add(ttl)
	return nil
}

func (l *memoryLock) Unlock(context.Context) error {
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	k := l.m.keys[l.key]
	if k == nil || k.holder != l.token {
		return nil // lost, and taken over: not ours to release
	}
	close(k.released)
	k.holder, k.released = 0, nil
	return nil
}

func (r *IdempotencyRecord) clone() *IdempotencyRecord {
	c := *r
	c.Result = append([]byte(nil), r.Result...)
	if r.Result == nil {
		c.Result = nil
	}
	return &c
}
