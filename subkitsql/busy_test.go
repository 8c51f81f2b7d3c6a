package subkitsql_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkitsql"
)

// Another connection holding SQLite's write lock (another process in the
// middle of a transaction) makes the store wait, bounded by its context,
// not fail with SQLITE_BUSY: the database is opened plainly, without a
// busy_timeout.
func TestSQLiteWaitsOutABusyDatabase(t *testing.T) {
	path := sqliteFile(t)
	st := newStore(t, openSQLite(t, path), subkitsql.SQLite)
	ctx := context.Background()
	other, err := openSQLite(t, path).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close() }()
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil { // the write lock, until COMMIT
		t.Fatal(err)
	}

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, _, err := st.Lock(short, "polar:busy", subkit.LockRequest{Lease: time.Minute}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock while another connection writes, giving up: %v, want the context's error", err)
	}

	const hold = 300 * time.Millisecond
	start := time.Now()
	time.AfterFunc(hold, func() { _, _ = other.ExecContext(ctx, "COMMIT") })
	long, cancelLong := context.WithTimeout(ctx, 10*time.Second)
	defer cancelLong()
	l, _, err := st.Lock(long, "polar:busy", subkit.LockRequest{Lease: time.Minute})
	if err != nil {
		t.Fatalf("Lock once the other connection commits: %v", err)
	}
	if d := time.Since(start); d < hold-50*time.Millisecond {
		t.Errorf("Lock took %v while the write lock was held for %v", d, hold)
	}
	if err := l.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "fp"}, time.Hour); err != nil {
		t.Fatal(err)
	}
}
