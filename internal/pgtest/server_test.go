package pgtest_test

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/pgtest"
)

// A server starts, runs as someone other than root, answers on TCP, makes
// databases of its own, and is gone, files and all, once stopped.
func TestServerStartsAnswersAndStops(t *testing.T) {
	srv := pgtest.NewServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := srv.OpenDB(t, srv.CreateDatabase(t))
	var who, version string
	if err := db.QueryRowContext(ctx, "SELECT current_user, version()").Scan(&who, &version); err != nil {
		t.Fatal(err)
	}
	if who != "postgres" || !strings.HasPrefix(version, "PostgreSQL ") {
		t.Errorf("connected as %q to %q", who, version)
	}
	var running string
	if err := db.QueryRowContext(ctx, "SELECT setting FROM pg_settings WHERE name = 'data_directory'").Scan(&running); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(running)
	if err != nil {
		t.Fatalf("the data directory %s: %v", running, err)
	}
	if os.Geteuid() == 0 && ownerUID(fi) == 0 {
		t.Errorf("the data directory %s belongs to root: the server ran as root", running)
	}
	if a, b := srv.UniqueName("x"), srv.UniqueName("x"); a == b {
		t.Errorf("UniqueName repeated itself: %s", a)
	}

	_ = db.Close()
	srv.Stop()
	if _, err := os.Stat(srv.SocketDir()); err != nil {
		t.Fatalf("the server's directory went before the test's end: %v", err)
	}
	late, err := sql.Open("pgx", srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = late.Close() }()
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	if err := late.PingContext(short); err == nil {
		t.Error("a stopped server still answers")
	}
}

// A server with a password refuses a connection without it.
func TestServerWithPassword(t *testing.T) {
	srv := pgtest.NewServer(t, pgtest.WithPassword("s3cret-pw"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.OpenDB(t, "postgres").PingContext(ctx); err != nil {
		t.Fatalf("with the password: %v", err)
	}
	wrong, err := sql.Open("pgx", strings.Replace(srv.DSN("postgres"), "s3cret-pw", "wrong", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = wrong.Close() }()
	if err := wrong.PingContext(ctx); err == nil {
		t.Error("a wrong password was accepted")
	}
}
