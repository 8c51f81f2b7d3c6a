package subkit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// The MemoryStore keeps the promises of IdempotencyStore: one holder at a
// time, leases that run out, fenced saves, records that expire.

func TestMemoryStoreOneHolderAtATime(t *testing.T) {
	s := subkit.NewMemoryStore()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lock, _, err := s.Lock(context.Background(), "k", time.Minute)
			if !assert.NoError(t, err) {
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			assert.NoError(t, lock.Unlock(context.Background()))
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), most.Load(), "never two holders at once")

	// Keys are independent.
	a, _, err := s.Lock(context.Background(), "a", time.Minute)
	require.NoError(t, err)
	b, _, err := s.Lock(context.Background(), "b", time.Minute)
	require.NoError(t, err)
	require.NoError(t, a.Unlock(context.Background()))
	require.NoError(t, b.Unlock(context.Background()))
}

func TestMemoryStoreRecordsAndTheirTTL(t *testing.T) {
	s := subkit.NewMemoryStore()
	ctx := context.Background()
	lock, rec, err := s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Nil(t, rec)
	want := &subkit.IdempotencyRecord{Fingerprint: "f", Result: []byte(`{"id":"x"}`), StatusCode: 201, RequestID: "r"}
	require.NoError(t, lock.Save(ctx, want, 50*time.Millisecond))
	want.Result[0] = 'X' // the store keeps its own copy
	require.NoError(t, lock.Unlock(ctx))

	lock, rec, err = s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, &subkit.IdempotencyRecord{Fingerprint: "f", Result: []byte(`{"id":"x"}`), StatusCode: 201, RequestID: "r"}, rec)
	require.NoError(t, lock.Unlock(ctx))

	time.Sleep(60 * time.Millisecond) // past the record's TTL
	lock, rec, err = s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Nil(t, rec, "an expired record is gone")

	// A nil record deletes.
	require.NoError(t, lock.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "f", SentAt: time.Now()}, time.Minute))
	require.NoError(t, lock.Save(ctx, nil, time.Minute))
	require.NoError(t, lock.Unlock(ctx))
	lock, rec, err = s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Nil(t, rec)
	require.NoError(t, lock.Unlock(ctx))
}

func TestMemoryStoreLeaseRunsOutAndFences(t *testing.T) {
	s := subkit.NewMemoryStore()
	ctx := context.Background()
	dead, _, err := s.Lock(ctx, "k", 30*time.Millisecond)
	require.NoError(t, err)

	// A waiter takes the key once the dead holder's lease runs out.
	next, _, err := s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.NoError(t, next.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "next"}, time.Minute))

	// The old holder, back to life, can neither extend, save, nor release
	// the new holder's lock.
	assert.ErrorIs(t, dead.Extend(ctx, time.Minute), subkit.ErrLockLost)
	assert.ErrorIs(t, dead.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "dead"}, time.Minute), subkit.ErrLockLost)
	assert.NoError(t, dead.Unlock(ctx), "unlocking a lost lock is no error")
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, _, err = s.Lock(short, "k", time.Minute)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "still held by next")

	require.NoError(t, next.Extend(ctx, time.Minute))
	require.NoError(t, next.Unlock(ctx))
	lock, rec, err := s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "next", rec.Fingerprint)
	require.NoError(t, lock.Unlock(ctx))
}

func TestMemoryStoreWaitEndsWithTheContext(t *testing.T) {
	s := subkit.NewMemoryStore()
	held, _, err := s.Lock(context.Background(), "k", time.Minute)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Lock(ctx, "k", time.Minute)
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	// Released, the key goes to the next waiter at once.
	go func() {
		_, _, err := s.Lock(context.Background(), "k", time.Minute)
		done <- err
	}()
	require.NoError(t, held.Unlock(context.Background()))
	assert.NoError(t, <-done)
}

func TestMemoryRetentionCapsRecords(t *testing.T) {
	s := subkit.NewMemoryStore(subkit.MemoryRetention(30 * time.Millisecond))
	ctx := context.Background()
	lock, _, err := s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.NoError(t, lock.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "f"}, subkit.RecordTTL))
	require.NoError(t, lock.Unlock(ctx))
	time.Sleep(40 * time.Millisecond)
	lock, rec, err := s.Lock(ctx, "k", time.Minute)
	require.NoError(t, err)
	assert.Nil(t, rec, "gone after the retention, though Save asked for a day")
	require.NoError(t, lock.Unlock(ctx))
}
