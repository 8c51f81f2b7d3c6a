package subkitredis_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's test binary if any goroutine outlives its
// tests: a Redis client, an HTTP connection or a lease keeper left running
// is a bug, not noise.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
