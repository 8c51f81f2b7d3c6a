package bulk_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

// BenchmarkRun measures a fresh run of 1,000 Polar creates against the
// unpaced fake over loopback, per concurrency: creates a second, and
// requests a create (one POST each plus a look-up per 100 keys). Each fake
// is new, so its client's store may say that no earlier run sent it
// anything: no resume wait.
func BenchmarkRun(b *testing.B) {
	const n = 1000
	for _, conc := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			var elapsed time.Duration
			requests := 0
			for range b.N {
				b.StopTimer()
				f := newPolarFake(b, n)
				c := f.client(b)
				b.StartTimer()
				start := time.Now()
				for r := range bulk.Run(context.Background(), c, f.items(0, n), bulk.Options{Concurrency: conc, StoreRemembersEarlierRuns: true}) {
					if r.Outcome != bulk.Created {
						b.Fatalf("item %d: %s %v", r.Index, r.Outcome, r.Err)
					}
				}
				elapsed += time.Since(start)
				b.StopTimer()
				requests += len(f.Requests(subkit.Polar))
				f.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(n*b.N)/elapsed.Seconds(), "creates/s")
			b.ReportMetric(float64(requests)/float64(n*b.N), "requests/create")
		})
	}
}
