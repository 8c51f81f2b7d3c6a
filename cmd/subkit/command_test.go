package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

const (
	product = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	dispute = "65f0c1d2e3a4b5c6d7e8f901"
)

// userBase is a fake seeded with the product and n customers user-0 …, and a
// CSV subscribing them by external ID, keyed by it, one line each from line 2.
func userBase(t *testing.T, n int, opts ...subkittest.ServerOption) (*subkittest.Server, string) {
	t.Helper()
	srv := subkittest.NewServer(opts...)
	t.Cleanup(srv.Close)
	srv.AddPolarProduct(subkittest.PolarProduct{ID: product})
	var b strings.Builder
	b.WriteString("external_customer_id,metadata.plan,email\n")
	for i := range n {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: fmt.Sprintf("user-%d", i)})
		fmt.Fprintf(&b, "user-%d,pro,user-%d@example.com\n", i, i)
	}
	return srv, writeFile(t, "users.csv", b.String())
}

// userBaseArgs subscribes the lines of a userBase file.
func userBaseArgs(srv *subkittest.Server, extra ...string) []string {
	return append([]string{"bulk", "-base-url", srv.URL(), "-create", "polar-external-customer", "-key", "external_customer_id",
		"-key-prefix", "spring/", "-set", "product_id=" + product, "-set", "metadata.campaign=spring", "-set", "metadata.plan=basic",
		"-progress", "lines", "-settle", "200ms"}, extra...)
}

func TestBulkReportsEveryLineAndResumes(t *testing.T) {
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddPolarProduct(subkittest.PolarProduct{ID: product})
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: dispute})
	input := "key,create,product_id,external_customer_id,dispute_id,source_id,created_at,start_date,frequency,frequency_count,metadata.plan\n"
	for i := range 20 {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: fmt.Sprintf("user-%d", i)})
		input += fmt.Sprintf("k%d,polar-external-customer,%s,user-%d,,,,,,,pro\n", i, product, i)
	}
	input += "" +
		"k20,polar-external-customer,not-a-uuid,user-1,,,,,,,\n" + // line 22: refused by the SDK
		",polar-external-customer," + product + ",user-2,,,,,,,\n" + // line 23: no key
		"k24,chatdash-connect,,,,,,,,,\n" + // line 24: refused
		"k25,polar-external-customer," + product + ",user-3,,,,\n" + // line 25: too few values
		"k26,chargeflow-dispute,,,\"" + dispute + "\"x,,,,,,\n" + // line 26: a bad quote
		"k27,chargeflow-dispute,,," + dispute + ",sub_9,2025-01-31,31/01/2025,month,one,\n" + // line 27: a bad date and count
		"k28,chargeflow-dispute,,," + dispute + ",sub_9,2025-01-31,2025-02-01,month,1,\n" + // line 28: good
		"k29,mailchimp,,,,,,,,,\n" // line 29: unknown create
	path := writeFile(t, "mixed.csv", input)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	args := []string{"bulk", "-base-url", srv.URL(), "-summary", sumPath, "-progress", "none", "-settle", "200ms", path}

	first := runCommand(t, fakeEnv(), args...)

	assert.Equal(t, exitFailed, first.exit, "some lines failed: %s", first.stderr)
	report := readReport(t, first.stdout)
	require.Len(t, report, 28, "one report line per input line")
	for line := 2; line <= 21; line++ {
		l := report[line]
		assert.Equal(t, "created", l.Outcome, "line %d: %s", line, l.Error)
		assert.Equal(t, fmt.Sprintf("k%d", line-2), l.Key)
		assert.Equal(t, "polar", l.API)
		assert.Equal(t, "polar-external-customer", l.Create)
		assert.NotEmpty(t, l.SubscriptionID)
		assert.Empty(t, l.Error)
	}
	assert.Equal(t, "created", report[28].Outcome, report[28].Error)
	assert.Equal(t, "chargeflow", report[28].API)
	for line, want := range map[int]string{
		22: "product_id: must be a version 4 UUID",
		23: "line 23, column key: is required",
		24: "line 24, column create: ChatDash creates cannot be made in bulk",
		25: "line 25: 8 values, but the header names 11 columns",
		26: "line 26, column dispute_id: extraneous or missing \" in quoted-field",
		27: "line 27: column start_date: want a date: RFC 3339 (2025-01-31T12:00:00Z) or YYYY-MM-DD, got \"31/01/2025\"; column frequency_count: want a whole number, got \"one\"",
		29: "line 29, column create: unknown create \"mailchimp\"",
	} {
		l := report[line]
		assert.Equal(t, "failed", l.Outcome, "line %d", line)
		assert.Contains(t, l.Error, want, "line %d", line)
		assert.Equal(t, "fix", l.Action, "line %d", line)
		assert.False(t, l.MayBeApplied)
	}
	sum := readSummary(t, sumPath)
	assert.Equal(t, 28, sum.Items)
	assert.Equal(t, map[string]int{"created": 21, "failed": 7, "replayed": 0, "reconciled": 0, "conflicted": 0,
		"unknown": 0, "not_attempted": 0}, sum.Outcomes)
	assert.Equal(t, map[string]int64{"polar": 21, "chargeflow": 2}, sum.Requests,
		"Polar: one look-up for the page and a POST each; Chargeflow: the replay check and the POST")
	assert.Zero(t, sum.RateLimited)
	assert.Equal(t, exitFailed, sum.ExitCode)
	assert.Contains(t, first.stderr, "28 item(s)")
	assert.Len(t, srv.PolarSubscriptions(), 20)

	again := runCommand(t, fakeEnv(), args...)

	assert.Equal(t, exitFailed, again.exit, again.stderr)
	report = readReport(t, again.stdout)
	for line := 2; line <= 21; line++ {
		assert.Equal(t, "replayed", report[line].Outcome, "line %d", line)
	}
	assert.Equal(t, "replayed", report[28].Outcome)
	assert.Len(t, srv.PolarSubscriptions(), 20, "the rerun creates nothing more")
	assert.Len(t, srv.ChargeflowSubscriptions(), 1)
	// The state file (the default, in the test's directory) holds every key
	// the first run made: the page's one look-up, no second one (the file
	// vouches for earlier runs), and no Chargeflow replay check.
	sum = readSummary(t, sumPath)
	assert.Equal(t, map[string]int64{"polar": 1}, sum.Requests)
	assert.Equal(t, 21, sum.Store.Known, "the 20 Polar keys and the Chargeflow one")
}

