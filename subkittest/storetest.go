package subkittest

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// TestIdempotencyStore checks that the stores newStore makes keep the
// contract of subkit.IdempotencyStore, as testing/fstest.TestFS does for a
// file system: one holder of a key at a time, waiting and giving up with the
// context, leases that run out on the store's clock and are taken over,
// writes fenced by the lock (ErrLockLost, nothing changed), records and their
// TTL, claims taken with the lock, pending records stamped and measured on
// the store's clock (SinceSent), Release in one step, keys kept apart, and
// many callers on several instances of one store at once. Each property is a
// subtest; the subtests run in parallel.
//
// newStore is called with each subtest's t, and more than once in a
// subtest: every call with one t must return a new instance (its own
// connections, as another process of a fleet would have) on the same
// backend, and each subtest must get a fresh, empty backend of its own — a
// new database file, a new table, a new Redis database or key prefix. The
// subtests never call newStore at once, so it may use helpers meant for one
// goroutine (such as a test server's client constructor).
// Instances of the memory store are the one *MemoryStore. SharedBackend
// builds such a newStore from a function that makes one backend per
// subtest.
//
// The suite asserts no timing beyond wide bounds: leases are a few hundred
// milliseconds, waits for them to run out keep large margins, and a wait
// that must succeed may take up to ten seconds. It takes a few seconds.
func TestIdempotencyStore(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	t.Helper()
	var mu sync.Mutex
	serial := func(t *testing.T) subkit.IdempotencyStore {
		mu.Lock()
		defer mu.Unlock()
		return newStore(t)
	}
	for _, c := range storeCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, serial)
		})
	}
}

// SharedBackend returns a newStore for TestIdempotencyStore: backend is
// called once per subtest, with the subtest's t, to make that subtest's
// fresh backend, and returns how to make an instance on it; every call of
// newStore in the subtest returns a new instance. It is safe for the
// parallel subtests. For example, SQLite with a file per subtest and a
// *sql.DB per instance:
//
//	subkittest.SharedBackend(func(t *testing.T) func() subkit.IdempotencyStore {
//		path := filepath.Join(t.TempDir(), "store.db")
//		return func() subkit.IdempotencyStore { return openStore(t, path) }
//	})
func SharedBackend(backend func(t *testing.T) (instance func() subkit.IdempotencyStore)) func(t *testing.T) subkit.IdempotencyStore {
	var mu sync.Mutex
	backends := map[*testing.T]func() subkit.IdempotencyStore{}
	return func(t *testing.T) subkit.IdempotencyStore {
		mu.Lock()
		instance, ok := backends[t]
		mu.Unlock()
		if !ok {
			instance = backend(t) // outside mu: it may take a while
			mu.Lock()
			backends[t] = instance
			mu.Unlock()
			t.Cleanup(func() {
				mu.Lock()
				delete(backends, t)
				mu.Unlock()
			})
		}
		return instance()
	}
}

// storeCase is one property of the contract.
type storeCase struct {
	name string
	run  func(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore)
}

// storeCases returns the subtests, in the order of the contract; they live
// in storetest_lock.go and storetest_record.go.
func storeCases() []storeCase {
	return []storeCase{
		{"Lock/OneHolderAtATime", testOneHolder},
		{"Lock/WaiterGetsTheReleasedKey", testWaiterGetsKey},
		{"Lock/WaiterGivesUpWithItsContext", testWaiterGivesUp},
		{"Lock/KeysAreIndependent", testKeysIndependent},
		{"Lease/RunsOutAndIsTakenOver", testLeaseTakeover},
		{"Lease/ExtendKeepsTheKey", testExtend},
		{"Fence/LostAndTakenOver", testFenceTakenOver},
		{"Fence/RunOutWithoutTakeover", testFenceRunOut},
		{"Fence/AfterUnlock", testFenceAfterUnlock},
		{"Record/SavedAndReturnedByteExact", testRecordByteExact},
		{"Record/ReturnedCopies", testRecordCopies},
		{"Record/ExpiresAfterItsTTL", testRecordExpires},
		{"Record/NilDeletesUnlockKeeps", testRecordDelete},
		{"Record/KeptPerKey", testRecordPerKey},
		{"Claim/AppliedWhenNoRecord", testClaimApplied},
		{"Claim/MarkedPendingByTheStore", testClaimMarkedPending},
		{"Claim/NotAppliedOverARecord", testClaimNotApplied},
		{"Claim/ExpiresAfterClaimTTL", testClaimExpires},
		{"Claim/OneWinnerAmongInstances", testClaimRace},
		{"Pending/SentAtIsTheStores", testPendingSentAt},
		{"Pending/SinceSentGrows", testSinceSentGrows},
		{"Release/SavesAndUnlocksInOneStep", testReleaseOneStep},
		{"Instances/SerialiseACounter", testInstancesCounter},
	}
}

