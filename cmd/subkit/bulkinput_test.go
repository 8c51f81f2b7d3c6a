package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/subkittest"
)

// An input wrong as a whole is refused with one message, exit 2, before
// anything is sent: the fake receives no request.
func TestBulkChecksTheInputAsAWhole(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	lines := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, content string
		args          []string
		want          string
	}{
		{"missing.csv", "external_customer_id,metadata.plan\n" + lines("user-%d,pro\n", 3000),
			[]string{"-create", "polar-external-customer", "-key", "external_customer_id"},
			"users.csv: the header has no product_id column, which polar-external-customer needs (or -set product_id=…); nothing was sent"},
		{"nokey.csv", "external_customer_id,product_id\n" + lines("user-%d,"+product+"\n", 5),
			[]string{"-create", "polar-external-customer"},
			"the header has no key column, which holds each line's idempotency key (-key names another column)"},
		{"nocreate.csv", "key,external_customer_id,product_id\n" + lines("k%d,user,"+product+"\n", 5), nil,
			"the header has no create column, and there is no -create"},
		{"missing.jsonl", lines(`{"key":"k%d","external_customer_id":"user"}`+"\n", 5),
			[]string{"-create", "polar-external-customer"},
			"no line has a product_id field, which polar-external-customer needs"},
		{"empty.csv", "", nil, "the CSV input is empty: it needs a header line"},
		{"empty.jsonl", "", nil, "the input has no line: nothing to do"},
		{"blank.jsonl", "\n\n  \n", nil, "the input has no line: nothing to do"},
		{"header.csv", "key,create,product_id,external_customer_id\n", nil, "the CSV has a header and no line under it: nothing to do"},
		{"unknown.csv", "key\nk\n", []string{"-create", "mailchimp"}, `-create "mailchimp": want one of`},
	} {
		path := filepath.Join(t.TempDir(), "users"+filepath.Ext(tc.name))
		require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
		res := runCommand(t, noCredentials(), append(append([]string{"bulk", "-base-url", fake.url}, tc.args...), path)...)
		assert.Equal(t, exitUsage, res.exit, "%s: %s", tc.name, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.name)
		assert.Equal(t, 1, strings.Count(res.stderr, "\n"), "%s: one message: %s", tc.name, res.stderr)
		assert.Empty(t, res.stdout, "%s: no report", tc.name)
	}
	held := fake.held()
	assert.Zero(t, held.Polar.Requests+held.Chargeflow.Requests, "nothing was sent")
}

// Invalid UTF-8 is refused per line in CSV and JSON Lines alike, naming
// the field, instead of being created for the U+FFFD it would decode as;
// the other lines run. A 5 MB value is refused and echoed clipped.
func TestBulkRefusesBadValuesPerLine(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	huge := strings.Repeat("k", 5<<20)
	for _, tc := range []struct{ name, content string }{
		{"users.jsonl", `{"key":"a","external_customer_id":"usr_1"}` + "\n" +
			`{"key":"b","external_customer_id":"usr_` + "\xff" + `1"}` + "\n" +
			`{"key":"` + huge + `","external_customer_id":"usr_3"}` + "\n"},
		{"users.csv", "key,external_customer_id\na,usr_1\nb,usr_\xff1\n" + huge + ",usr_3\n"},
	} {
		path := writeFile(t, tc.name, tc.content)
		res := runCommand(t, noCredentials(), "bulk", "-base-url", fake.url, "-create", "polar-external-customer",
			"-set", "product_id="+product, "-progress", "none", path)

		assert.Equal(t, exitFailed, res.exit, "%s: %s", tc.name, res.stderr)
		assert.Less(t, len(res.stdout)+len(res.stderr), 20<<10, "%s: the 5 MB value is not echoed", tc.name)
		report := readReport(t, res.stdout)
		first, bad, long := report[1], report[2], report[3]
		if tc.name == "users.csv" {
			first, bad, long = report[2], report[3], report[4]
		}
		assert.Contains(t, []string{"created", "replayed"}, first.Outcome, "%s: %s", tc.name, first.Error)
		assert.Equal(t, "failed", bad.Outcome, tc.name)
		assert.Contains(t, bad.Error, fmt.Sprintf("line %d, column external_customer_id: not valid UTF-8: after ", bad.Line), tc.name)
		assert.Contains(t, bad.Error, `usr_", a bad byte at character `, tc.name)
		assert.Equal(t, "fix", bad.Action)
		assert.Equal(t, "failed", long.Outcome, tc.name)
		assert.Contains(t, long.Error, "column key: 5242880 bytes, more than the 65536 a value may have", tc.name)
	}
	for _, s := range fake.held().Polar.Subscriptions {
		assert.Equal(t, "usr_1", s.ExternalCustomerID, "only the good line was created")
	}
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

// A key used by two lines for two creates: the second conflicts, and its
// report names the line that holds the key.
func TestBulkConflictNamesTheOtherLine(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	path := writeFile(t, "users.csv", "key,external_customer_id\nk1,usr_1\nk2,usr_2\nk1,usr_3\n")
	res := runCommand(t, noCredentials(), "bulk", "-base-url", fake.url, "-create", "polar-external-customer",
		"-set", "product_id="+product, "-concurrency", "1", "-progress", "none", path)

	assert.Equal(t, exitFailed, res.exit, res.stderr)
	report := readReport(t, res.stdout)
	assert.Equal(t, "conflicted", report[4].Outcome)
	assert.Equal(t, 2, report[4].EarlierLine)
	assert.Contains(t, report[4].Error, "line 2 of this input has the same key for another create")

	// In a new input, the key was used before this run.
	other := writeFile(t, "other.csv", "key,external_customer_id\nk2,usr_9\n")
	res = runCommand(t, noCredentials(), "bulk", "-base-url", fake.url, "-create", "polar-external-customer",
		"-set", "product_id="+product, "-progress", "none", other)
	report = readReport(t, res.stdout)
	assert.Equal(t, "conflicted", report[2].Outcome)
	assert.Zero(t, report[2].EarlierLine)
	assert.Contains(t, report[2].Error, "no other line of this input has the key: it was used before, for another create")
}
