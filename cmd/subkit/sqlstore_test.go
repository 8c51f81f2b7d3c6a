package main

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/pgtest"
	"github.com/subkit-go/subkit/subkittest"
)

// outcomesOf counts a report's lines per outcome.
func outcomesOf(t *testing.T, report string) map[string]int {
	t.Helper()
	n := map[string]int{}
	for _, l := range readReport(t, report) {
		n[l.Outcome]++
	}
	return n
}

// One state file serves dry and live runs, in one directory with the
// default -state: its records belong to the target they were made for (API,
// base URL, credential), so neither a built-in fake's records nor a dry
// run's answer for another target. A dry run rerun creates again (a new
// built-in fake), a run at a "subkit fake" with the same file creates every
// line there, and its rerun replays every line from the file.
func TestBulkStateFileKeepsEachTargetApart(t *testing.T) {
	t.Parallel()
	const n = 20
	input, args := users(t, n)
	dir := workDir(t)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	bulkRun := func(extra ...string) (invocation, summary) {
		t.Helper()
		res := runCommand(t, noCredentials(), append(append([]string{"bulk", "-summary", sumPath}, extra...), append(args, input)...)...)
		require.Equal(t, exitOK, res.exit, res.stderr)
		return res, readSummary(t, sumPath)
	}
	where := defaultStateFile + " (in " + dir + ")"

	dry, sum := bulkRun()
	assert.Equal(t, map[string]int{"created": n}, outcomesOf(t, dry.stdout))
	info, err := os.Stat(filepath.Join(dir, defaultStateFile))
	require.NoError(t, err, "the default state file is in the current directory")
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "it holds what was created: its owner's only")
	assert.Contains(t, dry.stderr, "keeping the idempotency store in the SQLite state file "+where)
	assert.Equal(t, &storeSummary{Kind: "sqlite", Where: where, Keys: n}, sum.Store)
	assert.Contains(t, dry.stderr, fmt.Sprintf("the SQLite state file %s knew none of the %d key(s) this run took", where, n))

	again, sum := bulkRun()
	assert.Equal(t, map[string]int{"created": n}, outcomesOf(t, again.stdout), "a new built-in fake is a new target")
	assert.Equal(t, &storeSummary{Kind: "sqlite", Where: where, Keys: n}, sum.Store)
	assert.Contains(t, again.stderr, "a rerun starts from nothing, against a new built-in fake (a new address and credentials of its own, so a new target")

	fake := startFake(t, "", "-implicit")
	live, sum := bulkRun("-base-url", fake.url)
	assert.Equal(t, map[string]int{"created": n}, outcomesOf(t, live.stdout), "the dry runs' records never answer for the fake: %s", live.stderr)
	assert.Equal(t, 0, sum.Store.Known)
	held := fake.keysHeld()
	assert.Len(t, held, n)
	for k, c := range held {
		assert.Equal(t, 1, c, "key %s", k)
	}

	rerun, sum := bulkRun("-base-url", fake.url)
	assert.Equal(t, map[string]int{"replayed": n}, outcomesOf(t, rerun.stdout))
	assert.Equal(t, &storeSummary{Kind: "sqlite", Where: where, Keys: n, Known: n}, sum.Store)
	assert.Contains(t, rerun.stderr, fmt.Sprintf("the SQLite state file %s already knew %d of the %d key(s) this run took: %d finished, replayed from it without asking the API", where, n, n, n))
	assert.Equal(t, map[string]int64{"polar": 1}, sum.Requests, "one look-up of the page, no create: the state file answered")
	assert.Equal(t, held, fake.keysHeld())
	t.Logf("the summary of the rerun: %s", rerun.stderr[strings.LastIndex(rerun.stderr, "subkit bulk: "+fmt.Sprint(n)+" item(s)"):])
}

// -state off keeps nothing: a run at a server waits -settle before its
// first creates, since nothing says what an earlier run sent, and says so;
// no file is made.
func TestBulkStateOff(t *testing.T) {
	t.Parallel()
	const n = 10
	fake := startFake(t, "", "-implicit")
	input, args := users(t, n)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-state", "off", "-summary", sumPath, input}, args...)...)
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Equal(t, map[string]int{"created": n}, outcomesOf(t, res.stdout))
	assert.NoFileExists(t, filepath.Join(workDir(t), defaultStateFile))
	assert.Contains(t, res.stderr, "keeping the idempotency store in this process's memory (-state off)")
	sum := readSummary(t, sumPath)
	assert.Equal(t, "memory", sum.Store.Kind)
	assert.Equal(t, map[string]int64{"polar": 2 + n}, sum.Requests, "the page looked up twice: at the start and at start + -settle")
}

// One store at a time: two store flags, or the two environment variables
// without a flag, are a usage error; a flag beats the environment.
func TestBulkOneStoreAtATime(t *testing.T) {
	t.Parallel()
	input, args := users(t, 1)
	for _, tc := range []struct {
		env  []string
		args []string
		want string
	}{
		{nil, []string{"-state", "s.db", "-redis", "127.0.0.1:1"}, "one idempotency store at a time: give -redis or -state, not more"},
		{nil, []string{"-redis", "127.0.0.1:1", "-postgres", "postgres://127.0.0.1:1/x"}, "one idempotency store at a time: give -postgres or -redis, not more"},
		{nil, []string{"-state", ""}, "-state: want a FILE, or off"},
		{[]string{redisURLVar + "=127.0.0.1:1", postgresURLVar + "=postgres://127.0.0.1:1/x"}, nil,
			"$SUBKIT_REDIS_URL and $SUBKIT_POSTGRES_URL are both set: give -redis, -postgres or -state to say which store"},
	} {
		res := runCommand(t, append(noCredentials(), tc.env...), append(append([]string{"bulk"}, tc.args...), append(args, input)...)...)
		assert.Equal(t, exitUsage, res.exit, "%v %v: %s", tc.env, tc.args, res.stderr)
		assert.Contains(t, res.stderr, tc.want)
		assert.Empty(t, res.stdout)
	}
	// -state given beats a URL in the environment: a dry run on a state file.
	res := runCommand(t, append(noCredentials(), redisURLVar+"=127.0.0.1:1"), append([]string{"bulk", "-state", "s.db", input}, args...)...)
	assert.Equal(t, exitOK, res.exit, res.stderr)
	assert.FileExists(t, filepath.Join(workDir(t), "s.db"))
}

