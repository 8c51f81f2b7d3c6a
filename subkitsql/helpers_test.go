package subkitsql_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, pure Go

	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
)

// openSQLite opens the SQLite file at path plainly, as a user would (no DSN
// settings), and closes it when the test ends.
func openSQLite(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// newStore makes a store on db, failing the test if it cannot.
func newStore(t testing.TB, db *sql.DB, d subkitsql.Dialect, opts ...subkitsql.Option) *subkitsql.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := subkitsql.NewStore(ctx, db, d, opts...)
	if err != nil {
		t.Fatalf("NewStore(%s): %v", d, err)
	}
	return st
}

// sqliteFile is a new database file in the test's temporary directory.
func sqliteFile(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "subkit.db")
}

// pgTable returns a fresh table name on srv: a backend of its own for one
// test on a shared server.
func pgTable(srv *pgtest.Server) subkitsql.Option {
	return subkitsql.WithTable(srv.UniqueName("idem"))
}
