package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

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
