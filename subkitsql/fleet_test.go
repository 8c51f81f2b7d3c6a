package subkitsql_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/chaos"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
)

// The exactly-once fleet chaos run (internal/chaos) on SQLite: the four
// clients each open the one database file with a *sql.DB of their own, as
// four processes of a host would. Half the keys of the other stores' runs
// (60 Polar, 30 Chargeflow; SUBKIT_FLEET_KEYS overrides): SQLite takes one
// writer at a time, and its statements, transpiled C, run ten times slower
// under the race detector (10 ms a create against 1 ms), which CI uses.
func TestExactlyOnceFleetChaosOnSQLite(t *testing.T) {
	path := sqliteFile(t)
	chaos.RunFleet(t, chaos.Fleet{Keys: chaos.EnvInt(t, "SUBKIT_FLEET_KEYS", 60), Store: func(t *testing.T, _ int) subkit.IdempotencyStore {
		return newStore(t, openSQLite(t, path), subkitsql.SQLite)
	}})
}

// The exactly-once fleet chaos run on Postgres: the four clients each have
// a *sql.DB (a connection pool) of their own on one real server.
func TestExactlyOnceFleetChaosOnPostgres(t *testing.T) {
	srv := pgtest.NewServer(t)
	table := pgTable(srv)
	chaos.RunFleet(t, chaos.Fleet{Store: func(t *testing.T, _ int) subkit.IdempotencyStore {
		return newStore(t, srv.OpenDB(t, "postgres"), subkitsql.Postgres, table)
	}})
}
