package subkit_test

// Paired benchmarks: the SDK and the baseline take turns in short chunks
// within one benchmark, so that both meet the same machine load. On a busy or
// shared machine the separate .../sdk and .../baseline benchmarks run seconds
// apart and their ratio drifts with whatever else runs; the paired ratio
// (the median over chunk pairs) does not. scripts/bench judges the time and
// throughput lines of the budget on these ratios and shows the separate ones
// beside them.

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// benchChunk is how many calls one side makes before the other takes its
// turn: long enough to hold a garbage collection cycle's cost where it was
// caused, short enough (a few milliseconds) to follow changes in load.
const benchChunk = 32

// BenchmarkCreatePaired makes one SDK call and one baseline call per op,
// alternating in chunks (and alternating which side starts). sdk/base is the
// median, over chunk pairs, of the SDK's time divided by the baseline's.
func BenchmarkCreatePaired(b *testing.B) {
	srv := benchStartServer(b)
	for _, call := range benchCalls() {
		b.Run(call.name, func(b *testing.B) {
			ctx := context.Background()
			sdk, base := benchBindPair(b, call, srv)
			run := func(s benchSide, n int) time.Duration {
				start := time.Now()
				for range n {
					if _, err := s.run(ctx); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			var (
				ratios         []float64
				totalS, totalB time.Duration
			)
			b.ResetTimer()
			for done, turn := 0, 0; done < b.N; turn++ {
				n := min(benchChunk, b.N-done)
				var ts, tb time.Duration
				if turn%2 == 0 {
					ts, tb = run(sdk, n), run(base, n)
				} else {
					tb, ts = run(base, n), run(sdk, n)
				}
				totalS, totalB = totalS+ts, totalB+tb
				ratios = append(ratios, float64(ts)/float64(tb))
				done += n
			}
			b.StopTimer()
			b.ReportMetric(float64(totalS.Nanoseconds())/float64(b.N), "sdk-ns/call")
			b.ReportMetric(float64(totalB.Nanoseconds())/float64(b.N), "base-ns/call")
			b.ReportMetric(benchMedian(ratios), "sdk/base")
		})
	}
}

// BenchmarkCreateParallelPaired runs callers goroutines of one side, then of
// the other, in turns of 8 calls per goroutine, with one client per side kept
// across turns. tput-sdk/base is the median, over turn pairs, of the SDK's
// throughput divided by the baseline's. One op is one call on each side.
func BenchmarkCreateParallelPaired(b *testing.B) {
	srv := benchStartServer(b)
	for _, call := range benchCalls()[:4] {
		for _, callers := range []int{16, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", call.name, callers), func(b *testing.B) {
				ctx := context.Background()
				sdk, base := benchBindPair(b, call, srv)
				var (
					failed   atomic.Bool
					firstErr error
					once     sync.Once
				)
				turn := func(s benchSide, n int) time.Duration {
					var wg sync.WaitGroup
					start := time.Now()
					for g := range callers {
						calls := n / callers
						if g < n%callers {
							calls++
						}
						if calls == 0 {
							break
						}
						wg.Add(1)
						go func() {
							defer wg.Done()
							for range calls {
								if _, err := s.run(ctx); err != nil {
									once.Do(func() { firstErr = err })
									failed.Store(true)
									return
								}
							}
						}()
					}
					wg.Wait()
					return time.Since(start)
				}
				var (
					ratios         []float64
					totalS, totalB time.Duration
				)
				b.ResetTimer()
				for done, t := 0, 0; done < b.N && !failed.Load(); t++ {
					n := min(8*callers, b.N-done)
					var ts, tb time.Duration
					if t%2 == 0 {
						ts, tb = turn(sdk, n), turn(base, n)
					} else {
						tb, ts = turn(base, n), turn(sdk, n)
					}
					totalS, totalB = totalS+ts, totalB+tb
					ratios = append(ratios, float64(tb)/float64(ts))
					done += n
				}
				b.StopTimer()
				if failed.Load() {
					b.Fatal(firstErr)
				}
				b.ReportMetric(float64(b.N)/totalS.Seconds(), "sdk-calls/s")
				b.ReportMetric(float64(b.N)/totalB.Seconds(), "base-calls/s")
				b.ReportMetric(benchMedian(ratios), "tput-sdk/base")
			})
		}
	}
}

// benchBindPair binds both sides to srv, connects each once, and closes their
// idle connections when the benchmark ends.
func benchBindPair(b *testing.B, call benchCall, srv *benchServer) (sdk, base benchSide) {
	sdk, base = call.bind(b, "sdk", benchAt(srv)), call.bind(b, "baseline", benchAt(srv))
	b.Cleanup(sdk.close)
	b.Cleanup(base.close)
	for _, s := range []benchSide{sdk, base} {
		if _, err := s.run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	return sdk, base
}

func benchMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