// -postgres: three processes share one Postgres store over one input while
// look-ups lag, and create each key once; a rerun through
// SUBKIT_POSTGRES_URL replays every line from the store. No output — stderr,
// the report, the summary — ever holds the password: not with the right
// one, a wrong one, a dead server or a malformed URL. No state file is made
// beside it.
func TestBulkPostgresSharedWithAPassword(t *testing.T) {
	t.Parallel()
	const pgPassword = "pg-S3cret/Pass!w0rd"
	pg := pgtest.NewServer(t, pgtest.WithPassword(pgPassword))
	if pg == nil {
		return
	}
	const n = 300
	srv, path := userBase(t, n, subkittest.WithReadLag(subkit.Polar, 100*time.Millisecond, 400*time.Millisecond))
	dsn := pg.DSN("postgres")
	dir := t.TempDir()
	where := fmt.Sprintf("Postgres at 127.0.0.1:%d, database postgres, user postgres", pg.Port())
	secrets := []string{pgPassword, url.QueryEscape(pgPassword), url.PathEscape(pgPassword), url.UserPassword("u", pgPassword).String()[2:]}
	check := func(name string, texts ...string) {
		t.Helper()
		for _, text := range texts {
			for _, s := range secrets {
				assert.NotContains(t, text, s, "%s: the password is in the output", name)
			}
		}
	}
	readFile := func(p string) string {
		b, _ := os.ReadFile(p)
		return string(b)
	}

	cmds := make([]*exec.Cmd, 3)
	outs := make([]*lockedBuffer, 3)
	for i := range cmds {
		report, sum := filepath.Join(dir, fmt.Sprintf("report-%d.jsonl", i)), filepath.Join(dir, fmt.Sprintf("summary-%d.json", i))
		cmds[i] = exec.Command(command(t), userBaseArgs(srv, "-postgres", dsn, "-settle", "600ms", "-report", report, "-summary", sum, path)...)
		outs[i] = &lockedBuffer{}
		cmds[i].Env, cmds[i].Dir, cmds[i].Stdout, cmds[i].Stderr = fakeEnv(), workDir(t), outs[i], outs[i]
		require.NoError(t, cmds[i].Start())
	}
	known := 0
	for i, cmd := range cmds {
		assert.NoError(t, cmd.Wait(), "process %d: %s", i, outs[i])
		report, sum := filepath.Join(dir, fmt.Sprintf("report-%d.jsonl", i)), filepath.Join(dir, fmt.Sprintf("summary-%d.json", i))
		check(fmt.Sprintf("process %d", i), outs[i].String(), readFile(report), readFile(sum))
		assert.Contains(t, outs[i].String(), "sharing the idempotency store through "+where)
		s := readSummary(t, sum)
		assert.Equal(t, "postgres", s.Store.Kind)
		assert.Equal(t, where, s.Store.Where)
		known += s.Store.Known
	}
	keys := keysOf(srv)
	assert.Len(t, keys, n)
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s", k)
	}
	t.Logf("three processes on one Postgres store: %d keys created once each; the store knew %d of the 900 takes", len(keys), known)

	sumPath := filepath.Join(dir, "summary.json")
	res := runCommand(t, append(fakeEnv(), postgresURLVar+"="+dsn), userBaseArgs(srv, "-summary", sumPath, path)...)
	check("from the environment", res.stdout, res.stderr, readFile(sumPath))
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Equal(t, map[string]int{"replayed": n}, outcomesOf(t, res.stdout))
	assert.Equal(t, &storeSummary{Kind: "postgres", Where: where, Keys: n, Known: n}, readSummary(t, sumPath).Store)
	assert.NoFileExists(t, filepath.Join(workDir(t), defaultStateFile), "one store: no state file beside Postgres")

	wrong := strings.Replace(dsn, url.UserPassword("postgres", pgPassword).String(), url.UserPassword("postgres", "not-"+pgPassword).String(), 1)
	require.NotEqual(t, dsn, wrong)
	secrets = append(secrets, "not-"+pgPassword)
	for name, tc := range map[string]struct{ url, want string }{
		"a wrong password": {wrong, "-postgres: " + where + " does not answer"},
		"a dead server":    {strings.Replace(dsn, fmt.Sprint(pg.Port()), "1", 1), "-postgres: Postgres at 127.0.0.1:1, database postgres, user postgres does not answer"},
		"a bad escape":     {"postgres://postgres:" + pgPassword + "%zz@127.0.0.1:1/postgres", "-postgres: not a connection URL (cannot be read)"},
		"a bad port":       {strings.Replace(dsn, fmt.Sprint(pg.Port()), "port", 1), "-postgres: not a connection URL"},
	} {
		res := runCommand(t, fakeEnv(), userBaseArgs(srv, "-postgres", tc.url, path)...)
		check(name, res.stdout, res.stderr)
		assert.Equal(t, exitUsage, res.exit, "%s: %s", name, res.stderr)
		assert.Contains(t, res.stderr, tc.want, name)
		assert.Contains(t, res.stderr, "nothing was sent", name)
	}
}
