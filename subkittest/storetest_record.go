package subkittest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// The store contract's record, claim, pending and release cases
// (TestIdempotencyStore).

// fullRecord is a finished record with every field set to text a store
// might mangle: quotes, escapes, non-ASCII, a NUL escaped in JSON, and a
// result of some size.
func fullRecord() *subkit.IdempotencyRecord {
	result := `{"id":"sub_1","metadata":{"note":"quote \" backslash \\ nul \u0000 tab \t","ünï":"😀€","sql":"'; DROP TABLE x; --"},"pad":"` +
		strings.Repeat("0123456789abcdef", 4096) + `"}`
	return &subkit.IdempotencyRecord{
		Fingerprint: "polar POST /v1/subscriptions/ sha256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
		Target:      "polar https://api.polar.sh 'quoted' \"double\" ünï\nnewline",
		Result:      []byte(result),
		StatusCode:  201,
		RequestID:   "req_01J9ZX%_*?\\",
	}
}

// A record comes back as it was saved, byte for byte, from another
// instance; a finished record carries no send time.
func testRecordByteExact(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	want := fullRecord()
	given := want.Clone()
	given.SentAt, given.SinceSent = time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC), time.Hour // not pending: ignored
	save(t, stores[0], "polar:exact", given, time.Hour)
	got := read(t, stores[1], "polar:exact")
	sameRecord(t, "the saved record", got, want)
	if got != nil && (!got.SentAt.IsZero() || got.SinceSent != 0) {
		t.Errorf("a finished record came back with SentAt %v, SinceSent %v; want zero (set only on pending records)", got.SentAt, got.SinceSent)
	}

	sparse := &subkit.IdempotencyRecord{Fingerprint: "fp"} // no target, result or request ID
	save(t, stores[0], "polar:sparse", sparse, time.Hour)
	sameRecord(t, "a record with empty fields", read(t, stores[1], "polar:sparse"), sparse)
}

// What a store returns and what it was given are not shared with it.
func testRecordCopies(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	st := newStore(t)
	want := fullRecord()
	given := want.Clone()
	save(t, st, "polar:copies", given, time.Hour)
	given.Result[0], given.Fingerprint = 'X', "changed by the caller"
	got := read(t, st, "polar:copies")
	sameRecord(t, "after the caller changed what it saved", got, want)
	if got != nil {
		got.Result[0] = 'Y'
	}
	sameRecord(t, "after the caller changed what it was returned", read(t, st, "polar:copies"), want)
}

// A record lives for its TTL, then counts as absent: a claim applies over
// it.
func testRecordExpires(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	const ttl = 300 * time.Millisecond
	save(t, stores[0], "polar:expires", fullRecord(), ttl)
	save(t, stores[0], "polar:kept", fullRecord(), time.Hour)
	time.Sleep(ttl + 500*time.Millisecond)
	if rec := read(t, stores[1], "polar:expires"); rec != nil {
		t.Errorf("a record %v past its TTL of %v was returned", ttl+500*time.Millisecond, ttl)
	}
	sameRecord(t, "a record within its TTL", read(t, stores[1], "polar:kept"), fullRecord())

	save(t, stores[0], "polar:expires", fullRecord(), ttl)
	time.Sleep(ttl + 500*time.Millisecond)
	claim := &subkit.IdempotencyRecord{Fingerprint: "fp-claim", Target: "t", Pending: true}
	l, rec := lockKey(t, stores[1], "polar:expires", subkit.LockRequest{Lease: longLease, Claim: claim, ClaimTTL: time.Hour})
	sameRecord(t, "Lock with a claim over an expired record", rec, nil)
	unlock(t, l)
	sameRecord(t, "the claim made over an expired record", read(t, stores[0], "polar:expires"), claim)
}

// Save(nil) and Release(nil) delete the record; Unlock leaves it.
func testRecordDelete(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	key := "polar:delete"
	save(t, stores[0], key, fullRecord(), time.Hour)
	l, _ := lockKey(t, stores[0], key, lease(longLease))
	if err := l.Save(context.Background(), nil, time.Hour); err != nil {
		t.Fatalf("Save(nil): %v", err)
	}
	unlock(t, l)
	sameRecord(t, "after Save(nil)", read(t, stores[1], key), nil)

	save(t, stores[0], key, fullRecord(), time.Hour)
	save(t, stores[0], key, nil, time.Hour) // Release(nil)
	sameRecord(t, "after Release(nil)", read(t, stores[1], key), nil)

	save(t, stores[0], key, fullRecord(), time.Hour)
	l, _ = lockKey(t, stores[0], key, lease(longLease))
	unlock(t, l)
	sameRecord(t, "after Unlock", read(t, stores[1], key), fullRecord())

	// Saving twice under one lock keeps the second.
	second := &subkit.IdempotencyRecord{Fingerprint: "fp-second", Result: []byte(`{"id":"2"}`)}
	l, _ = lockKey(t, stores[0], key, lease(longLease))
	if err := l.Save(context.Background(), &subkit.IdempotencyRecord{Fingerprint: "fp-first"}, time.Hour); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if err := l.Save(context.Background(), second, time.Hour); err != nil {
		t.Fatalf("a second Save: %v", err)
	}
	unlock(t, l)
	sameRecord(t, "after two Saves", read(t, stores[1], key), second)
}

