package subkit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// What only the MemoryStore does; the contract every store keeps is
// subkittest.TestIdempotencyStore's (store_conformance_test.go).

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ at atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.at.Store(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) now() time.Time          { return time.Unix(0, c.at.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.at.Add(int64(d)) }

func TestMemoryRetentionCapsFinishedRecordsNotPendingOnes(t *testing.T) {
	clock := newFakeClock()
	s := subkit.NewMemoryStore(subkit.MemoryRetention(time.Second), subkit.MemoryClock(clock.now))
	ctx := context.Background()
	lease := subkit.LockRequest{Lease: time.Minute}
	lock, _, err := s.Lock(ctx, "done", lease)
	require.NoError(t, err)
	require.NoError(t, lock.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "f", Result: []byte(`{"id":"x"}`)}, subkit.RecordTTL))
	lock, _, err = s.Lock(ctx, "pending", subkit.LockRequest{Lease: time.Minute,
		Claim: &subkit.IdempotencyRecord{Fingerprint: "f"}, ClaimTTL: subkit.RecordTTL})
	require.NoError(t, err)
	require.NoError(t, lock.Unlock(ctx))

	clock.advance(2 * time.Second)
	lock, rec, err := s.Lock(ctx, "done", lease)
	require.NoError(t, err)
	assert.Nil(t, rec, "gone after the retention, though Save asked for a day")
	require.NoError(t, lock.Unlock(ctx))
	lock, rec, err = s.Lock(ctx, "pending", lease)
	require.NoError(t, err)
	require.NotNil(t, rec, "a pending record outlives the retention: it must settle first")
	assert.True(t, rec.Pending)
	assert.Equal(t, 2*time.Second, rec.SinceSent, "on the store's clock")
	require.NoError(t, lock.Unlock(ctx))
}

func TestMemoryStoreKeepsResultsByteExact(t *testing.T) {
	s := subkit.NewMemoryStore()
	ctx := context.Background()
	body, err := os.ReadFile("testdata/polar-subscription.json")
	require.NoError(t, err)
	for i, b := range [][]byte{body, []byte(`{"id":"a"}`), append(append([]byte{}, body...), "\x00\xff"...), {}} {
		key := fmt.Sprint("k", i)
		lock, _, err := s.Lock(ctx, key, subkit.LockRequest{Lease: time.Minute})
		require.NoError(t, err)
		require.NoError(t, lock.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "f", Result: b}, time.Hour))
		lock, rec, err := s.Lock(ctx, key, subkit.LockRequest{Lease: time.Minute})
		require.NoError(t, err)
		require.NotNil(t, rec)
		assert.Equal(t, string(b), string(rec.Result))
		require.NoError(t, lock.Unlock(ctx))
	}
}

// Expired records leave the store a few at a time, as later calls come:
// after the TTL, enough calls empty it, and no call removes more than a
// small batch (what bounds how long one holds a shard's lock).
func TestMemoryStoreExpiresRecordsInSmallBatches(t *testing.T) {
	clock := newFakeClock()
	s := subkit.NewMemoryStore(subkit.MemoryClock(clock.now))
	ctx := context.Background()
	const n = 5000
	for i := range n {
		lock, _, err := s.Lock(ctx, fmt.Sprint("k", i), subkit.LockRequest{Lease: time.Minute})
		require.NoError(t, err)
		require.NoError(t, lock.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "f", Result: []byte(`{}`)}, time.Hour))
	}
	require.Equal(t, n, subkit.MemoryStoreLen(s))
	clock.advance(2 * time.Hour)
	lock, _, err := s.Lock(ctx, "other", subkit.LockRequest{Lease: time.Minute})
	require.NoError(t, err)
	require.NoError(t, lock.Unlock(ctx))
	removed := n - subkit.MemoryStoreLen(s)
	assert.Positive(t, removed)
	assert.LessOrEqual(t, removed, 32, "one call sweeps one shard's small batch")
	for i := 0; subkit.MemoryStoreLen(s) > 0 && i < 10*n; i++ {
		lock, _, err := s.Lock(ctx, fmt.Sprint("x", i), subkit.LockRequest{Lease: time.Minute})
		require.NoError(t, err)
		require.NoError(t, lock.Unlock(ctx))
	}
	assert.Zero(t, subkit.MemoryStoreLen(s), "every expired record goes in the end")
}

// BenchmarkMemoryStoreMillionKeys holds 1 M records of a real Polar
// subscription (each with its own ID) and reports the heap per key and the
// longest a sweep held a shard: the store's cost at scale.
func BenchmarkMemoryStoreMillionKeys(b *testing.B) {
	body, err := os.ReadFile("testdata/polar-subscription.json")
	if err != nil {
		b.Fatal(err)
	}
	at := bytes.Index(body, []byte(`"id": "`)) + len(`"id": "`)
	n := 1_000_000
	if testing.Short() || b.N == 1 && os.Getenv("SUBKIT_BENCH_MILLION") == "" {
		n = 20_000 // CI's one-shot run: the shape, not the scale
	}
	ctx := context.Background()
	for range b.N {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		clock := newFakeClock()
		s := subkit.NewMemoryStore(subkit.MemoryClock(clock.now))
		for i := range n {
			res := append([]byte(nil), body...)
			copy(res[at:], fmt.Sprintf("%08x", i)) // inside the subscription's "id"
			lock, _, err := s.Lock(ctx, fmt.Sprintf("polar:order-%07d", i), subkit.LockRequest{Lease: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			if err := lock.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "polar POST /v1/subscriptions/ sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
				Target: "polar https://api.polar.sh cred:0123456789abcdef", Result: res, StatusCode: 201, RequestID: "req_0123456789"}, subkit.RecordTTL); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(n), "heapB/key")
		clock.advance(25 * time.Hour)
		worst := time.Duration(0)
		for i := 0; subkit.MemoryStoreLen(s) > 0; i++ {
			start := time.Now()
			lock, _, err := s.Lock(ctx, fmt.Sprint("sweep", i), subkit.LockRequest{Lease: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			worst = max(worst, time.Since(start))
			_ = lock.Unlock(ctx)
		}
		b.ReportMetric(float64(worst.Microseconds()), "worst-lock-µs")
		runtime.KeepAlive(s)
	}
}
