package subkitsql_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
	"github.com/subkit-go/subkit/subkittest"
)

// The store contract on SQLite: a file per subtest, and each instance its
// own *sql.DB on that file, opened plainly, as the processes of one host
// would share it (four at once in the subtests that ask for several).
func TestSQLiteKeepsTheStoreContract(t *testing.T) {
	subkittest.TestIdempotencyStore(t, subkittest.SharedBackend(func(t *testing.T) func() subkit.IdempotencyStore {
		path := sqliteFile(t)
		return func() subkit.IdempotencyStore { return newStore(t, openSQLite(t, path), subkitsql.SQLite) }
	}))
}

// The store contract on Postgres: one real server, a table per subtest, and
// each instance its own *sql.DB (its own connection pool), as the processes
// of a fleet would share the database.
func TestPostgresKeepsTheStoreContract(t *testing.T) {
	srv := pgtest.NewServer(t)
	subkittest.TestIdempotencyStore(t, subkittest.SharedBackend(func(t *testing.T) func() subkit.IdempotencyStore {
		table := pgTable(srv)
		return func() subkit.IdempotencyStore {
			return newStore(t, srv.OpenDB(t, "postgres"), subkitsql.Postgres, table)
		}
	}))
}
