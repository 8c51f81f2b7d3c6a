package subkit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// memoryShards splits a MemoryStore so that one key's work, and the
// expiry of old records, never holds the whole store: a million keys are
// ~16 k a shard.
const memoryShards = 64

// sweepBatch bounds the expired records one call removes from a shard, so
// that expiry never holds a shard's lock for more than a few microseconds.
const sweepBatch = 32

// MemoryStore is an IdempotencyStore in the memory of one process. Unless
// a Client is given its own store (WithIdempotencyStore), every Client of
// the process shares one MemoryStore: the one value the SDK keeps for the
// whole process, so that two Clients of one process never create one key
// twice. Records name their target, so Clients of different targets
// sharing it never replay each other's creates. Processes share nothing
// through it (see subkitredis and subkitsql for that).
//
// Its clock is the process's monotonic clock. Records expire after their
// TTL and are then removed, a few at a time, by later calls. Results are
// kept compressed against the first result the store saw, so that a
// million Polar records fit in well under 1 GiB; a replay decompresses one
// (a few microseconds). The zero MemoryStore is not usable: make one with
// NewMemoryStore. It is safe for concurrent use.
type MemoryStore struct {
	now       func() time.Time
	retention time.Duration // 0: as long as Save asks
	seed      maphash.Seed
	codec     resultCodec
	shards    [memoryShards]memoryShard
}

type memoryShard struct {
	mu        sync.Mutex
	keys      map[string]*memoryKey
	nextToken uint64
	expiries  []memoryExpiry // in the order records were saved: TTLs are alike
}

type memoryExpiry struct {
	key string
	at  time.Time
}

type memoryKey struct {
	holder    uint64        // 0: unlocked
	leaseEnd  time.Time     // when the holder's lock runs out
	released  chan struct{} // closed when the lock is released; nil when unlocked
	rec       *IdempotencyRecord
	result    []byte // rec's Result, compressed
	recExpiry time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore(opts ...MemoryStoreOption) *MemoryStore {
	m := &MemoryStore{now: time.Now, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].keys = map[string]*memoryKey{}
	}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	return m
}

// MemoryStoreOption configures a MemoryStore in NewMemoryStore.
type MemoryStoreOption func(*MemoryStore)

// MemoryRetention caps how long a MemoryStore keeps a finished record; by
// default as long as the SDK asks (RecordTTL). A shorter retention trades
// memory for a look-up at the API when a key comes back after it. Pending
// records are never cut short: they must outlive the settle time of the
// create they stand for. d ≤ 0 leaves the default.
func MemoryRetention(d time.Duration) MemoryStoreOption {
	return func(m *MemoryStore) {
		if d > 0 {
			m.retention = d
		}
	}
}

// memoryClock makes a MemoryStore read time from now (for tests).
func memoryClock(now func() time.Time) MemoryStoreOption {
	return func(m *MemoryStore) { m.now = now }
}

func (m *MemoryStore) shard(key string) *memoryShard {
	return &m.shards[maphash.String(m.seed, key)%memoryShards]
}

