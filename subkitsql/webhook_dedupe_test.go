package subkitsql_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/internal/webhooktest"
	"github.com/subkit-go/subkit/subkitsql"
)

// TestWebhookHandledOnceAcrossSQLiteProcesses runs the webhook Handler's
// cross-process checks (internal/webhooktest) on two processes of a host
// sharing one SQLite file, each opening it with a *sql.DB and a Store of
// its own: one ID delivered ten times at once runs fn once and is answered
// 200 each time; a failure is retried, to the other process, and runs fn
// again; a stale state never reaches fn; a subscription.created delivery
// settles a keyed create's pending record, and the next call with the key
// replays it without sending.
func TestWebhookHandledOnceAcrossSQLiteProcesses(t *testing.T) {
	path := sqliteFile(t)
	webhooktest.RunFleet(t, func(t *testing.T) subkit.IdempotencyStore {
		return newStore(t, openSQLite(t, path), subkitsql.SQLite)
	})
}

// TestWebhookHandledOnceAcrossPostgresFleet runs the same checks on two
// processes of a fleet, each with a *sql.DB (a connection pool) and a Store
// of its own on one real Postgres server.
func TestWebhookHandledOnceAcrossPostgresFleet(t *testing.T) {
	srv := pgtest.NewServer(t)
	table := pgTable(srv)
	webhooktest.RunFleet(t, func(t *testing.T) subkit.IdempotencyStore {
		return newStore(t, srv.OpenDB(t, "postgres"), subkitsql.Postgres, table)
	})
}