// Records are kept per key, however alike the keys.
func testRecordPerKey(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	keys := []string{
		"polar:a", "chargeflow:a", "polar:a:b", "polar:A", "polar:a ", "polar: a",
		"polar:it's", `polar:"q"`, "polar:%", "polar:_", `polar:\`, "polar:{a}", "polar:ünï😀",
		"polar:" + strings.Repeat("k", 500), "polar:" + strings.Repeat("k", 499) + "l",
	}
	for _, k := range keys {
		save(t, stores[0], k, &subkit.IdempotencyRecord{Fingerprint: "for " + k}, time.Hour)
	}
	for _, k := range keys {
		sameRecord(t, fmt.Sprintf("key %.40q", k), read(t, stores[1], k), &subkit.IdempotencyRecord{Fingerprint: "for " + k})
	}
	sameRecord(t, "a key never saved", read(t, stores[1], "polar:b"), nil)
}

// A claim becomes the record of a key that has none, in the same step as
// the lock, its send time stamped by the store whatever the claim said.
func testClaimApplied(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	claim := fullRecord()
	claim.Result, claim.StatusCode, claim.RequestID, claim.Pending = nil, 0, "", true // a "sending now" mark, as the SDK claims
	given := claim.Clone()
	given.SentAt, given.SinceSent = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 48*time.Hour
	l, rec := lockKey(t, stores[0], "polar:claim", subkit.LockRequest{Lease: longLease, Claim: given, ClaimTTL: time.Hour})
	sameRecord(t, "Lock with a claim on a key without a record", rec, nil)
	unlock(t, l)
	got := read(t, stores[1], "polar:claim")
	sameRecord(t, "the claim", got, claim)
	sinceSentWithin(t, "the claim", got, 0, time.Minute)
}

// A claim is saved pending, even one that does not say so
// (subkit.LockRequest: "the store sets Pending").
func testClaimMarkedPending(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	claim := &subkit.IdempotencyRecord{Fingerprint: "fp-claim", Target: "t", SentAt: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	l, _ := lockKey(t, stores[0], "polar:claim-pending", subkit.LockRequest{Lease: longLease, Claim: claim, ClaimTTL: time.Hour})
	unlock(t, l)
	got := read(t, stores[1], "polar:claim-pending")
	sameRecord(t, "a claim not marked pending by its caller", got, &subkit.IdempotencyRecord{Fingerprint: "fp-claim", Target: "t", Pending: true})
	if got != nil && got.Pending {
		sinceSentWithin(t, "a claim not marked pending by its caller", got, 0, time.Minute)
	}
}

// A claim does not replace a record, finished or pending: Lock returns the
// record, and the record stays as it was, its send time included.
func testClaimNotApplied(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	claim := &subkit.IdempotencyRecord{Fingerprint: "fp-claim", Target: "t", Pending: true}
	req := subkit.LockRequest{Lease: longLease, Claim: claim, ClaimTTL: time.Hour}

	save(t, stores[0], "polar:finished", fullRecord(), time.Hour)
	l, rec := lockKey(t, stores[1], "polar:finished", req)
	sameRecord(t, "Lock with a claim on a finished record", rec, fullRecord())
	unlock(t, l)
	sameRecord(t, "the finished record after a claim", read(t, stores[0], "polar:finished"), fullRecord())

	pending := &subkit.IdempotencyRecord{Fingerprint: "fp-pending", Target: "t", Pending: true}
	save(t, stores[0], "polar:pending", pending, time.Hour)
	time.Sleep(300 * time.Millisecond)
	l, rec = lockKey(t, stores[1], "polar:pending", req)
	sameRecord(t, "Lock with a claim on a pending record", rec, pending)
	sinceSentWithin(t, "the pending record Lock returned", rec, 250*time.Millisecond, time.Minute)
	unlock(t, l)
	got := read(t, stores[0], "polar:pending")
	sameRecord(t, "the pending record after a claim", got, pending)
	sinceSentWithin(t, "the pending record after a claim (its send time kept)", got, 250*time.Millisecond, time.Minute)
}

// A claim lives for ClaimTTL.
func testClaimExpires(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	const ttl = 300 * time.Millisecond
	claim := &subkit.IdempotencyRecord{Fingerprint: "fp-claim", Target: "t", Pending: true}
	l, _ := lockKey(t, stores[0], "polar:claim-ttl", subkit.LockRequest{Lease: longLease, Claim: claim, ClaimTTL: ttl})
	unlock(t, l)
	time.Sleep(ttl + 500*time.Millisecond)
	sameRecord(t, "a claim past its ClaimTTL", read(t, stores[1], "polar:claim-ttl"), nil)
}

// Callers on several instances claim one fresh key at once: exactly one
// claim is applied, and every other caller finds the winner's.
func testClaimRace(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 4)
	const callers = 16
	found := make([]*subkit.IdempotencyRecord, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 6*within)
			defer cancel()
			claim := &subkit.IdempotencyRecord{Fingerprint: fmt.Sprint("caller-", i), Target: "t", Pending: true}
			l, rec, err := stores[i%len(stores)].Lock(ctx, "polar:race", subkit.LockRequest{Lease: longLease, Claim: claim, ClaimTTL: time.Hour})
			if err != nil {
				t.Errorf("caller %d: Lock: %v", i, err)
				return
			}
			found[i] = rec
			if err := l.Unlock(context.Background()); err != nil {
				t.Errorf("caller %d: Unlock: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var winners []int
	for i, rec := range found {
		if rec == nil {
			winners = append(winners, i)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d callers had their claim applied (%v), want exactly 1", len(winners), winners)
	}
	want := &subkit.IdempotencyRecord{Fingerprint: fmt.Sprint("caller-", winners[0]), Target: "t", Pending: true}
	for i, rec := range found {
		if i != winners[0] {
			sameRecord(t, fmt.Sprintf("what caller %d found", i), rec, want)
		}
	}
	sameRecord(t, "the record", read(t, stores[0], "polar:race"), want)
}

// A pending record's send time is the store's, not the caller's: a SentAt
// far in the past or the future is ignored, and saving it again re-marks it.
func testPendingSentAt(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	for _, given := range []time.Time{time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), {}} {
		key := "polar:sent-" + given.Format("2006")
		rec := &subkit.IdempotencyRecord{Fingerprint: "fp", Target: "t", Pending: true, SentAt: given, SinceSent: -time.Hour}
		save(t, stores[0], key, rec, time.Hour)
		got := read(t, stores[1], key)
		sameRecord(t, "a pending record given SentAt "+given.String(), got, &subkit.IdempotencyRecord{Fingerprint: "fp", Target: "t", Pending: true})
		sinceSentWithin(t, "a pending record given SentAt "+given.String(), got, 0, time.Minute)
	}

	// Saved again through a lock (as the SDK re-marks before each attempt),
	// the send time moves on with the store's clock.
	key := "polar:re-marked"
	pending := &subkit.IdempotencyRecord{Fingerprint: "fp", Target: "t", Pending: true}
	save(t, stores[0], key, pending, time.Hour)
	first := read(t, stores[1], key)
	time.Sleep(300 * time.Millisecond)
	l, _ := lockKey(t, stores[0], key, lease(longLease))
	if err := l.Save(context.Background(), pending, time.Hour); err != nil {
		t.Fatalf("Save: %v", err)
	}
	unlock(t, l)
	second := read(t, stores[1], key)
	sinceSentWithin(t, "re-marked", second, 0, time.Minute)
	if first != nil && second != nil && second.SentAt.Sub(first.SentAt) < 250*time.Millisecond {
		t.Errorf("saved again 300 ms later, SentAt moved from %v to %v: want it re-stamped, at least 250 ms later", first.SentAt, second.SentAt)
	}
}

// SinceSent grows with the store's clock.
func testSinceSentGrows(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	save(t, stores[0], "polar:grows", &subkit.IdempotencyRecord{Fingerprint: "fp", Pending: true}, time.Hour)
	sinceSentWithin(t, "right after the save", read(t, stores[1], "polar:grows"), 0, time.Minute)
	time.Sleep(300 * time.Millisecond)
	sinceSentWithin(t, "300 ms after the save", read(t, stores[1], "polar:grows"), 250*time.Millisecond, time.Minute)
}

// Release saves the record and unlocks in one step: a caller waiting for
// the key finds the released record, never the state before it.
func testReleaseOneStep(t *testing.T, newStore func(t *testing.T) subkit.IdempotencyStore) {
	stores := instances(t, newStore, 2)
	key := "polar:release"
	holder, _ := lockKey(t, stores[0], key, subkit.LockRequest{Lease: longLease,
		Claim: &subkit.IdempotencyRecord{Fingerprint: "fp", Target: "t", Pending: true}, ClaimTTL: time.Hour})
	type found struct {
		rec *subkit.IdempotencyRecord
		err error
	}
	got := make(chan found, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		l, rec, err := stores[1].Lock(ctx, key, subkit.LockRequest{Lease: longLease,
			Claim: &subkit.IdempotencyRecord{Fingerprint: "fp-waiter", Pending: true}, ClaimTTL: time.Hour})
		if err == nil {
			err = l.Unlock(context.Background())
		}
		got <- found{rec, err}
	}()
	time.Sleep(200 * time.Millisecond) // the waiter is waiting
	done := fullRecord()
	if err := holder.Release(context.Background(), done, time.Hour); err != nil {
		t.Fatalf("Release: %v", err)
	}
	f := <-got
	if f.err != nil {
		t.Fatalf("the waiter: %v", f.err)
	}
	sameRecord(t, "what the waiter found after Release", f.rec, done)
	lost(t, "Save after Release", holder.Save(context.Background(), done, time.Hour))
}
