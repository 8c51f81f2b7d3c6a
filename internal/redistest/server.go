// Package redistest runs a real redis-server for tests: on a free loopback
// port, in a temporary directory, stopped when the test ends. It never
// mocks Redis: the fleet's guarantees (subkitredis) rest on Redis's own
// behaviour, expiry, scripts and cluster slots included.
//
// When redis-server is not on PATH the test is skipped, unless the
// environment sets SUBKIT_REQUIRE_REDIS=1 (CI does): then it fails.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RequireEnv is the environment variable that turns a missing redis-server
// from a skip into a failure, when set to "1".
const RequireEnv = "SUBKIT_REQUIRE_REDIS"

// startTimeout bounds how long a server may take to answer PING (and, in
// cluster mode, to report its slots served) after it was started.
const startTimeout = 10 * time.Second

// Server is one redis-server process owned by a test. Its methods are meant
// for the test's goroutine; the clients it returns may be used from any.
type Server struct {
	t      testing.TB
	bin    string
	dir    string
	cfg    config
	port   int
	proc   *exec.Cmd
	exited chan struct{} // closed once proc has been waited for
	paused bool
	client *redis.Client
	// clients are those the server made, which Start waits for.
	clients []redis.UniversalClient
}

// Option configures a server made by NewServer.
type Option func(*config)

type config struct {
	appendOnly bool
	password   string
	cluster    bool
}

// WithAppendOnly turns on AOF persistence with an fsync per write, so that
// what was written before Stop is there again after Start.
func WithAppendOnly() Option { return func(c *config) { c.appendOnly = true } }

// WithPassword makes the server require pw (requirepass); the server's
// clients send it.
func WithPassword(pw string) Option { return func(c *config) { c.password = pw } }

// WithCluster runs the server as a one-node Redis Cluster that serves every
// slot, so that multi-key commands and scripts whose keys hash to different
// slots fail with CROSSSLOT as they would on a real cluster. Use
// NewClusterClient to talk to it. Such a server takes about two seconds to
// start: Redis keeps a master unwritable for that long after it starts.
func WithCluster() Option { return func(c *config) { c.cluster = true } }

// NewServer starts a redis-server on a free loopback port in a temporary
// directory, waits until it answers PING, and stops it when the test ends.
// Without WithAppendOnly nothing is persisted. It skips the test when
// redis-server is not on PATH, or fails it if RequireEnv is "1"; it fails the
// test if the server does not start. It returns nil only when it skipped or
// failed the test through a testing.TB that does not stop the goroutine.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, err)
		return nil
	}
	s := &Server{t: t, bin: bin, dir: t.TempDir()}
	for _, o := range opts {
		o(&s.cfg)
	}
	t.Cleanup(s.cleanup) // after TempDir's: cleanups run last-in first-out
	// A free port can be taken by another process between our probe and the
	// server's bind: try a few.
	for try := 0; ; try++ {
		if s.port, err = freePort(); err == nil {
			if err = s.launch(); err == nil {
				break
			}
		}
		if try == 2 || !errors.Is(err, errPortTaken) {
			t.Fatalf("redistest: %v", err)
			return nil
		}
	}
	s.client = redis.NewClient(s.Options())
	s.clients = append(s.clients, s.client)
	return s
}

func unavailable(t testing.TB, err error) {
	t.Helper()
	const install = "install Debian's redis-server package (apt-get install redis-server)"
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("redistest: redis-server is required (%s=1) but not on PATH: %v; %s", RequireEnv, err, install)
		return
	}
	t.Skipf("redistest: redis-server not on PATH, skipping: %s to run this test (%s=1 turns this skip into a failure)", install, RequireEnv)
}

// Addr is the server's address, 127.0.0.1:port; it stays the same across
// Stop and Start.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Options returns a fresh copy of the options the server's clients use:
// its address, its password, ContextTimeoutEnabled, so that a context's
// deadline bounds every command even when the server stops answering, and
// one dial per attempt, so that a command to a stopped server fails in
// milliseconds rather than after go-redis's five dials per attempt.
func (s *Server) Options() *redis.Options {
	return &redis.Options{
		Addr:                  s.Addr(),
		Password:              s.cfg.password,
		DialTimeout:           time.Second,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
	}
}

// Client returns the server's client, closed when the test ends. It
// reconnects by itself after Stop and Start.
func (s *Server) Client() *redis.Client { return s.client }

// NewClient returns a client of its own, with its own connection pool, as
// another process would have; it is closed when the test ends.
func (s *Server) NewClient() *redis.Client {
	c := redis.NewClient(s.Options())
	s.t.Cleanup(func() { _ = c.Close() })
	s.clients = append(s.clients, c)
	return c
}

