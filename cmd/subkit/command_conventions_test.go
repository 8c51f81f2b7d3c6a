package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// What users try first: a version, help where help goes, the dry run by
// its name, flags after the file.
func TestCommandConventions(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		res := runCommand(t, noCredentials(), args...)
		assert.Equal(t, exitOK, res.exit)
		assert.True(t, strings.HasPrefix(res.stdout, "subkit "+subkit.Version+" (go"), "%v: %q", args, res.stdout)
		assert.Empty(t, res.stderr)
	}
	for _, args := range [][]string{{"help"}, {"-h"}, {"bulk", "-h"}, {"bulk", "users.csv", "--help"}, {"fake", "-h"}} {
		res := runCommand(t, noCredentials(), args...)
		assert.Equal(t, exitOK, res.exit, "%v", args)
		assert.Contains(t, res.stdout, "usage: subkit", "%v: help goes to stdout, so that | less shows it", args)
		assert.Empty(t, res.stderr, "%v", args)
	}
	res := runCommand(t, noCredentials(), "fake", "-h")
	assert.Contains(t, res.stdout, "POST /_subkit/faults", "the admin API is in the help")
	res = runCommand(t, noCredentials())
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "fake     serve fake ChatDash, Chargeflow and Polar APIs")

	input, args := users(t, 5)
	// -dry-run is the default, by name; flags after the file are flags.
	res = runCommand(t, noCredentials(), append([]string{"bulk", input, "-dry-run"}, args...)...)
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Len(t, readReport(t, res.stdout), 5)
	assert.Contains(t, res.stderr, "a dry run against the built-in fake APIs")
	// Its summary says what the built-in fake held, and that it is gone.
	assert.Contains(t, res.stderr, "the built-in fake held 5 Polar and 0 Chargeflow subscription(s), and is gone with this run")
	summaryPath := filepath.Join(t.TempDir(), "summary.json")
	res = runCommand(t, noCredentials(), append([]string{"bulk", input, "-summary", summaryPath}, args...)...)
	require.Equal(t, exitOK, res.exit, res.stderr)
	assert.Equal(t, map[string]int{"polar": 5, "chargeflow": 0}, readSummary(t, summaryPath).BuiltInFake)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bulk", "-dry-run", "-base-url", "http://127.0.0.1:1", input}, "-dry-run runs against the built-in fake: give it without -live and -base-url"},
		{[]string{"bulk", input, "other.csv", "third.csv"}, "want one input FILE (- for standard input), got 3: " + input + " other.csv third.csv"},
		{[]string{"bulk", input, "-nope"}, "flag provided but not defined: -nope\nrun \"subkit bulk -h\" for the flags"},
		{[]string{"fake", "-addr"}, "flag needs an argument: -addr\nrun \"subkit fake -h\" for the flags"},
	} {
		res := runCommand(t, noCredentials(), tc.args...)
		assert.Equal(t, exitUsage, res.exit, "%v", tc.args)
		assert.Contains(t, res.stderr, tc.want, "%v", tc.args)
		assert.NotContains(t, res.stderr, "usage:", "%v: an error is not a page of help", tc.args)
	}
	// After "--", everything is a file, even what looks like a flag.
	res = runCommand(t, noCredentials(), "bulk", "--", "-report")
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, `cannot tell the format of "-report"`)
}
