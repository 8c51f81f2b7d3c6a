package subkitsql_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// heldRow is a key's row as the table holds it, its times relative to the
// database's clock when read.
type heldRow struct {
	exists                     bool
	token, recToken            sql.NullString
	leaseLeft, recordLeft      time.Duration // lease_end and expires_at minus now
	leaseEnd, expiresAt, gcAt  sql.NullInt64
	pending                    int64
	sinceSent                  sql.NullInt64 // now − sent_at, µs
	fingerprint, target, reqID sql.NullString
	result                     []byte
	status                     int64
}

// row reads key's row straight from the table.
func (b *backend) row(t *testing.T, db *sql.DB, key string) heldRow {
	t.Helper()
	var r heldRow
	var now int64
	err := db.QueryRowContext(context.Background(), b.q(`SELECT `+b.now+`, token, rec_token, lease_end, expires_at, gc_at, pending,
		sent_at, fingerprint, target, request_id, result, status_code FROM "`+b.table+`" WHERE key = $1`), key).
		Scan(&now, &r.token, &r.recToken, &r.leaseEnd, &r.expiresAt, &r.gcAt, &r.pending, &r.sinceSent,
			&r.fingerprint, &r.target, &r.reqID, &r.result, &r.status)
	if err == sql.ErrNoRows {
		return r
	}
	if err != nil {
		t.Fatalf("reading the row of %q: %v", key, err)
	}
	r.exists = true
	r.leaseLeft = time.Duration(r.leaseEnd.Int64-now) * time.Microsecond
	r.recordLeft = time.Duration(r.expiresAt.Int64-now) * time.Microsecond
	if r.sinceSent.Valid {
		r.sinceSent.Int64 = now - r.sinceSent.Int64
	}
	return r
}

// What the table holds through a keyed create's steps: the lock's token and
// lease, the claim stamped on the database's clock, the released record,
// and nothing once released with no record.
func TestTheTableHoldsTheLockAndTheRecord(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		st := b.store(t, nil)
		db := b.open(t, nil)
		key := "polar:order-1"
		claim := &subkit.IdempotencyRecord{Fingerprint: "fp", Target: "polar https://api.polar.sh", Pending: true}
		l, rec, err := st.Lock(ctx, key, subkit.LockRequest{Lease: 30 * time.Second, Claim: claim, ClaimTTL: time.Hour})
		if err != nil || rec != nil {
			t.Fatalf("Lock with a claim: (%v, %v)", rec, err)
		}
		r := b.row(t, db, key)
		switch {
		case !r.token.Valid || r.recToken != r.token:
			t.Errorf("locked and claimed: token %v, the record's token %v; want both the lock's", r.token, r.recToken)
		case r.leaseLeft <= 25*time.Second || r.leaseLeft > 30*time.Second:
			t.Errorf("locked for 30 s: %v left on the database's clock", r.leaseLeft)
		case r.recordLeft <= 55*time.Minute || r.recordLeft > time.Hour:
			t.Errorf("claimed for an hour: %v left", r.recordLeft)
		case r.pending != 1 || !r.sinceSent.Valid || r.sinceSent.Int64 < 0 || r.sinceSent.Int64 > int64(time.Minute/time.Microsecond):
			t.Errorf("claimed: pending %d, sent %v µs ago; want pending, sent just now", r.pending, r.sinceSent)
		case r.fingerprint.String != claim.Fingerprint || r.target.String != claim.Target || r.result != nil:
			t.Errorf("claimed: fingerprint %v, target %v, result %q", r.fingerprint, r.target, r.result)
		case r.gcAt.Int64 != r.expiresAt.Int64:
			t.Errorf("gc_at %v, want the later of the lease's and the record's end %v", r.gcAt, r.expiresAt)
		}

		done := &subkit.IdempotencyRecord{Fingerprint: "fp", Target: claim.Target, Result: []byte(`{"id":"sub_1"}`), StatusCode: 201, RequestID: "req-1"}
		if err := l.Release(ctx, done, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		r = b.row(t, db, key)
		switch {
		case r.token.Valid || r.leaseEnd.Int64 != 0:
			t.Errorf("released: token %v, lease end %v; want unlocked", r.token, r.leaseEnd)
		case r.recordLeft <= 115*time.Minute || r.recordLeft > 2*time.Hour:
			t.Errorf("released for two hours: %v left", r.recordLeft)
		case r.pending != 0 || r.sinceSent.Valid:
			t.Errorf("released: pending %d, sent_at %v; want a finished record", r.pending, r.sinceSent)
		case !bytes.Equal(r.result, done.Result) || r.status != 201 || r.reqID.String != "req-1":
			t.Errorf("released: result %q, status %d, request ID %v", r.result, r.status, r.reqID)
		case r.gcAt.Int64 != r.expiresAt.Int64:
			t.Errorf("released: gc_at %v, want the record's end %v", r.gcAt, r.expiresAt)
		}

		l, _, err = st.Lock(ctx, key, subkit.LockRequest{Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx, nil, time.Hour); err != nil {
			t.Fatal(err)
		}
		if r := b.row(t, db, key); r.exists {
			t.Errorf("released with no record: the row is still there: %+v", r)
		}
	})
}