// How long a step that must succeed may take, however busy the machine.
const within = 10 * time.Second

// A lease the holder keeps for the whole subtest unless it says otherwise.
const longLease = time.Minute

// lockKey takes key in st (waiting up to within) and fails the test if it
// cannot.
func lockKey(t *testing.T, st subkit.IdempotencyStore, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	l, rec, err := st.Lock(ctx, key, req)
	if err != nil {
		t.Fatalf("Lock(%q): %v", key, err)
	}
	if l == nil {
		t.Fatalf("Lock(%q): a nil lock and no error", key)
	}
	return l, rec
}

// lease is a LockRequest for a lease and nothing else.
func lease(d time.Duration) subkit.LockRequest { return subkit.LockRequest{Lease: d} }

// read returns key's record as a new holder sees it: it locks the key,
// keeps the record Lock returned and unlocks.
func read(t *testing.T, st subkit.IdempotencyStore, key string) *subkit.IdempotencyRecord {
	t.Helper()
	l, rec := lockKey(t, st, key, lease(longLease))
	unlock(t, l)
	return rec
}

// save writes rec as key's record through a lock of its own.
func save(t *testing.T, st subkit.IdempotencyStore, key string, rec *subkit.IdempotencyRecord, ttl time.Duration) {
	t.Helper()
	l, _ := lockKey(t, st, key, lease(longLease))
	if err := l.Release(context.Background(), rec, ttl); err != nil {
		t.Fatalf("Release(%q): %v", key, err)
	}
}

func unlock(t *testing.T, l subkit.IdempotencyLock) {
	t.Helper()
	if err := l.Unlock(context.Background()); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
}

// cannotLock checks that key is held by someone else: a Lock given wait
// returns the context's error and no lock.
func cannotLock(t *testing.T, st subkit.IdempotencyStore, key string, wait time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	l, _, err := st.Lock(ctx, key, lease(longLease))
	if err == nil {
		_ = l.Unlock(context.Background())
		t.Fatalf("Lock(%q) took a key another holder has", key)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock(%q) on a held key, giving up: %v, want the context's error", key, err)
	}
	if l != nil {
		t.Fatalf("Lock(%q) gave up with %v but returned a lock", key, err)
	}
}

// lost checks that err is ErrLockLost.
func lost(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, subkit.ErrLockLost) {
		t.Errorf("%s through a lost lock: %v, want ErrLockLost", what, err)
	}
}

// sameRecord reports how got differs from want in what a store keeps: the
// fields a caller saves, byte for byte (SentAt and SinceSent are the
// store's and are checked apart).
func sameRecord(t *testing.T, what string, got, want *subkit.IdempotencyRecord) {
	t.Helper()
	switch {
	case want == nil && got == nil:
		return
	case want == nil:
		t.Errorf("%s: got a record %+v, want none", what, got)
		return
	case got == nil:
		t.Errorf("%s: got no record, want %+v", what, want)
		return
	}
	if got.Fingerprint != want.Fingerprint || got.Target != want.Target || got.Pending != want.Pending ||
		got.StatusCode != want.StatusCode || got.RequestID != want.RequestID {
		t.Errorf("%s: got {Fingerprint:%q Target:%q Pending:%v StatusCode:%d RequestID:%q}, want {%q %q %v %d %q}", what,
			got.Fingerprint, got.Target, got.Pending, got.StatusCode, got.RequestID,
			want.Fingerprint, want.Target, want.Pending, want.StatusCode, want.RequestID)
	}
	if !bytes.Equal(got.Result, want.Result) || (got.Result == nil) != (want.Result == nil) {
		t.Errorf("%s: Result is %d bytes (nil %v), want %d bytes (nil %v), byte for byte", what,
			len(got.Result), got.Result == nil, len(want.Result), want.Result == nil)
	}
}

// sinceSentWithin checks a pending record's SinceSent against [lo, hi) and
// that it carries a send time.
func sinceSentWithin(t *testing.T, what string, rec *subkit.IdempotencyRecord, lo, hi time.Duration) {
	t.Helper()
	switch {
	case rec == nil:
		t.Errorf("%s: no record", what)
	case !rec.Pending:
		t.Errorf("%s: the record is not pending", what)
	case rec.SentAt.IsZero():
		t.Errorf("%s: a pending record without SentAt", what)
	case rec.SinceSent < lo || rec.SinceSent >= hi:
		t.Errorf("%s: SinceSent = %v, want within [%v, %v)", what, rec.SinceSent, lo, hi)
	}
}