func TestBulkSubscribesAUserBaseFromAColumn(t *testing.T) {
	srv, path := userBase(t, 250)
	res := runCommand(t, fakeEnv(), userBaseArgs(srv, path)...)

	require.Equal(t, exitOK, res.exit, res.stderr)
	report := readReport(t, res.stdout)
	require.Len(t, report, 250)
	assert.Equal(t, "spring/user-0", report[2].Key)
	subs := srv.PolarSubscriptions()
	require.Len(t, subs, 250)
	assert.Equal(t, "pro", subs[0].Metadata["plan"], "-set fills only empty columns")
	assert.Equal(t, "spring", subs[0].Metadata["campaign"])
	assert.Equal(t, "spring/"+subs[0].ExternalCustomerID, subs[0].Metadata["subkit_idempotency_key"])
	assert.Contains(t, res.stderr, "ignoring column(s) nothing reads: [email]")
	assert.Contains(t, res.stderr, "250/250 (100%) created 250")
}

func TestBulkShardsSplitOneInput(t *testing.T) {
	srv, path := userBase(t, 300)
	seen := map[string]bool{}
	for i := range 3 {
		res := runCommand(t, fakeEnv(), userBaseArgs(srv, "-shard", fmt.Sprintf("%d/3", i), path)...)
		require.Equal(t, exitOK, res.exit, res.stderr)
		for _, l := range readReport(t, res.stdout) {
			require.False(t, seen[l.Key], "key %s in two shards", l.Key)
			seen[l.Key] = true
		}
		assert.Contains(t, res.stderr, "left to other shards")
	}
	assert.Len(t, seen, 300)
	assert.Len(t, srv.PolarSubscriptions(), 300)
}

func TestBulkReadsJSONLines(t *testing.T) {
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	srv.AddPolarProduct(subkittest.PolarProduct{ID: product})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "user-1"})
	path := writeFile(t, "items.jsonl", `{"key":"a","create":"polar_customer","product_id":"`+product+`","customer_id":"`+customer+`","metadata":{"seats":3,"vip":true}}

{"key":"b","create":"polar-external-customer","product_id":"`+product+`","external_customer_id":"user-1","metadata.plan":"pro"}
{"key":"c", oops}
["not","an","object"]
{"key":7,"create":"polar-external-customer","product_id":"`+product+`","external_customer_id":{"id":1}}
`)
	res := runCommand(t, fakeEnv(), "bulk", "-base-url", srv.URL(), "-progress", "none", path)

	assert.Equal(t, exitFailed, res.exit, res.stderr)
	report := readReport(t, res.stdout)
	require.Len(t, report, 5)
	assert.Equal(t, "created", report[1].Outcome, report[1].Error)
	assert.Equal(t, "created", report[3].Outcome, report[3].Error)
	assert.Contains(t, report[4].Error, "line 4: invalid JSON at character")
	assert.Contains(t, report[5].Error, "line 5: want a JSON object, got array")
	assert.Contains(t, report[6].Error, "line 6, column external_customer_id: want a string, got an object")
	assert.Equal(t, "7", report[6].Key, "a number is taken as its text")
	var md map[string]any
	for _, s := range srv.PolarSubscriptions() {
		if s.CustomerID == customer {
			md = s.Metadata
		}
	}
	assert.Equal(t, "3", fmt.Sprint(md["seats"]), "JSON numbers stay numbers")
	assert.Equal(t, true, md["vip"])
}

