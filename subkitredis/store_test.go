package subkitredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
)

// Leases in these tests are short so that expiry tests take milliseconds;
// long is for locks that must not run out while a test holds them.
const (
	short = 200 * time.Millisecond
	long  = 30 * time.Second
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func lock(t *testing.T, s *subkitredis.Store, key string, lease time.Duration) (subkit.IdempotencyLock, *subkit.IdempotencyRecord) {
	t.Helper()
	l, rec, err := s.Lock(testCtx(t), key, subkit.LockRequest{Lease: lease})
	require.NoError(t, err)
	return l, rec
}

// lockedOut asserts that key stays locked by another holder for d: a Lock
// waiting that long ends with its context.
func lockedOut(t *testing.T, s *subkitredis.Store, key string, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	l, rec, err := s.Lock(ctx, key, subkit.LockRequest{Lease: long})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Nil(t, l)
	assert.Nil(t, rec)
}

func TestLockIsExclusiveAcrossGoroutinesAndClients(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	const clients, goroutines, rounds = 4, 3, 8
	// Each round reads a counter from the record the lock returns and saves
	// it plus one, while checking that no other holder is inside: any overlap
	// of two holders would lose an increment or trip the check.
	var inside atomic.Int32
	var wg sync.WaitGroup
	for range clients {
		store := subkitredis.NewStore(srv.NewClient()) // its own pool, as another process
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					l, rec, err := store.Lock(testCtx(t), "polar:counter", subkit.LockRequest{Lease: long})
					if !assert.NoError(t, err) {
						return
					}
					assert.Equal(t, int32(1), inside.Add(1), "two holders at once")
					n := 0
					if rec != nil {
						n, _ = strconv.Atoi(rec.Fingerprint)
					}
					time.Sleep(time.Millisecond) // others poll meanwhile: an overlap would show
					assert.NoError(t, l.Save(testCtx(t), &subkit.IdempotencyRecord{Fingerprint: strconv.Itoa(n + 1)}, time.Hour))
					inside.Add(-1)
					assert.NoError(t, l.Unlock(testCtx(t)))
				}
			}()
		}
	}
	wg.Wait()
	_, rec := lock(t, subkitredis.NewStore(srv.Client()), "polar:counter", short)
	require.NotNil(t, rec)
	assert.Equal(t, strconv.Itoa(clients*goroutines*rounds), rec.Fingerprint)
}

func TestLeaseRunsOutAndTheNextHolderIsFenced(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	a := subkitredis.NewStore(srv.NewClient())
	b := subkitredis.NewStore(srv.NewClient())
	ctx := testCtx(t)

	old, _ := lock(t, a, "polar:k", short)
	require.NoError(t, old.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "old"}, time.Hour))
	// b waits until old's lease runs out, then holds the key and reads what
	// old saved.
	cur, rec := lock(t, b, "polar:k", long)
	require.NotNil(t, rec)
	assert.Equal(t, "old", rec.Fingerprint)
	require.NoError(t, cur.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "current"}, time.Hour))

	// The old holder can change nothing any more.
	assert.ErrorIs(t, old.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "stale"}, time.Hour), subkit.ErrLockLost)
	assert.ErrorIs(t, old.Save(ctx, nil, time.Hour), subkit.ErrLockLost)
	assert.ErrorIs(t, old.Extend(ctx, long), subkit.ErrLockLost)
	assert.NoError(t, old.Unlock(ctx), "unlocking a lost lock is not an error")

	// … and its Unlock did not release the current holder's lock.
	lockedOut(t, a, "polar:k", 300*time.Millisecond)
	require.NoError(t, cur.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "current, still held"}, time.Hour))
	require.NoError(t, cur.Unlock(ctx))

	_, rec = lock(t, a, "polar:k", short)
	require.NotNil(t, rec)
	assert.Equal(t, "current, still held", rec.Fingerprint)
}

func TestExtendKeepsTheLock(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	s := subkitredis.NewStore(srv.Client())
	const lease = 500 * time.Millisecond
	held, _ := lock(t, s, "polar:k", lease)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(lease / 10)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				assert.NoError(t, held.Extend(testCtx(t), lease))
			}
		}
	}()
	// Twice the lease: the key would be free by now without the extensions.
	lockedOut(t, s, "polar:k", 2*lease)
	close(stop)
	wg.Wait()

	require.NoError(t, held.Unlock(testCtx(t)))
	_, _ = lock(t, s, "polar:k", short) // free again at once
}

func TestLockWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	s := subkitredis.NewStore(srv.Client())
	held, _ := lock(t, s, "polar:k", long)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Lock(ctx, "polar:k", subkit.LockRequest{Lease: long})
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting; the outcome is the same if not
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	lockedOut(t, s, "polar:k", 100*time.Millisecond)

	require.NoError(t, held.Unlock(testCtx(t)))
	_, _ = lock(t, s, "polar:k", short) // the waiters that gave up took nothing
}

func TestSaveDeleteAndExpiry(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	s := subkitredis.NewStore(rdb)
	ctx := testCtx(t)
	want := &subkit.IdempotencyRecord{
		Fingerprint: "product=p customer=c",
		Target:      "polar https://api.polar.sh cred:0011",
		Result:      []byte(`{"id":"sub_1","status":"active"}`),
		StatusCode:  201,
		RequestID:   "req_1",
	}

	l, rec := lock(t, s, "polar:k", short)
	assert.Nil(t, rec, "no record yet")
	require.NoError(t, l.Save(ctx, want, time.Hour))

	// The keys the package documentation names, with their expiries.
	raw, err := rdb.HGet(ctx, "subkit:idem:{polar:k}:record", "rec").Result()
	require.NoError(t, err)
	wantJSON, _ := json.Marshal(want)
	assert.JSONEq(t, string(wantJSON), raw)
	ttl, err := rdb.PTTL(ctx, "subkit:idem:{polar:k}:record").Result()
	require.NoError(t, err)
	assert.True(t, ttl > time.Hour-time.Minute && ttl <= time.Hour, "record TTL %v", ttl)
	leaseLeft, err := rdb.PTTL(ctx, "subkit:idem:{polar:k}:lock").Result()
	require.NoError(t, err)
	assert.True(t, leaseLeft > 0 && leaseLeft <= short, "lock TTL %v", leaseLeft)
	require.NoError(t, l.Unlock(ctx))
	assert.Zero(t, rdb.Exists(ctx, "subkit:idem:{polar:k}:lock").Val(), "Unlock deletes the lock key")

	// Lock returns the record as saved.
	l, rec = lock(t, s, "polar:k", short)
	assert.Equal(t, want, rec)

	// Save(nil) deletes it; so does a TTL that has run out already.
	require.NoError(t, l.Save(ctx, nil, time.Hour))
	assert.Zero(t, rdb.Exists(ctx, "subkit:idem:{polar:k}:record").Val())
	require.NoError(t, l.Save(ctx, want, time.Hour))
	require.NoError(t, l.Save(ctx, want, 0))
	assert.Zero(t, rdb.Exists(ctx, "subkit:idem:{polar:k}:record").Val())

	// A record lives for its TTL only.
	require.NoError(t, l.Save(ctx, want, 50*time.Millisecond))
	require.NoError(t, l.Unlock(ctx))
	time.Sleep(150 * time.Millisecond) // Redis expires by its clock: after the TTL the key is gone
	_, rec = lock(t, s, "polar:k", short)
	assert.Nil(t, rec, "the record expired")
}

func TestKeysArePerStorePrefixAndPerKey(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	rdb := srv.Client()
	a := subkitredis.NewStore(rdb)
	b, err := subkitredis.NewStoreWithOptions(rdb, subkitredis.StoreOptions{Prefix: "app2:"})
	require.NoError(t, err)
	ctx := testCtx(t)

	la, _ := lock(t, a, "polar:k", long)
	lb, _ := lock(t, b, "polar:k", long) // another prefix: not locked out
	lc, _ := lock(t, a, "chargeflow:k", long)
	require.NoError(t, lb.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "b"}, time.Hour))
	assert.Equal(t, int64(1), rdb.Exists(ctx, "app2:{polar:k}:record").Val())

	// Braces and the escape character in a key are escaped, one to one.
	for _, key := range []string{"polar:{x}", "polar:%7Bx%7D", "polar:}{"} {
		l, rec := lock(t, a, key, long)
		assert.Nil(t, rec, key)
		require.NoError(t, l.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: key}, time.Hour))
	}
	keys, err := rdb.Keys(ctx, "subkit:idem:*:record").Result()
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"subkit:idem:{polar:%7Bx%7D}:record",
		"subkit:idem:{polar:%257Bx%257D}:record",
		"subkit:idem:{polar:%7D%7B}:record",
	}, keys)
	for _, l := range []subkit.IdempotencyLock{la, lb, lc} {
		require.NoError(t, l.Unlock(ctx))
	}
}

