package subkitsql_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
)

// NewStore refuses what it cannot use, with an error that names it.
func TestNewStoreRefusesWhatItCannotUse(t *testing.T) {
	ctx := context.Background()
	db := openSQLite(t, sqliteFile(t))
	for _, c := range []struct {
		name string
		db   *sql.DB
		d    subkitsql.Dialect
		opts []subkitsql.Option
		want string
	}{
		{"nil db", nil, subkitsql.SQLite, nil, "nil *sql.DB"},
		{"unknown dialect", db, "mysql", nil, `unknown dialect "mysql"`},
		{"empty table", db, subkitsql.SQLite, []subkitsql.Option{subkitsql.WithTable("")}, `table name ""`},
		{"table with a quote", db, subkitsql.SQLite, []subkitsql.Option{subkitsql.WithTable(`x"; DROP TABLE y; --`)}, "table name"},
		{"table starting with a digit", db, subkitsql.SQLite, []subkitsql.Option{subkitsql.WithTable("1x")}, "table name"},
		{"schema-qualified table", db, subkitsql.SQLite, []subkitsql.Option{subkitsql.WithTable("s.t")}, "table name"},
		{"table too long", db, subkitsql.SQLite, []subkitsql.Option{subkitsql.WithTable(strings.Repeat("t", 61))}, "at most 60"},
	} {
		st, err := subkitsql.NewStore(ctx, c.db, c.d, c.opts...)
		if err == nil || st != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: (%v, %v), want an error saying %q", c.name, st, err, c.want)
		}
	}
	if _, _, err := newStore(t, db, subkitsql.SQLite).Lock(ctx, "", subkit.LockRequest{Lease: time.Second}); err == nil {
		t.Error("Lock with an empty key: no error")
	}
	if _, _, err := newStore(t, db, subkitsql.SQLite).Lock(ctx, "k", subkit.LockRequest{}); err == nil {
		t.Error("Lock with no lease: no error")
	}
}

// NewStore creates its table once, however many processes start at once,
// keeps what an earlier store wrote, and refuses a table of the same name
// that is not its own.
func TestNewStoreCreatesItsTableOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			db := b.open(t, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = subkitsql.NewStore(ctx, db, b.dialect, subkitsql.WithTable(b.table))
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("process %d of 8 creating the table at once: %v", i, err)
			}
		}
		l, _, err := b.store(t, nil).Lock(ctx, "polar:kept", subkit.LockRequest{Lease: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "fp"}, time.Hour); err != nil {
			t.Fatal(err)
		}
		_, rec, err := b.store(t, nil).Lock(ctx, "polar:kept", subkit.LockRequest{Lease: time.Minute})
		if err != nil || rec == nil || rec.Fingerprint != "fp" {
			t.Errorf("a new store on the same table: (%v, %v), want the record an earlier one saved", rec, err)
		}

		db := b.open(t, nil)
		if _, err := db.ExecContext(ctx, `CREATE TABLE someone_elses (key TEXT PRIMARY KEY, value TEXT)`); err != nil {
			t.Fatal(err)
		}
		_, err = subkitsql.NewStore(ctx, db, b.dialect, subkitsql.WithTable("someone_elses"))
		if err == nil || !strings.Contains(err.Error(), "without the columns") {
			t.Errorf("NewStore on another table of its name: %v, want an error naming the columns", err)
		}
	})
}

// On SQLite NewStore turns on write-ahead logging, kept in the file: a
// connection opened later, by another process, finds it on.
func TestNewStoreTurnsOnWAL(t *testing.T) {
	path := sqliteFile(t)
	newStore(t, openSQLite(t, path), subkitsql.SQLite)
	var mode string
	if err := openSQLite(t, path).QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode is %q after NewStore, want wal", mode)
	}
}

// No error the store returns, nor the store printed, holds the password of
// the data source name: not when the password is wrong, not when the
// server is gone.
func TestNoPasswordInErrorsOrPrintedStores(t *testing.T) {
	const password, wrong = "pw-R1ght-s3cret", "pw-Wr0ng-s3cret"
	srv := pgtest.NewServer(t, pgtest.WithPassword(password))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	check := func(what, text string) {
		t.Helper()
		if strings.Contains(text, password) || strings.Contains(text, wrong) {
			t.Errorf("%s holds a password: %s", what, text)
		}
	}

	bad, err := sql.Open("pgx", strings.Replace(srv.DSN("postgres"), password, wrong, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = bad.Close() }()
	_, err = subkitsql.NewStore(ctx, bad, subkitsql.Postgres)
	if err == nil {
		t.Fatal("NewStore with a wrong password: no error")
	}
	check("NewStore's error with a wrong password", fmt.Sprintf("%v %+v %#v", err, err, err))

	st := newStore(t, srv.OpenDB(t, "postgres"), subkitsql.Postgres)
	check("the store printed", fmt.Sprintf("%v %+v %#v", st, st, st))
	l, _, err := st.Lock(ctx, "polar:k", subkit.LockRequest{Lease: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	_, _, err = st.Lock(ctx, "polar:other", subkit.LockRequest{Lease: time.Minute})
	if err == nil {
		t.Fatal("Lock with the server stopped: no error")
	}
	check("Lock's error with the server stopped", fmt.Sprintf("%v %+v %#v", err, err, err))
	err = l.Release(ctx, &subkit.IdempotencyRecord{Fingerprint: "fp"}, time.Hour)
	if err == nil {
		t.Fatal("Release with the server stopped: no error")
	}
	check("Release's error with the server stopped", fmt.Sprintf("%v %+v %#v", err, err, err))
}
