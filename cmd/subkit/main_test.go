package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/subkittest"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
	buildDir  string
)

// TestMain builds the command once for the tests that run it as a user
// would, and removes it at the end. Every run of the command has a working
// directory of its test's (workDir), where its default state file goes: one
// left in the package's directory is a test that ran it elsewhere, and
// fails the suite.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	if _, err := os.Stat(defaultStateFile); err == nil {
		fmt.Fprintf(os.Stderr, "a test left %s in the package's directory: run the command in workDir(t)\n", defaultStateFile)
		_ = os.Remove(defaultStateFile)
		for _, suffix := range []string{"-wal", "-shm"} {
			_ = os.Remove(defaultStateFile + suffix)
		}
		code = 1
	}
	os.Exit(code)
}

// workDirs holds each test's working directory for the command.
var workDirs sync.Map // *testing.T → string

// workDir is the directory the command runs in for t, one per test, as a
// user runs every command of a session in one directory: the default state
// file (.subkit-state.db) a rerun finds is there.
func workDir(t *testing.T) string {
	t.Helper()
	if dir, ok := workDirs.Load(t); ok {
		return dir.(string)
	}
	dir := t.TempDir()
	workDirs.Store(t, dir)
	t.Cleanup(func() { workDirs.Delete(t) })
	return dir
}

// command returns the path of the built command.
func command(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "subkit-cmd-"); buildErr != nil {
			return
		}
		binary = filepath.Join(buildDir, "subkit")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = &buildError{out: string(out), err: err}
		}
	})
	require.NoError(t, buildErr)
	return binary
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// invocation is one run of the command.
type invocation struct {
	exit           int
	stdout, stderr string
}

// fakeEnv is the environment of a run against srv: the credentials the fake
// accepts, and none of the caller's (nor a store's URL).
func fakeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name != "CHATDASH_AGENCY_KEY" && name != "CHARGEFLOW_API_KEY" && name != "POLAR_ACCESS_TOKEN" &&
			name != redisURLVar && name != postgresURLVar {
			env = append(env, kv)
		}
	}
	return append(env, "POLAR_ACCESS_TOKEN="+subkittest.PolarToken, "CHARGEFLOW_API_KEY="+subkittest.ChargeflowKey)
}

// runCommand runs the command with args in env and waits for it.
func runCommand(t *testing.T, env []string, args ...string) invocation {
	t.Helper()
	cmd := exec.Command(command(t), args...)
	cmd.Env, cmd.Dir = env, workDir(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	inv := invocation{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		inv.exit = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return inv
}

// readReport reads a JSON Lines report, by input line.
func readReport(t *testing.T, data string) map[int]reportLine {
	t.Helper()
	lines := map[int]reportLine{}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l reportLine
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "report line %q", sc.Text())
		_, dup := lines[l.Line]
		require.False(t, dup, "line %d reported twice", l.Line)
		lines[l.Line] = l
	}
	require.NoError(t, sc.Err())
	return lines
}

func readSummary(t *testing.T, path string) summary {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var s summary
	require.NoError(t, json.Unmarshal(b, &s))
	return s
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}