func TestWorksOnARedisCluster(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithCluster())
	s := subkitredis.NewStore(srv.NewClusterClient())
	ctx := testCtx(t)
	// The scripts touch the lock and the record together: on a cluster they
	// would fail with CROSSSLOT unless both share a hash tag, whatever the key.
	for _, key := range []string{"polar:order-1", "polar:}x{", "polar:{a}b", "chargeflow:%"} {
		l, rec := lock(t, s, key, long)
		assert.Nil(t, rec)
		want := &subkit.IdempotencyRecord{Fingerprint: key}
		require.NoError(t, l.Save(ctx, want, time.Hour), key)
		require.NoError(t, l.Extend(ctx, long), key)
		require.NoError(t, l.Unlock(ctx), key)
		l, rec = lock(t, s, key, long)
		assert.Equal(t, want, rec, key)
		require.NoError(t, l.Save(ctx, nil, time.Hour), key)
		require.NoError(t, l.Unlock(ctx), key)
	}
}

func TestRedisStoppedIsAnErrorNotAHang(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	s := subkitredis.NewStore(srv.Client())
	ctx := testCtx(t)
	held, _ := lock(t, s, "polar:k", long)
	require.NoError(t, held.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "before"}, time.Hour))

	// A Lock waiting for the key when Redis goes away.
	waiting := make(chan error, 1)
	go func() {
		_, _, err := s.Lock(ctx, "polar:k", subkit.LockRequest{Lease: long})
		waiting <- err
	}()
	srv.Stop()
	assertUnreachable(t, <-waiting)

	_, _, err := s.Lock(ctx, "polar:other", subkit.LockRequest{Lease: long})
	assertUnreachable(t, err)
	assertUnreachable(t, held.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "during"}, time.Hour))
	assertUnreachable(t, held.Extend(ctx, long))
	assertUnreachable(t, held.Unlock(ctx))

	// Restarted without persistence: the lock and the record are gone.
	srv.Start()
	assert.ErrorIs(t, held.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "after"}, time.Hour), subkit.ErrLockLost)
	l, rec := lock(t, s, "polar:k", short)
	assert.Nil(t, rec)
	require.NoError(t, l.Unlock(ctx))
}

// assertUnreachable checks that err is Redis's refusal, wrapped: neither a
// lost lock nor a context that ran out.
func assertUnreachable(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorContains(t, err, "connection refused")
	assert.NotErrorIs(t, err, subkit.ErrLockLost)
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
}

func TestHungRedisIsBoundedByTheContext(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	s := subkitredis.NewStore(srv.Client())
	held, _ := lock(t, s, "polar:k", long)

	srv.Pause()
	bounded := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	_, _, err := s.Lock(bounded(), "polar:other", subkit.LockRequest{Lease: long})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, held.Save(bounded(), &subkit.IdempotencyRecord{Fingerprint: "x"}, time.Hour), context.DeadlineExceeded)
	assert.ErrorIs(t, held.Extend(bounded(), long), context.DeadlineExceeded)
	assert.ErrorIs(t, held.Unlock(bounded()), context.DeadlineExceeded)
	srv.Resume()
}

func TestAppendOnlyRestartKeepsLocksAndRecords(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithAppendOnly())
	s := subkitredis.NewStore(srv.Client())
	ctx := testCtx(t)
	held, _ := lock(t, s, "polar:k", long)
	require.NoError(t, held.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "before"}, time.Hour))

	srv.Stop()
	srv.Start()
	lockedOut(t, s, "polar:k", 100*time.Millisecond)
	require.NoError(t, held.Save(ctx, &subkit.IdempotencyRecord{Fingerprint: "after"}, time.Hour), "the lock survived")
	require.NoError(t, held.Unlock(ctx))
	_, rec := lock(t, s, "polar:k", short)
	require.NotNil(t, rec)
	assert.Equal(t, "after", rec.Fingerprint)
}

