package pgtest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's test binary if any goroutine outlives its
// tests: a connection or a process waiter left running is a bug, not noise.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
