package subkittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// The store contract's locking, lease and fencing cases (TestIdempotencyStore).

// instances returns n instances of one subtest's store.
func instances(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore, n int) []subkit.IdempotencyStore {
	t.Helper()
	s := make([]subkit.IdempotencyStore, n)
	for i := range s {
		if s[i] = newStore(t); s[i] == nil {
			t.Fatal("newStore returned nil")
		}
	}
	return s
}

// 16 goroutines on 4 instances take one key in turn: never two at once.
func testOneHolder(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 4)
	const goroutines, rounds = 16, 2
	var inside, most, done atomic.Int32
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 6*within)
				l, _, err := stores[g%len(stores)].Lock(ctx, "polar:one-holder", lease(longLease))
				cancel()
				if err != nil {
					t.Errorf("goroutine %d: Lock: %v", g, err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(time.Millisecond) // hold it a moment: overlap shows
				inside.Add(-1)
				done.Add(1)
				if err := l.Unlock(context.Background()); err != nil {
					t.Errorf("goroutine %d: Unlock: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("%d holders of one key at once, want 1", most.Load())
	}
	if done.Load() != goroutines*rounds {
		t.Errorf("%d of %d turns held the key", done.Load(), goroutines*rounds)
	}
}

// A waiter does not get a held key, and gets it once the holder unlocks,
// long before the holder's lease would have run out.
func testWaiterGetsKey(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	held, _ := lockKey(t, stores[0], "polar:waiter", lease(longLease))
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		l, _, err := stores[1].Lock(ctx, "polar:waiter", lease(longLease))
		if err == nil {
			err = l.Unlock(context.Background())
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the waiter returned (%v) while the key was held", err)
	case <-time.After(200 * time.Millisecond):
	}
	unlock(t, held)
	if err := <-got; err != nil {
		t.Fatalf("the waiter, after the holder unlocked: %v", err)
	}
}

// A waiter gives up when its context ends, with the context's error; the
// holder keeps the key.
func testWaiterGivesUp(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	held, _ := lockKey(t, stores[0], "polar:gives-up", lease(longLease))
	cannotLock(t, stores[1], "polar:gives-up", 300*time.Millisecond)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	l, _, err := stores[1].Lock(ctx, "polar:gives-up", lease(longLease))
	if !errors.Is(err, context.Canceled) || l != nil {
		t.Errorf("Lock on a held key, its context canceled: (%v, %v), want (nil, context.Canceled)", l, err)
	}
	if err := held.Extend(context.Background(), longLease); err != nil {
		t.Errorf("the holder's Extend after waiters gave up: %v", err)
	}
	unlock(t, held)
	l2, _ := lockKey(t, stores[1], "polar:gives-up", lease(longLease))
	unlock(t, l2)
}

// Keys are independent: a held key does not hold another, however alike
// their names.
func testKeysIndependent(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	held, _ := lockKey(t, stores[0], "polar:order-1", lease(longLease))
	defer unlock(t, held)
	for _, key := range []string{"chargeflow:order-1", "polar:order-10", "polar:order-", "polar:Order-1", "polar:order-1 "} {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		start := time.Now()
		l, _, err := stores[1].Lock(ctx, key, lease(longLease))
		cancel()
		if err != nil {
			t.Errorf("Lock(%q) while polar:order-1 is held: %v", key, err)
			continue
		}
		if d := time.Since(start); d > within/2 {
			t.Errorf("Lock(%q) waited %v for a free key", key, d)
		}
		unlock(t, l)
	}
}

// A lease runs out on its own: another holder takes the key then, and not
// before.
func testLeaseTakeover(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	const short = 400 * time.Millisecond
	start := time.Now()
	lockKey(t, stores[0], "polar:lease", lease(short)) // never unlocked: its holder died
	l, _ := lockKey(t, stores[1], "polar:lease", lease(longLease))
	// The lease began after start; a store that counts it on a clock of
	// millisecond grain may end it up to a millisecond early.
	if d := time.Since(start); d < short-50*time.Millisecond {
		t.Errorf("the key was taken over %v after a lease of %v began", d, short)
	}
	unlock(t, l)
}

// Extend renews a lease from now: the key is still held after the first
// lease would have run out.
func testExtend(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	const first = time.Second
	l, _ := lockKey(t, stores[0], "polar:extend", lease(first))
	if err := l.Extend(context.Background(), longLease); err != nil {
		t.Fatalf("Extend right after Lock: %v", err)
	}
	time.Sleep(first + 300*time.Millisecond)
	cannotLock(t, stores[1], "polar:extend", 300*time.Millisecond)
	if err := l.Extend(context.Background(), longLease); err != nil {
		t.Errorf("Extend of a held key: %v", err)
	}
	unlock(t, l)
}

// A holder whose lease ran out and whose key another holder took changes
// nothing: each write returns ErrLockLost, Unlock is not an error and does
// not release the new holder, and the new holder's record stands.
func testFenceTakenOver(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 3)
	key := "polar:fence"
	before := &subkit.IdempotencyRecord{Fingerprint: "fp-before", Target: "t", Result: []byte(`{"id":"before"}`)}
	save(t, stores[0], key, before, time.Hour)

	old, _ := lockKey(t, stores[0], key, lease(300*time.Millisecond))
	holder, rec := lockKey(t, stores[1], key, lease(longLease)) // waits for the lease to run out
	sameRecord(t, "the record the new holder finds", rec, before)
	mine := &subkit.IdempotencyRecord{Fingerprint: "fp-new-holder", Target: "t", Result: []byte(`{"id":"new"}`)}
	if err := holder.Save(context.Background(), mine, time.Hour); err != nil {
		t.Fatalf("the new holder's Save: %v", err)
	}

	stale := &subkit.IdempotencyRecord{Fingerprint: "fp-stale", Target: "t", Result: []byte(`{"id":"stale"}`)}
	fencedWrites(t, old, stale)
	if err := old.Unlock(context.Background()); err != nil {
		t.Errorf("Unlock of a lost lock: %v, want nil", err)
	}

	cannotLock(t, stores[2], key, 300*time.Millisecond) // the new holder still has it
	if err := holder.Extend(context.Background(), longLease); err != nil {
		t.Errorf("the new holder's Extend after the old one's writes: %v", err)
	}
	unlock(t, holder)
	sameRecord(t, "the record after the lost lock's writes", read(t, stores[2], key), mine)
}

// fencedWrites checks that each write through the lost lock l returns
// ErrLockLost; what they did not change is checked by the caller.
func fencedWrites(t *testing.T, l subkit.IdempotencyLock, rec *subkit.IdempotencyRecord) {
	t.Helper()
	ctx := context.Background()
	lost(t, "Extend", l.Extend(ctx, longLease))
	lost(t, "Save", l.Save(ctx, rec, time.Hour))
	pending := rec.Clone()
	pending.Pending = true
	lost(t, "Save of a pending record", l.Save(ctx, pending, time.Hour))
	lost(t, "Save(nil)", l.Save(ctx, nil, time.Hour))
	lost(t, "Release", l.Release(ctx, rec, time.Hour))
	lost(t, "Release(nil)", l.Release(ctx, nil, time.Hour))
}

// A lease that ran out is lost even when no one took the key since: the
// holder cannot know that no one did.
func testFenceRunOut(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	key := "polar:run-out"
	before := &subkit.IdempotencyRecord{Fingerprint: "fp-before", Target: "t", Result: []byte(`{"id":"before"}`)}
	save(t, stores[0], key, before, time.Hour)
	const short = 300 * time.Millisecond
	old, _ := lockKey(t, stores[0], key, lease(short))
	time.Sleep(short + 400*time.Millisecond)
	fencedWrites(t, old, &subkit.IdempotencyRecord{Fingerprint: "fp-stale", Target: "t"})
	if err := old.Unlock(context.Background()); err != nil {
		t.Errorf("Unlock of a lock that ran out: %v, want nil", err)
	}
	sameRecord(t, "the record after writes through a lock that ran out", read(t, stores[1], key), before)
}

// A lock once unlocked writes nothing more; a second Unlock is not an error.
func testFenceAfterUnlock(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	key := "polar:after-unlock"
	before := &subkit.IdempotencyRecord{Fingerprint: "fp-before", Target: "t"}
	save(t, stores[0], key, before, time.Hour)
	l, _ := lockKey(t, stores[0], key, lease(longLease))
	unlock(t, l)
	fencedWrites(t, l, &subkit.IdempotencyRecord{Fingerprint: "fp-stale", Target: "t"})
	if err := l.Unlock(context.Background()); err != nil {
		t.Errorf("a second Unlock: %v, want nil", err)
	}
	sameRecord(t, "the record after writes through an unlocked lock", read(t, stores[1], key), before)
}

// Several instances serialise a counter kept in the key's record: each
// caller reads it under the lock and releases it one higher. Lost updates or
// two holders at once show as a short count.
func testInstancesCounter(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 4)
	const perStore, rounds = 2, 4
	key := "chargeflow:counter"
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := range len(stores) * perStore {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[i%len(stores)]
			for range rounds {
				ctx, cancel := context.WithTimeout(context.Background(), 6*within)
				l, rec, err := st.Lock(ctx, key, lease(longLease))
				cancel()
				if err != nil {
					t.Errorf("caller %d: Lock: %v", i, err)
					return
				}
				if inside.Add(1) > 1 {
					overlaps.Add(1)
				}
				n := 0
				if rec != nil {
					_, _ = fmt.Sscan(string(rec.Result), &n)
				}
				next := &subkit.IdempotencyRecord{Fingerprint: "counter", Result: []byte(fmt.Sprint(n + 1))}
				inside.Add(-1)
				if err := l.Release(context.Background(), next, time.Hour); err != nil {
					t.Errorf("caller %d: Release: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() > 0 {
		t.Errorf("%d turns overlapped another holder's", overlaps.Load())
	}
	rec := read(t, stores[0], key)
	if want := fmt.Sprint(len(stores) * perStore * rounds); rec == nil || string(rec.Result) != want {
		t.Errorf("the counter reads %v, want %s: an update was lost", rec, want)
	}
}