func TestRefusesBadInputWithAClearError(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	ctx := testCtx(t)

	_, _, err := subkitredis.NewStore(nil).Lock(ctx, "polar:k", subkit.LockRequest{Lease: long})
	assert.ErrorContains(t, err, "no Redis client")
	s, err := subkitredis.NewStoreWithOptions(nil, subkitredis.StoreOptions{})
	assert.ErrorContains(t, err, "no Redis client")
	assert.Nil(t, s)
	s, err = subkitredis.NewStoreWithOptions(srv.Client(), subkitredis.StoreOptions{Prefix: "app{1}:"})
	assert.ErrorContains(t, err, "StoreOptions.Prefix")
	assert.Nil(t, s)

	s = subkitredis.NewStore(srv.Client())
	_, _, err = s.Lock(ctx, "", subkit.LockRequest{Lease: long})
	assert.ErrorContains(t, err, "key is empty")
	_, _, err = s.Lock(ctx, "polar:k", subkit.LockRequest{})
	assert.ErrorContains(t, err, "lease must be positive")
	l, _ := lock(t, s, "polar:k", long)
	assert.ErrorContains(t, l.Extend(ctx, -time.Second), "lease must be positive")
	assert.NoError(t, l.Extend(ctx, time.Microsecond), "rounded up to a millisecond")
}

func TestCorruptRecordIsAnErrorAndFreesTheKey(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	s := subkitredis.NewStore(srv.Client())
	ctx := testCtx(t)
	require.NoError(t, srv.Client().HSet(ctx, "subkit:idem:{polar:k}:record", "rec", "not json").Err())

	_, _, err := s.Lock(ctx, "polar:k", subkit.LockRequest{Lease: long})
	var syntax *json.SyntaxError
	assert.True(t, errors.As(err, &syntax), "%v", err)
	assert.Zero(t, srv.Client().Exists(ctx, "subkit:idem:{polar:k}:lock").Val(), "the lock was released")
}

func TestNoPasswordInErrorsOrPrintedValues(t *testing.T) {
	t.Parallel()
	const password = "s3cret-redis-passw0rd"
	srv := redistest.NewServer(t, redistest.WithPassword(password))
	o := srv.Options()
	rdb := redis.NewClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	s := subkitredis.NewStore(rdb)
	ctx := testCtx(t)
	l, _ := lock(t, s, "polar:k", long)

	var printed []string
	for _, v := range []any{s, l, *s, struct{ S *subkitredis.Store }{s}} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			printed = append(printed, fmt.Sprintf(verb, v))
		}
	}
	// testify prints both sides of a failed comparison with go-spew, which
	// walks unexported fields and pointers.
	other := redis.NewClient(&redis.Options{Addr: "other:1", Password: password})
	t.Cleanup(func() { _ = other.Close() })
	rec := &recordingT{}
	assert.Equal(rec, s, subkitredis.NewStore(other))
	assert.Equal(rec, l, nil)
	printed = append(printed, rec.messages...)

	wrong := redis.NewClient(&redis.Options{Addr: o.Addr, Password: password + "-wrong", DialerRetries: 1})
	t.Cleanup(func() { _ = wrong.Close() })
	_, _, err := subkitredis.NewStore(wrong).Lock(ctx, "polar:k", subkit.LockRequest{Lease: long})
	require.Error(t, err)
	printed = append(printed, err.Error(), fmt.Sprintf("%+v", err))

	srv.Stop()
	for _, err := range []error{l.Save(ctx, nil, time.Hour), l.Extend(ctx, long), l.Unlock(ctx)} {
		require.Error(t, err)
		printed = append(printed, err.Error(), fmt.Sprintf("%+v", err))
	}
	for _, p := range printed {
		assert.NotContains(t, p, password)
	}
}

// recordingT collects what testify reports, to check what it prints.
type recordingT struct{ messages []string }

func (r *recordingT) Errorf(format string, args ...any) {
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}
