package subkitredis_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// The Redis store keeps the store contract: each subtest on a prefix of its
// own of one redis-server, each instance with its own connections, as the
// processes of a fleet would have.
func TestRedisKeepsTheStoreContract(t *testing.T) {
	rdb := redistest.NewServer(t)
	var n atomic.Int64
	subkittest.TestIdempotencyStore(t, subkittest.SharedBackend(func(t *testing.T) func() subkit.IdempotencyStore {
		prefix := fmt.Sprintf("conformance-%d:", n.Add(1))
		return func() subkit.IdempotencyStore {
			st, err := subkitredis.NewStoreWithOptions(rdb.NewClient(), subkitredis.StoreOptions{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}
	}))
}