// NewClusterClient returns a Redis Cluster client of the server (made with
// WithCluster), closed when the test ends.
func (s *Server) NewClusterClient() *redis.ClusterClient {
	o := s.Options()
	c := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs:                 []string{o.Addr},
		Password:              o.Password,
		DialTimeout:           o.DialTimeout,
		DialerRetries:         o.DialerRetries,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
	})
	s.t.Cleanup(func() { _ = c.Close() })
	s.clients = append(s.clients, c)
	return c
}

// Stop shuts the server down (SIGINT, then SIGKILL if it lingers) and waits
// for it to exit. Without WithAppendOnly its data is gone. Clients then fail
// to connect until Start. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.t.Helper()
	if s.proc == nil {
		return
	}
	// A paused process would not handle the signal. redis-server shuts down
	// cleanly on SIGINT as on SIGTERM, and os.Interrupt builds everywhere.
	s.Resume()
	_ = s.proc.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		_ = s.proc.Process.Kill()
		<-s.exited
	}
	s.proc = nil
}

// Start starts the server again, on the same port and directory, after
// Stop, and waits until it answers and the clients the server made
// (Client, NewClient, NewClusterClient) have reconnected: after many refused
// dials a go-redis pool fails fast until a background dial, once a second,
// succeeds. With WithAppendOnly the server loads what it had. Start fails the
// test if the server does not start (if another process took the port
// meanwhile, say). Starting a running server does nothing.
func (s *Server) Start() {
	s.t.Helper()
	if s.proc != nil {
		return
	}
	if err := s.launch(); err != nil {
		s.t.Fatalf("redistest: restarting on %s: %v", s.Addr(), err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for _, c := range s.clients {
		for c.Ping(ctx).Err() != nil {
			select {
			case <-ctx.Done():
				s.t.Fatalf("redistest: a client did not reconnect to %s: %v", s.Addr(), ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// Pause freezes the server process (SIGSTOP): connections stay open but
// nothing is answered, as with a server that hangs or a network that drops
// packets. Resume undoes it; Stop and the test's end resume it first.
func (s *Server) Pause() {
	s.t.Helper()
	if s.proc == nil || s.paused {
		return
	}
	if err := freeze(s.proc.Process); err != nil {
		s.t.Fatalf("redistest: pausing: %v", err)
	}
	s.paused = true
}

// Resume lets a paused server run again (SIGCONT).
func (s *Server) Resume() {
	if s.proc == nil || !s.paused {
		return
	}
	_ = thaw(s.proc.Process)
	s.paused = false
}

func (s *Server) cleanup() {
	if s.client != nil {
		_ = s.client.Close()
	}
	s.Stop()
}

var errPortTaken = errors.New("port already in use")

// launch starts redis-server on s.port and waits until it is ready.
func (s *Server) launch() error {
	logFile := filepath.Join(s.dir, "redis.log")
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", logFile,
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
	}
	if s.cfg.appendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	}
	if s.cfg.password != "" {
		args = append(args, "--requirepass", s.cfg.password)
	}
	if s.cfg.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", s.bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.proc, s.exited = cmd, exited

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	err := s.waitReady(ctx)
	if err == nil {
		return nil
	}
	s.Stop()
	log, _ := os.ReadFile(logFile)
	if strings.Contains(string(log), "Address already in use") {
		return fmt.Errorf("%w: %d", errPortTaken, s.port)
	}
	return fmt.Errorf("redis-server on port %d did not start: %w; its log:\n%s", s.port, err, lastLines(string(log), 20))
}

// waitReady polls the server until it answers PING and, in cluster mode,
// serves every slot.
func (s *Server) waitReady(ctx context.Context) error {
	o := s.Options()
	o.MaxRetries = -1 // this loop retries
	c := redis.NewClient(o)
	defer func() { _ = c.Close() }()
	slotsAdded := false
	for {
		err := s.dialable(ctx)
		if err == nil {
			err = c.Ping(ctx).Err()
		}
		if err == nil && s.cfg.cluster {
			err = s.clusterReady(ctx, c, &slotsAdded)
		}
		if err == nil {
			return nil
		}
		select {
		case <-s.exited:
			return errors.New("redis-server exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// dialable reports whether the server accepts connections, without making
// go-redis log every refused dial while the server is still starting.
func (s *Server) dialable(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		return err
	}
	return conn.Close()
}

// clusterReady gives a fresh cluster node every slot (a restarted one keeps
// them in nodes.conf) and reports whether the cluster is ready.
func (s *Server) clusterReady(ctx context.Context, c *redis.Client, slotsAdded *bool) error {
	info, err := c.ClusterInfo(ctx).Result()
	if err != nil {
		return err
	}
	if strings.Contains(info, "cluster_state:ok") {
		return nil
	}
	if !*slotsAdded && strings.Contains(info, "cluster_slots_assigned:0") {
		if err := c.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", 0, 16383).Err(); err != nil {
			return err
		}
		*slotsAdded = true
	}
	return errors.New("cluster not ready: " + firstLine(info))
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

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}
