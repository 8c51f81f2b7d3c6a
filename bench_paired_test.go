package subkit_test

// Paired benchmarks: the SDK and the two baselines take turns in short chunks
// within one benchmark, so that all meet the same machine load. On a busy or
// shared machine the separate .../sdk and .../baseline benchmarks run seconds
// apart and their ratio drifts with whatever else runs; the paired ratio
// (the median over rounds of chunks) does not. scripts/bench judges the time and
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

// benchChunk is how many calls one side makes before the next takes its
// turn: long enough to hold a garbage collection cycle's cost where it was
// caused, short enough (a few milliseconds) to follow changes in load.
const benchChunk = 32

// BenchmarkCreatePaired makes one call on each side per op (SDK, baseline,
// no-deadline baseline), in rounds of one chunk per side, the order changing
// from round to round (benchRoundOrders). sdk/base is the median, over
// rounds, of the SDK's time divided by the baseline's; sdk/base-nodl the same
// against the no-deadline baseline.
func BenchmarkCreatePaired(b *testing.B) {
	srv := benchStartServer(b)
	for _, call := range benchCalls() {
		b.Run(call.name, func(b *testing.B) {
			ctx := context.Background()
			sides := benchBindSides(b, call, srv)
			run := func(s benchSide, n int) time.Duration {
				start := time.Now()
				for range n {
					if _, err := s.run(ctx); err != nil {
						b.Fatal(err)
					}
				}
				return time.Since(start)
			}
			r := newBenchRounds()
			b.ResetTimer()
			for done, turn := 0, 0; done < b.N; turn++ {
				n := min(benchChunk, b.N-done)
				r.round(turn, func(i int) time.Duration { return run(sides[i], n) })
				done += n
			}
			b.StopTimer()
			for i, name := range benchSideMetrics {
				b.ReportMetric(float64(r.total[i].Nanoseconds())/float64(b.N), name+"-ns/call")
			}
			b.ReportMetric(r.ratio(0, 1), "sdk/base")
			b.ReportMetric(r.ratio(0, 2), "sdk/base-nodl")
		})
	}
}

// BenchmarkCreateParallelPaired runs callers goroutines of one side, then of
// the next, in turns of 8 calls per goroutine (SDK, baseline, no-deadline
// baseline, in the orders of benchRoundOrders), with one client per side kept
// across turns. tput-sdk/base is the median, over rounds, of the SDK's throughput
// divided by the baseline's; tput-sdk/base-nodl the same against the
// no-deadline baseline. One op is one call on each side.
func BenchmarkCreateParallelPaired(b *testing.B) {
	srv := benchStartServer(b)
	for _, call := range benchCalls()[:4] {
		for _, callers := range []int{16, 64} {
			b.Run(fmt.Sprintf("%s/callers=%d", call.name, callers), func(b *testing.B) {
				ctx := context.Background()
				sides := benchBindSides(b, call, srv)
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
				r := newBenchRounds()
				b.ResetTimer()
				for done, t := 0, 0; done < b.N && !failed.Load(); t++ {
					n := min(8*callers, b.N-done)
					r.round(t, func(i int) time.Duration { return turn(sides[i], n) })
					done += n
				}
				b.StopTimer()
				if failed.Load() {
					b.Fatal(firstErr)
				}
				for i, name := range benchSideMetrics {
					b.ReportMetric(float64(b.N)/r.total[i].Seconds(), name+"-calls/s")
				}
				// The throughput ratio is the other side's time over the SDK's.
				b.ReportMetric(r.ratio(1, 0), "tput-sdk/base")
				b.ReportMetric(r.ratio(2, 0), "tput-sdk/base-nodl")
			})
		}
	}
}

// benchSideMetrics name the sides of benchBindSides in metric units.
var benchSideMetrics = []string{"sdk", "base", "base-nodl"}

// benchBindSides binds the SDK, the baseline and the no-deadline baseline (as
// sides 0, 1 and 2) to srv, connects each once, and closes their idle connections
// when the benchmark ends.
func benchBindSides(b *testing.B, call benchCall, srv *benchServer) []benchSide {
	var sides []benchSide
	for _, impl := range []string{benchSDK, benchBase, benchBaseNoDeadline} {
		s := call.bind(b, impl, benchAt(srv))
		b.Cleanup(s.close)
		if _, err := s.run(context.Background()); err != nil {
			b.Fatal(err)
		}
		sides = append(sides, s)
	}
	return sides
}

// benchRounds collects the times of rounds in which every side takes one
// turn: times[i] holds side i's time in each round, total[i] their sum.
type benchRounds struct {
	times [][]time.Duration
	total []time.Duration
}

func newBenchRounds() *benchRounds {
	return &benchRounds{times: make([][]time.Duration, 3), total: make([]time.Duration, 3)}
}

// benchRoundOrders are the orders in which the three sides (0 the SDK, 1 the
// baseline, 2 the no-deadline baseline) take their turns, round after round:
// all six, so that each side holds each place as often, runs before each
// other side as often, and follows each other side as often; and never the
// same side twice in a row across rounds, so that no side gets a warm or a
// cold start more often than another.
var benchRoundOrders = [6][3]int{{0, 1, 2}, {1, 2, 0}, {2, 0, 1}, {0, 2, 1}, {2, 1, 0}, {1, 0, 2}}

// round runs every side once through run, in the n-th order of
// benchRoundOrders.
func (r *benchRounds) round(n int, run func(side int) time.Duration) {
	for _, i := range benchRoundOrders[n%len(benchRoundOrders)] {
		t := run(i)
		r.times[i] = append(r.times[i], t)
		r.total[i] += t
	}
}

// ratio is the median, over rounds, of side i's time divided by side j's.
func (r *benchRounds) ratio(i, j int) float64 {
	xs := make([]float64, len(r.times[i]))
	for k := range xs {
		xs[k] = float64(r.times[i][k]) / float64(r.times[j][k])
	}
	return benchMedian(xs)
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
