package subkitsql_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"modernc.org/sqlite"

	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
)

// backend is one database of a test: SQLite (a file) or Postgres (a table
// of its own on a real server). Every *sql.DB it opens is on that same
// database, opened plainly, as another process would open it.
type backend struct {
	dialect subkitsql.Dialect
	// drv and dsn open a connection; table names the store's table.
	drv   driver.Driver
	dsn   string
	table string
	// now is an SQL expression for the database's clock in µs, as the
	// store reads it (written here again, to check the store's).
	now string
}

// eachBackend runs fn as a subtest on SQLite and on Postgres (one server
// for all of this test's subtests; each subtest its own table).
func eachBackend(t *testing.T, fn func(t *testing.T, b *backend)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, sqliteBackend(t)) })
	var srv *pgtest.Server
	t.Run("postgres", func(t *testing.T) {
		if srv == nil {
			srv = pgtest.NewServer(t)
		}
		fn(t, postgresBackend(srv))
	})
}

// sqliteBackend is a new database file in the test's temporary directory.
func sqliteBackend(t testing.TB) *backend {
	return &backend{dialect: subkitsql.SQLite, drv: &sqlite.Driver{}, dsn: filepath.Join(t.TempDir(), "subkit.db"),
		table: subkitsql.DefaultTable, now: "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000)"}
}

// postgresBackend is a new table on srv's "postgres" database.
func postgresBackend(srv *pgtest.Server) *backend {
	return &backend{dialect: subkitsql.Postgres, drv: stdlib.GetDefaultDriver(), dsn: srv.DSN("postgres"),
		table: srv.UniqueName("idem"), now: "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT"}
}

// open opens a *sql.DB on the backend, closed when the test ends. Its
// statements are counted in n, if not nil.
func (b *backend) open(t testing.TB, n *atomic.Int64) *sql.DB {
	t.Helper()
	db := sql.OpenDB(&countingConnector{drv: b.drv, dsn: b.dsn, n: n})
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// store makes a store on a new *sql.DB of the backend.
func (b *backend) store(t testing.TB, n *atomic.Int64) *subkitsql.Store {
	t.Helper()
	return newStore(t, b.open(t, n), b.dialect, subkitsql.WithTable(b.table))
}

// q is a query for the backend: $N markers become SQLite's ?N.
func (b *backend) q(query string) string {
	if b.dialect != subkitsql.SQLite {
		return query
	}
	out := []byte(query)
	for i, c := range out {
		if c == '$' {
			out[i] = '?'
		}
	}
	return string(out)
}

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
