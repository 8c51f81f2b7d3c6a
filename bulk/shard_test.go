package bulk_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/subkit-go/subkit/bulk"
)

func TestShardIsStableAndEven(t *testing.T) {
	assert.Equal(t, 0, bulk.Shard("anything", 1))
	assert.Equal(t, 0, bulk.Shard("anything", 0))
	// The hash is part of the contract: these never change.
	assert.Equal(t, []int{0, 2, 2, 0}, []int{bulk.Shard("user-00000", 3), bulk.Shard("user-00001", 3),
		bulk.Shard("user-00002", 3), bulk.Shard("65f0c1d2e3a4b5c6d7e8f901", 3)})
	n := [3]int{}
	for i := range 3000 {
		n[bulk.Shard(user(i), 3)]++
	}
	for s, c := range n {
		assert.InDelta(t, 1000, c, 100, "shard %d", s)
	}
}