func TestBulkResumesAfterAKill(t *testing.T) {
	const n = 2000
	// Look-ups trail creates by up to 600 ms, as Polar's read replica does:
	// the rerun starts right after the kill, so it cannot see the last
	// creates of the killed run at first.
	srv, path := userBase(t, n, subkittest.WithReadLag(subkit.Polar, 300*time.Millisecond, 600*time.Millisecond))
	// Paced so that the run lasts long enough to be killed half way. The
	// keys it has in flight stay locked in the state file for -lease, which
	// the rerun waits out.
	args := userBaseArgs(srv, "-settle", "800ms", "-lease", "3s", "-rate", "polar=1000/1s", "-report", filepath.Join(t.TempDir(), "report.jsonl"), path)
	cmd := exec.Command(command(t), args...)
	cmd.Env, cmd.Dir = fakeEnv(), workDir(t)
	require.NoError(t, cmd.Start())
	for len(srv.PolarSubscriptions()) < n/2 {
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill()) // a crash: nothing is flushed, nothing finishes
	_ = cmd.Wait()
	// The server finishes the creates the dead process had sent, some
	// still in its socket: count what it holds once that stops changing.
	killedAt := len(srv.PolarSubscriptions())
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		now := len(srv.PolarSubscriptions())
		if now == killedAt {
			break
		}
		killedAt = now
	}
	require.Less(t, killedAt, n)
	before := len(srv.Requests(subkit.Polar))

	sumPath := filepath.Join(t.TempDir(), "summary.json")
	res := runCommand(t, fakeEnv(), userBaseArgs(srv, "-settle", "800ms", "-lease", "3s", "-summary", sumPath, path)...)

	require.Equal(t, exitOK, res.exit, res.stderr)
	counts := map[string]int{}
	for _, l := range readReport(t, res.stdout) {
		counts[l.Outcome]++
	}
	assert.Equal(t, n, counts["created"]+counts["replayed"], "%v", counts)
	assert.Equal(t, killedAt, counts["replayed"], "what the killed run created is replayed, the rest created: %v", counts)
	keys := map[string]int{}
	for _, s := range srv.PolarSubscriptions() {
		keys[fmt.Sprint(s.Metadata["subkit_idempotency_key"])]++
	}
	assert.Len(t, keys, n, "exactly one subscription per line")
	for k, c := range keys {
		require.Equal(t, 1, c, "key %s", k)
	}
	lookups, posts := 0, 0
	for _, r := range srv.Requests(subkit.Polar)[before:] {
		if r.Method == "GET" {
			lookups++
		} else {
			posts++
		}
	}
	pages := n / 100
	assert.Equal(t, n-killedAt, posts)
	assert.LessOrEqual(t, lookups, 2*pages, "at most one more look-up per page")
	t.Logf("killed at %d/%d; the rerun: %d look-ups for %d pages, %d creates, %.3f requests a create",
		killedAt, n, lookups, pages, posts, float64(lookups+posts)/float64(posts))
}

func TestBulkInterruptFinishesInFlightAndWritesTheReport(t *testing.T) {
	const n = 2000
	srv, path := userBase(t, n)
	sumPath := filepath.Join(t.TempDir(), "summary.json")
	reportPath := filepath.Join(t.TempDir(), "report.jsonl")
	cmd := exec.Command(command(t), userBaseArgs(srv, "-rate", "polar=1000/1s", "-report", reportPath, "-summary", sumPath, path)...)
	cmd.Env, cmd.Dir = fakeEnv(), workDir(t)
	require.NoError(t, cmd.Start())
	for len(srv.PolarSubscriptions()) < n/4 {
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	err := cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, exitInterrupted, ee.ExitCode())

	data, err := os.ReadFile(reportPath)
	require.NoError(t, err)
	report := readReport(t, string(data))
	assert.Len(t, report, n, "every line is in the report")
	counts := map[string]int{}
	for _, l := range report {
		counts[l.Outcome]++
		if l.Outcome == "not_attempted" {
			assert.Equal(t, "retry", l.Action)
		}
	}
	assert.Equal(t, n, counts["created"]+counts["not_attempted"], "in-flight creates finished: %v", counts)
	assert.Len(t, srv.PolarSubscriptions(), counts["created"])
	sum := readSummary(t, sumPath)
	assert.True(t, sum.Interrupted)
	assert.Equal(t, exitInterrupted, sum.ExitCode)
	assert.Equal(t, counts["not_attempted"], sum.Outcomes["not_attempted"])
}

