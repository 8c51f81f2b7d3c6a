//go:build !unix

package subkit_test

// benchCPUTime is not measured on this platform; the cpu-ns/op metric is then
// omitted.
func benchCPUTime() int64 { return 0 }
