package bulk_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a run
// must end every worker it starts.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