func TestBulkRefusesToRunLiveWithoutCredentials(t *testing.T) {
	path := writeFile(t, "one.csv", "key,create,product_id,external_customer_id\nk,polar-external-customer,"+product+",user-1\n")
	env := fakeEnv()[:0:0]
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "POLAR_ACCESS_TOKEN=") && !strings.HasPrefix(kv, "CHARGEFLOW_API_KEY=") && !strings.HasPrefix(kv, "CHATDASH_AGENCY_KEY=") {
			env = append(env, kv)
		}
	}
	res := runCommand(t, env, "bulk", "-live", path)
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "the input's creates need POLAR_ACCESS_TOKEN in the environment; nothing was sent")
	assert.Empty(t, res.stdout)

	res = runCommand(t, append(env, "CHARGEFLOW_API_KEY=cf_live_x"), "bulk", "-live", "-production", path)
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "need POLAR_ACCESS_TOKEN")
	assert.NotContains(t, res.stderr, "cf_live_x")
}

func TestBulkUsageErrors(t *testing.T) {
	path := writeFile(t, "one.csv", "key\nk\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bulk"}, "want one input FILE"},
		{[]string{"bulk", "-rate", "polar=fast", path}, "want N/DURATION"},
		{[]string{"bulk", "-shard", "3/3", path}, "want i/n with 0 ≤ i < n"},
		{[]string{"bulk", "-lease", "0s", path}, "-progress-every, -settle and -lease must be positive"},
		{[]string{"bulk", "-create", "chatdash-connect", path}, "ChatDash creates cannot be made in bulk"},
		{[]string{"bulk", "-production", path}, "-production only makes sense with -live"},
		{[]string{"bulk", "-live", "-base-url", "http://127.0.0.1:1", path}, "give -live or -base-url, not both"},
		{[]string{"bulk", filepath.Join(t.TempDir(), "missing.csv")}, "no such file"},
		{[]string{"bulk", "-format", "xml", path}, "want csv or jsonl"},
		{[]string{"bulk", writeFile(t, "items.txt", "")}, "give -format csv or -format jsonl"},
		{[]string{"bulk", writeFile(t, "empty.csv", "")}, "needs a header line"},
		{[]string{"bulk", writeFile(t, "dup.csv", "key,key\n")}, "the header's column 2 is empty or repeated"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		res := runCommand(t, fakeEnv(), tc.args...)
		assert.Equal(t, exitUsage, res.exit, "%v", tc.args)
		assert.Contains(t, res.stderr, tc.want, "%v", tc.args)
	}
	res := runCommand(t, fakeEnv(), "bulk", "-h")
	assert.Equal(t, exitOK, res.exit)
	assert.Contains(t, res.stdout, "usage: subkit bulk", "asked-for help goes to stdout")
	assert.Empty(t, res.stderr)
}

// A subscription too large for the SDK to read (a 5 MB external ID, which
// Polar allows) makes its page of key look-ups unreadable: only its own
// line fails, the other 99 lines of the page are created, on every rerun.
func TestBulkPageThatCannotBeReadFailsOnlyItsLine(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	huge := strings.Repeat("x", 5<<20)
	body := `{"product_id":"` + product + `","external_customer_id":"` + huge + `","metadata":{"subkit_idempotency_key":"user-37"}}`
	req, err := http.NewRequest(http.MethodPost, fake.url+"/v1/subscriptions/", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+subkittest.PolarToken)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
	input, args := users(t, 100)

	for run := range 2 {
		out := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, input}, args...)...)

		assert.Equal(t, exitFailed, out.exit, out.stderr)
		assert.Less(t, len(out.stdout), 100<<10, "the report stays small")
		report := readReport(t, out.stdout)
		require.Len(t, report, 100)
		for line, l := range report {
			if l.Key == "user-37" {
				assert.Equal(t, "failed", l.Outcome)
				assert.Contains(t, l.Error, "looking up the key before creating")
				continue
			}
			want := []string{"created", "replayed"}[run]
			assert.Equal(t, want, l.Outcome, "run %d, line %d: %s", run, line, l.Error)
		}
	}
	assert.Len(t, fake.keysHeld(), 100, "99 lines and the huge one, once each")
}
