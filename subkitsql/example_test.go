package subkitsql_test

import (
	"context"
	"database/sql"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkitsql"
	"github.com/subkit-go/subkit/subkittest"
)

// A fleet on Postgres: every process opens the same database and gives its
// Client a store on it (the README's snippet; compiled, not run here).
func ExampleNewStore() {
	ctx := context.Background()
	// import _ "github.com/jackc/pgx/v5/stdlib" (or modernc.org/sqlite, github.com/mattn/go-sqlite3, lib/pq)
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL")) // or sql.Open("sqlite", "/var/lib/app/subkit.db")
	if err != nil {
		log.Fatal(err)
	}
	store, err := subkitsql.NewStore(ctx, db, subkitsql.Postgres) // creates its table if missing
	if err != nil {
		log.Fatal(err)
	}
	client, err := subkit.New(subkit.WithEnv(), subkit.WithIdempotencyStore(store))
	_, _ = client, err
}

// The processes of one host share one SQLite file: a keyed create made by
// one is replayed, from the file, to another — here two Clients, each with
// its own *sql.DB, against the subkittest fake.
func ExampleNewStore_sqlite() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "subkitsql-example")
	if err != nil {
		log.Fatal(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	srv := subkittest.NewServer()
	defer srv.Close()
	params := &subkit.CustomerSubscriptionParams{ProductID: srv.AddPolarProduct(subkittest.PolarProduct{}),
		CustomerID: srv.AddPolarCustomer(subkittest.PolarCustomer{})}

	for process := range 2 {
		db, err := sql.Open("sqlite", filepath.Join(dir, "subkit.db"))
		if err != nil {
			log.Fatal(err)
		}
		store, err := subkitsql.NewStore(ctx, db, subkitsql.SQLite)
		if err != nil {
			log.Fatal(err)
		}
		client, err := srv.Client(subkit.WithIdempotencyStore(store))
		if err != nil {
			log.Fatal(err)
		}
		var info subkit.ResponseInfo
		if _, err := client.Subscriptions.CreateForCustomer(ctx, params,
			subkit.WithIdempotencyKey("order-1001"), subkit.WithResponseInfo(&info)); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("process %d: %s\n", process, info.Outcome)
		client.CloseIdleConnections()
		_ = db.Close()
	}
	fmt.Println("subscriptions held:", len(srv.PolarSubscriptions()))
	// Output:
	// process 0: created
	// process 1: replayed
	// subscriptions held: 1
}
