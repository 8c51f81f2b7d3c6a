// Package pgtest runs a real PostgreSQL server for tests: initdb in a
// temporary directory, postgres on a free loopback port with its unix socket
// in that directory, stopped and removed when the test ends. It never mocks
// Postgres: the durable store's guarantees (subkitsql) rest on Postgres's own
// row locks, upserts and clock.
//
// The binaries are looked up on PATH, then in Debian's
// /usr/lib/postgresql/NN/bin (the newest), where the postgresql package puts
// them. initdb and postgres refuse to run as root: a test run as root runs
// them as the postgres user (Debian's package creates it), in a directory
// that user owns. When the binaries are missing the test is skipped, unless the
// environment sets SUBKIT_REQUIRE_POSTGRES=1 (CI does): then it fails.
//
// The server is tuned for tests, not for durability: fsync and
// full_page_writes are off, so a crash of the machine (not of a client)
// loses what it held.
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for OpenDB
)

// RequireEnv is the environment variable that turns missing PostgreSQL
// binaries from a skip into a failure, when set to "1".
const RequireEnv = "SUBKIT_REQUIRE_POSTGRES"

// startTimeout bounds initdb, and how long a started server may take to
// accept a connection.
const startTimeout = 30 * time.Second

// Server is one PostgreSQL server owned by a test. Its methods are meant for
// the test's goroutine; the databases it opens may be used from any.
type Server struct {
	t        testing.TB
	bins     string // the directory holding initdb and postgres
	dir      string // owned by the user the server runs as
	port     int
	password string
	runAs    *account // nil: run as ourselves
	proc     *exec.Cmd
	exited   chan struct{}
	names    atomic.Uint64
}

// Option configures a server made by NewServer.
type Option func(*Server)

// WithPassword makes the server require pw (scram-sha-256) of its user,
// postgres, on TCP and the socket alike; DSN includes it.
func WithPassword(pw string) Option { return func(s *Server) { s.password = pw } }

// NewServer runs initdb and starts postgres on a free loopback port, waits
// until it accepts connections, and stops it and removes its files when the
// test ends. It skips the test when the binaries are missing, or fails it if
// RequireEnv is "1"; it fails the test if the server does not start. It
// returns nil only when it skipped or failed the test through a testing.TB
// that does not stop the goroutine.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bins, err := findBinaries()
	if err != nil {
		unavailable(t, err)
		return nil
	}
	s := &Server{t: t, bins: bins}
	for _, o := range opts {
		o(s)
	}
	if err := s.prepare(); err != nil {
		t.Fatalf("pgtest: %v", err)
		return nil
	}
	t.Cleanup(s.cleanup)
	if err := s.initdb(); err != nil {
		t.Fatalf("pgtest: %v", err)
		return nil
	}
	// A free port can be taken by another process between our probe and the
	// server's bind: try a few.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err == nil {
			if err = s.launch(); err == nil {
				return s
			}
		}
		if try == 2 || !errors.Is(err, errPortTaken) {
			t.Fatalf("pgtest: %v", err)
			return nil
		}
	}
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	const install = "install Debian's postgresql package (apt-get install postgresql)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("pgtest: PostgreSQL is required (%s=1) but not found: %v; %s", RequireEnv, err, install)
		return
	}
	t.Skipf("pgtest: PostgreSQL not found, skipping: %v; %s to run this test (%s=1 turns this skip into a failure)", err, install, RequireEnv)
}

// findBinaries returns the directory holding both initdb and postgres: the
// one of postgres on PATH, else the newest /usr/lib/postgresql/NN/bin.
func findBinaries() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(real))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	newestFirst(debian)
	dirs = append(dirs, debian...)
	for _, d := range dirs {
		if isExecutable(filepath.Join(d, "postgres")) && isExecutable(filepath.Join(d, "initdb")) {
			return d, nil
		}
	}
	return "", errors.New("no initdb and postgres on PATH nor in /usr/lib/postgresql/*/bin")
}

// newestFirst sorts Debian's version directories by their version, highest
// first (15 before 9).
func newestFirst(dirs []string) {
	version := func(d string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// SocketDir is the directory of the server's unix socket.
func (s *Server) SocketDir() string { return s.dir }

// DSN is a connection URL for database on the server, as user postgres over
// loopback TCP, with the password if the server has one. "postgres" is the
// database every server has.
func (s *Server) DSN(database string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + database,
		RawQuery: "sslmode=disable"}
	u.User = url.User("postgres")
	if s.password != "" {
		u.User = url.UserPassword("postgres", s.password)
	}
	return u.String()
}

// OpenDB opens database through the pgx driver's database/sql interface,
// with no settings of its own (sql.Open, as a user would), and closes it
// when the test ends.
func (s *Server) OpenDB(t testing.TB, database string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", s.DSN(database))
	if err != nil {
		t.Fatalf("pgtest: opening %s: %v", database, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// CreateDatabase creates a database of its own for the test and returns its
// name (it goes with the server).
func (s *Server) CreateDatabase(t testing.TB) string {
	t.Helper()
	name := s.UniqueName("db")
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer func() { _ = db.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	return name
}

// UniqueName returns prefix followed by a number no earlier call on this
// server returned: a name for a database, schema or table of one test.
func (s *Server) UniqueName(prefix string) string {
	return prefix + "_" + strconv.FormatUint(s.names.Add(1), 10)
}

// Stop shuts the server down (fast shutdown: SIGINT, then SIGKILL if it
// lingers) and waits for it to exit; the test's end does it too. Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		_ = s.proc.Process.Kill()
		<-s.exited
	}
	s.proc = nil
}

func (s *Server) cleanup() {
	s.Stop()
	_ = os.RemoveAll(s.dir)
}

// log returns the end of the server's log, for an error message.
func (s *Server) log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
