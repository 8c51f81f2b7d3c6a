package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subkit-go/subkit"
)

// drainTimeout bounds how long the command waits, at its end, for the store
// calls still running in the background (the last unlock of a create cut
// short), so that a rerun at once finds those keys free rather than locked
// until their lease runs out. It keeps Ctrl-C's promise: within about a
// second.
const drainTimeout = 500 * time.Millisecond

// countingStore is the run's idempotency store, which counts the keys it
// already knew when the run took them: the keys whose record, the first
// time this run asked, was of the create this run makes — same target —,
// finished (the SDK replays it, nothing sent) or pending (an earlier run
// sent it and never learned the outcome: the SDK looks it up, until it has
// settled, before creating). It also tracks its calls in flight, so that
// the command can let them finish before it closes the store.
type countingStore struct {
	subkit.IdempotencyStore
	inflight atomic.Int64 // store calls running

	mu      sync.Mutex
	taken   map[string]bool // every key this run took
	known   map[string]bool // taken with a record of this target
	pending map[string]bool // of those, pending
}

func newCountingStore(s subkit.IdempotencyStore) *countingStore {
	return &countingStore{IdempotencyStore: s, taken: map[string]bool{}, known: map[string]bool{}, pending: map[string]bool{}}
}

// Lock takes the key in the store, and counts it. A record of another
// target (a dry run's, for a live one) is none: the SDK ignores it too.
// Only the first take of a key in this run counts, so that a key this run
// made and then met again (a repeated line) is not "known".
func (s *countingStore) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	lock, rec, err := s.IdempotencyStore.Lock(ctx, key, req)
	if err != nil {
		return lock, rec, err
	}
	s.mu.Lock()
	if !s.taken[key] {
		s.taken[key] = true
		if rec != nil && req.Claim != nil && rec.Target == req.Claim.Target {
			s.known[key] = true
			s.pending[key] = rec.Pending
		}
	}
	s.mu.Unlock()
	return &countedLock{IdempotencyLock: lock, s: s}, rec, nil
}

// storeCounts is what the store knew of the keys a run took.
type storeCounts struct {
	Taken, Known, Pending int
}

func (s *countingStore) counts() storeCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := storeCounts{Taken: len(s.taken), Known: len(s.known)}
	for k := range s.known {
		if s.pending[k] {
			c.Pending++
		}
	}
	return c
}

// drain waits for the store calls in flight to end, at most d.
func (s *countingStore) drain(d time.Duration) {
	for deadline := time.Now().Add(d); s.inflight.Load() > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
}

// countedLock tracks the calls of a lock in flight.
type countedLock struct {
	subkit.IdempotencyLock
	s *countingStore
}

func (l *countedLock) Extend(ctx context.Context, lease time.Duration) error {
	l.s.inflight.Add(1)
	defer l.s.inflight.Add(-1)
	return l.IdempotencyLock.Extend(ctx, lease)
}

func (l *countedLock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.s.inflight.Add(1)
	defer l.s.inflight.Add(-1)
	return l.IdempotencyLock.Save(ctx, rec, ttl)
}

func (l *countedLock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.s.inflight.Add(1)
	defer l.s.inflight.Add(-1)
	return l.IdempotencyLock.Release(ctx, rec, ttl)
}

func (l *countedLock) Unlock(ctx context.Context) error {
	l.s.inflight.Add(1)
	defer l.s.inflight.Add(-1)
	return l.IdempotencyLock.Unlock(ctx)
}
