package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/subkittest"
)

// fakeProcess is "subkit fake" running as a process of its own, as users
// run it, on a free loopback port.
type fakeProcess struct {
	t        *testing.T
	cmd      *exec.Cmd
	url      string
	token    string
	exported map[string]string // the lines it printed on stdout
	stderr   *lockedBuffer
	exited   chan struct{}
	exitCode int
}

// startFake starts "subkit fake -addr :0 args…" (the admin token from the
// environment when adminToken is set, else drawn) and waits for it to
// print where it serves. The test's end stops it (SIGTERM), and kills it if
// it lingers.
func startFake(t *testing.T, adminToken string, args ...string) *fakeProcess {
	t.Helper()
	cmd := exec.Command(command(t), append([]string{"fake", "-addr", ":0"}, args...)...)
	cmd.Dir = workDir(t)
	cmd.Env = envWithout(adminTokenVar, "CHATDASH_AGENCY_KEY", "CHARGEFLOW_API_KEY", "POLAR_ACCESS_TOKEN")
	if adminToken != "" {
		cmd.Env = append(cmd.Env, adminTokenVar+"="+adminToken)
	}
	f := &fakeProcess{t: t, cmd: cmd, token: adminToken, exported: map[string]string{}, stderr: &lockedBuffer{},
		exited: make(chan struct{})}
	cmd.Stderr = f.stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	go func() {
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			f.exitCode = ee.ExitCode()
		}
		close(f.exited)
	}()
	t.Cleanup(func() { f.stop() })
	ready := make(chan map[string]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		exported := map[string]string{}
		for sc.Scan() {
			if sc.Text() == "# subkit fake is serving" {
				ready <- exported
				break
			}
			if name, value, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
				exported[name] = value
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case f.exported = <-ready:
		if t := f.exported[adminTokenVar]; t != "" {
			f.token = t
		}
	case <-f.exited:
		t.Fatalf("subkit fake exited with %d: %s", f.exitCode, f.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("subkit fake did not start: %s", f.stderr)
	}
	f.url = f.exported["SUBKIT_FAKE_URL"]
	return f
}

// saw waits for the fake to say want on stderr, which it writes apart from
// stdout, and fails the test if it does not within a wide bound.
func (f *fakeProcess) saw(want string) {
	f.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(f.stderr.String(), want); {
		if time.Now().After(deadline) {
			f.t.Errorf("subkit fake did not say %q: %s", want, f.stderr)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the fake to exit; it returns its exit
// status. Stopping a stopped fake returns its status again.
func (f *fakeProcess) stop() int {
	select {
	case <-f.exited:
		return f.exitCode
	default:
	}
	_ = f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(20 * time.Second):
		_ = f.cmd.Process.Kill()
		<-f.exited
		f.t.Errorf("subkit fake did not stop on SIGTERM: %s", f.stderr)
	}
	return f.exitCode
}

// admin calls the fake's admin API with its token, decodes the answer into
// out (when not nil) and returns the status.
func (f *fakeProcess) admin(method, path, body string, out any) int {
	f.t.Helper()
	return f.adminAs(f.token, method, path, body, out)
}

func (f *fakeProcess) adminAs(token, method, path, body string, out any) int {
	f.t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	require.NoError(f.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	if out != nil {
		require.NoError(f.t, json.Unmarshal(b, out), "%s %s: %s", method, path, b)
	}
	return res.StatusCode
}

// held returns what the fake holds, through the admin API.
func (f *fakeProcess) held() heldState {
	f.t.Helper()
	var h heldState
	require.Equal(f.t, http.StatusOK, f.admin(http.MethodGet, "/_subkit/state", "", &h))
	return h
}

// keysHeld counts the fake's Polar subscriptions per idempotency key.
func (f *fakeProcess) keysHeld() map[string]int {
	f.t.Helper()
	n := map[string]int{}
	for _, s := range f.held().Polar.Subscriptions {
		n[s.IdempotencyKey]++
	}
	return n
}

// keysOf counts an in-process fake's Polar subscriptions per idempotency key.
func keysOf(srv *subkittest.Server) map[string]int {
	keys := map[string]int{}
	for _, s := range srv.PolarSubscriptions() {
		keys[fmt.Sprint(s.Metadata["subkit_idempotency_key"])]++
	}
	return keys
}

// lockedBuffer is a bytes.Buffer a process writes to while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// envWithout is the test's environment without the named variables.
func envWithout(names ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		drop := name == redisURLVar || name == postgresURLVar
		for _, n := range names {
			drop = drop || name == n
		}
		if !drop {
			env = append(env, kv)
		}
	}
	return env
}

// noCredentials is an environment without any API credential: a run
// against a fake on this machine uses the fake's own.
func noCredentials() []string {
	return envWithout("CHATDASH_AGENCY_KEY", "CHARGEFLOW_API_KEY", "POLAR_ACCESS_TOKEN")
}

// chaosRand is the random source of the tests that stop runs at random
// moments, logged so that SUBKIT_CHAOS_SEED replays a failure.
func chaosRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SUBKIT_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		require.NoError(t, err, "SUBKIT_CHAOS_SEED")
		seed = v
	}
	t.Logf("chaos seed %d (SUBKIT_CHAOS_SEED=%d replays it)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

// bulkProcess is "subkit bulk" running as a process the test signals.
type bulkProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	done           chan struct{}
	exit           int
}

// startBulk starts "subkit bulk args…" in env without waiting for it; the
// test's end kills it if it still runs.
func startBulk(t *testing.T, env []string, args ...string) *bulkProcess {
	t.Helper()
	p := &bulkProcess{cmd: exec.Command(command(t), append([]string{"bulk"}, args...)...),
		stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd.Env, p.cmd.Dir = env, workDir(t)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	require.NoError(t, p.cmd.Start())
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			p.exit = ee.ExitCode()
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.exited() {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *bulkProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait waits for the process and returns its exit status (-1: killed by a
// signal).
func (p *bulkProcess) wait() int {
	<-p.done
	return p.exit
}

// readReportFile reads a report written to a file, tolerating one partial
// last line (what a process killed mid-write may leave). It returns the
// lines by input line, and whether a partial last line was dropped.
func readReportFile(t *testing.T, path string) (map[int]reportLine, bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	partial := false
	if n := len(data); n > 0 && data[n-1] != '\n' {
		data, partial = data[:bytes.LastIndexByte(data, '\n')+1], true
	}
	return readReport(t, string(data)), partial
}

// users writes a CSV subscribing n users by external ID, user-0 …, one a
// line from line 2, and the flags that read it.
func users(t *testing.T, n int) (path string, args []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("external_customer_id,metadata.plan\n")
	for i := range n {
		fmt.Fprintf(&b, "user-%d,pro\n", i)
	}
	return writeFile(t, "users.csv", b.String()), []string{"-create", "polar-external-customer",
		"-key", "external_customer_id", "-set", "product_id=" + product, "-progress", "none", "-settle", "300ms"}
}