// Expired rows are deleted a batch at a time by later unlocks, never a live
// one: the table does not grow with keys long gone.
func TestExpiredRowsAreSweptInBatches(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		st := b.store(t, nil)
		db := b.open(t, nil)
		release := func(key string, ttl time.Duration) {
			t.Helper()
			l, _, err := st.Lock(ctx, key, subkit.LockRequest{Lease: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: key, Result: []byte(`{}`)}, ttl); err != nil {
				t.Fatal(err)
			}
		}
		// count counts the rows, and the live records, but polar:busy's,
		// which the loop below makes and unlocks.
		count := func() (all, live int) {
			t.Helper()
			err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN expires_at > `+b.now+` THEN 1 END) FROM "`+b.table+`" WHERE key <> 'polar:busy'`).Scan(&all, &live)
			if err != nil {
				t.Fatal(err)
			}
			return all, live
		}
		// Fewer releases than a sweep takes: the first sweep comes with the
		// loop below, the rows all there until then.
		for i := range 5 {
			release(fmt.Sprint("polar:live-", i), time.Hour)
		}
		for i := range 40 {
			release(fmt.Sprint("polar:gone-", i), time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // every short record has run out
		all, live := count()
		if live != 5 || all != 45 {
			t.Fatalf("after 45 releases, before any sweep: %d rows, %d live; want 45 and 5", all, live)
		}
		for sweeps := 0; all > live; sweeps++ {
			if sweeps > 3 {
				t.Fatalf("%d expired rows left after %d sweeps", all-live, sweeps)
			}
			before := all
			for range 64 { // one sweep's worth of unlocks
				l, _, err := st.Lock(ctx, "polar:busy", subkit.LockRequest{Lease: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				if err := l.Unlock(ctx); err != nil {
					t.Fatal(err)
				}
			}
			all, live = count()
			if live != 5 {
				t.Fatalf("a sweep deleted a live record: %d live", live)
			}
			if before-all > 32 {
				t.Fatalf("one sweep deleted %d rows, want at most 32 (a small batch)", before-all)
			}
		}
		for i := range 5 {
			key := fmt.Sprint("polar:live-", i)
			l, rec, err := st.Lock(ctx, key, subkit.LockRequest{Lease: time.Minute})
			if err != nil || rec == nil || rec.Fingerprint != key {
				t.Fatalf("%s after the sweeps: (%v, %v)", key, rec, err)
			}
			_ = l.Unlock(ctx)
		}
	})
}

// A fresh keyed create costs the store two statements, a replay two, a
// create without a key none (design rule 14(i)), counted at the driver.
func TestAKeyedCreateCostsTwoStatements(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		var n atomic.Int64
		st := b.store(t, &n)
		srv := subkittest.NewServer()
		t.Cleanup(srv.Close)
		p := &subkit.CustomerSubscriptionParams{ProductID: srv.AddPolarProduct(subkittest.PolarProduct{}),
			CustomerID: srv.AddPolarCustomer(subkittest.PolarCustomer{})}
		c, err := srv.Client(subkit.WithIdempotencyStore(st))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.CloseIdleConnections)
		cost := func(what string, want int64, opts ...subkit.CallOption) {
			t.Helper()
			var info subkit.ResponseInfo
			before := n.Load()
			if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, append(opts, subkit.WithResponseInfo(&info))...); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if got := n.Load() - before; got != want {
				t.Errorf("%s (%s) ran %d statements, want %d", what, info.Outcome, got, want)
			}
		}
		for i := range 5 {
			cost("a fresh keyed create", 2, subkit.WithIdempotencyKey(fmt.Sprint("order-", i)))
			cost("a replay", 2, subkit.WithIdempotencyKey(fmt.Sprint("order-", i)))
		}
		cost("an unkeyed create", 0)
	})
}
