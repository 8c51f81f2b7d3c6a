package subkitsql_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain runs the child of the kill -9 tests when the environment asks
// for it (killtest_test.go), and otherwise the tests, failing the binary if
// any goroutine outlives them: a connection or a lease keeper left running
// is a bug, not noise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m)
}
