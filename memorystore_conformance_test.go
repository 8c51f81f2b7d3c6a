package subkit_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The store contract on the reference implementation. The instances of one
// subtest are one *MemoryStore, as every Client of a process shares the
// process's store; each subtest gets a new one.
func TestMemoryStoreKeepsTheStoreContract(t *testing.T) {
	subkittest.TestIdempotencyStore(t, subkittest.SharedBackend(func(*testing.T) func() subkit.IdempotencyStore {
		m := subkit.NewMemoryStore()
		return func() subkit.IdempotencyStore { return m }
	}))
}
