package bulk

import "hash/fnv"

// Shard returns which of n shards key belongs to, from 0 to n−1, so that n
// processes can split one input: process i takes the items with
// Shard(item.Key, n) == i. The hash (FNV-1a, 64 bits) is part of the
// contract and never changes, so that every process, and every rerun, splits
// the input the same way. n below 1 is taken as 1.
func Shard(key string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key)) // a hash.Hash never fails to write
	return int(h.Sum64() % uint64(n))
}
