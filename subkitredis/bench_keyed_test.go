package subkitredis_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/chaos"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
)

// BenchmarkKeyedCreate is what exactly-once costs a Polar create on the
// memory store and on Redis, against a create without a key: time,
// requests and store calls per create (chaos.BenchKeyedCreate).
func BenchmarkKeyedCreate(b *testing.B) {
	chaos.BenchKeyedCreate(b, []chaos.BenchStore{
		{Name: "memory", New: func(*testing.B) subkit.IdempotencyStore { return subkit.NewMemoryStore() }},
		{Name: "redis", New: func(b *testing.B) subkit.IdempotencyStore {
			return subkitredis.NewStore(redistest.NewServer(b).NewClient())
		}},
	})
}
