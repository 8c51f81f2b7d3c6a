package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A paced run whose workers queue longer than -timeout for their turns:
// every line waits and is created. (With the deadline on the whole call,
// the limiter refused every turn beyond it and those lines failed at once.)
func TestBulkPacedWaitsAreWaits(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	input, args := users(t, 24)
	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, "-rate", "polar=12/1s",
		"-timeout", "500ms", "-concurrency", "16", input}, args...)...)

	require.Equal(t, exitOK, res.exit, res.stderr)
	for _, l := range readReport(t, res.stdout) {
		assert.Equal(t, "created", l.Outcome, "line %d: %s", l.Line, l.Error)
	}
	assert.Len(t, fake.keysHeld(), 24)
}