// Lock takes the lock on key; see IdempotencyStore.
func (m *MemoryStore) Lock(ctx context.Context, key string, req LockRequest) (IdempotencyLock, *IdempotencyRecord, error) {
	s := m.shard(key)
	for {
		s.mu.Lock()
		now := m.now()
		s.sweep(now)
		k := s.keys[key]
		if k == nil {
			k = &memoryKey{}
			s.keys[key] = k
		}
		if k.holder == 0 || !now.Before(k.leaseEnd) {
			if k.released != nil {
				close(k.released) // a lease ran out: wake the other waiters too
			}
			s.nextToken++
			k.holder, k.leaseEnd, k.released = s.nextToken, now.Add(req.Lease), make(chan struct{})
			rec := m.record(k, now)
			if rec == nil && req.Claim != nil {
				claim := *req.Claim
				claim.Pending = true
				m.save(s, key, k, &claim, req.ClaimTTL, now)
			}
			lock := &memoryLock{m: m, s: s, key: key, token: k.holder}
			s.mu.Unlock()
			return lock, rec, nil
		}
		released, wait := k.released, k.leaseEnd.Sub(now)
		s.mu.Unlock()
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

// record returns a copy of k's live record, or nil. It runs with the
// shard's lock held.
func (m *MemoryStore) record(k *memoryKey, now time.Time) *IdempotencyRecord {
	if k.rec == nil || !now.Before(k.recExpiry) {
		return nil
	}
	rec := k.rec.Clone()
	if k.result != nil {
		rec.Result = m.codec.decode(k.result)
	}
	if rec.Pending {
		rec.SinceSent = now.Sub(rec.SentAt)
	}
	return rec
}

// save writes rec as k's record. It runs with the shard's lock held.
func (m *MemoryStore) save(s *memoryShard, key string, k *memoryKey, rec *IdempotencyRecord, ttl time.Duration, now time.Time) {
	if rec == nil || ttl <= 0 {
		k.rec, k.result = nil, nil
		return
	}
	if m.retention > 0 && !rec.Pending {
		ttl = min(ttl, m.retention)
	}
	c := *rec
	c.Result, c.SinceSent = nil, 0
	c.SentAt = time.Time{}
	if c.Pending {
		c.SentAt = now
	}
	k.rec, k.recExpiry, k.result = &c, now.Add(ttl), nil
	if rec.Result != nil {
		k.result = m.codec.encode(rec.Result)
	}
	s.expiries = append(s.expiries, memoryExpiry{key: key, at: k.recExpiry})
}

// sweep removes up to sweepBatch keys whose records have expired and that
// no one holds. Expiries are queued in the order records were saved, so the
// oldest come first; a key saved again since has a later entry of its own.
// It runs with the shard's lock held.
func (s *memoryShard) sweep(now time.Time) {
	n := 0
	for n < sweepBatch && len(s.expiries) > 0 && !now.Before(s.expiries[0].at) {
		e := s.expiries[0]
		s.expiries[0] = memoryExpiry{}
		s.expiries = s.expiries[1:]
		n++
		k := s.keys[e.key]
		if k != nil && (k.holder == 0 || !now.Before(k.leaseEnd)) && (k.rec == nil || !now.Before(k.recExpiry)) {
			if k.released != nil {
				close(k.released)
			}
			delete(s.keys, e.key)
		}
	}
	if len(s.expiries) == 0 && cap(s.expiries) > 1024 {
		s.expiries = nil // let a drained queue's array go
	}
}

type memoryLock struct {
	m     *MemoryStore
	s     *memoryShard
	key   string
	token uint64
}

// held returns the key while l still holds it. It runs with the shard's
// lock held.
func (l *memoryLock) held(now time.Time) *memoryKey {
	k := l.s.keys[l.key]
	if k == nil || k.holder != l.token || !now.Before(k.leaseEnd) {
		return nil
	}
	return k
}

// whileHeld runs fn with the shard's lock held and the key's state, if l
// still holds it; ErrLockLost if not.
func (l *memoryLock) whileHeld(fn func(k *memoryKey, now time.Time)) error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	now := l.m.now()
	k := l.held(now)
	if k == nil {
		return ErrLockLost
	}
	fn(k, now)
	return nil
}

func (l *memoryLock) Extend(_ context.Context, lease time.Duration) error {
	return l.whileHeld(func(k *memoryKey, now time.Time) { k.leaseEnd = now.Add(lease) })
}

func (l *memoryLock) Save(_ context.Context, rec *IdempotencyRecord, ttl time.Duration) error {
	return l.whileHeld(func(k *memoryKey, now time.Time) { l.m.save(l.s, l.key, k, rec, ttl, now) })
}

func (l *memoryLock) Release(_ context.Context, rec *IdempotencyRecord, ttl time.Duration) error {
	return l.whileHeld(func(k *memoryKey, now time.Time) {
		l.m.save(l.s, l.key, k, rec, ttl, now)
		l.unlock(k)
	})
}

func (l *memoryLock) Unlock(context.Context) error {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	if k := l.s.keys[l.key]; k != nil && k.holder == l.token {
		l.unlock(k)
	} // else lost, and taken over: not ours to release
	return nil
}

// unlock releases k, and forgets it when it holds no record. It runs with
// the shard's lock held.
func (l *memoryLock) unlock(k *memoryKey) {
	close(k.released)
	k.holder, k.released = 0, nil
	if k.rec == nil {
		delete(l.s.keys, l.key)
	}
}

// defaultStore is the process's MemoryStore, made on first use: the one
// process-wide value the SDK keeps (see MemoryStore).
var defaultStore = sync.OnceValue(func() *MemoryStore { return NewMemoryStore() })
