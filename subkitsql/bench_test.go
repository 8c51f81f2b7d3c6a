package subkitsql_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/chaos"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkitsql"
)

// BenchmarkKeyedCreate is what exactly-once costs a Polar create on each
// store, against a create without a key in the same run (internal/chaos):
// the memory store, SQLite (a file, opened plainly) and Postgres (a real
// server on loopback).
func BenchmarkKeyedCreate(b *testing.B) {
	chaos.BenchKeyedCreate(b, []chaos.BenchStore{
		{Name: "memory", New: func(*testing.B) subkit.IdempotencyStore { return subkit.NewMemoryStore() }},
		{Name: "sqlite", New: func(b *testing.B) subkit.IdempotencyStore {
			return newStore(b, openSQLite(b, sqliteFile(b)), subkitsql.SQLite)
		}},
		{Name: "postgres", New: func(b *testing.B) subkit.IdempotencyStore {
			return newStore(b, pgtest.NewServer(b).OpenDB(b, "postgres"), subkitsql.Postgres)
		}},
	})
}
