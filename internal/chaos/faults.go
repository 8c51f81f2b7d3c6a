package chaos

import (
	"math/rand/v2"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The exactly-once runs scale Polar's times down: an attempt times out
// after OnceAttemptTimeout, and a late commit lands 20 ms after that, well
// within the settle time the runs give look-ups.
const (
	OnceAttemptTimeout = 60 * time.Millisecond
	OnceLateCommit     = OnceAttemptTimeout + 20*time.Millisecond
)

// WeightedFault is a fault and how often, against the others, a request
// meets it.
type WeightedFault struct {
	Weight int
	Fault  subkittest.Fault
}

// OnceFaults is what a request of an exactly-once run meets: mostly
// nothing, else a fault on whichever request comes (a create or a look-up).
func OnceFaults() []WeightedFault {
	return []WeightedFault{
		{24, subkittest.Delay(0)},
		{1, subkittest.RateLimited("0")},
		{1, subkittest.RateLimited("")},
		{1, subkittest.Respond(503, `{"message":"Service Unavailable"}`)},
		{1, subkittest.RespondAfterHandling(500, `{"message":"Internal Server Error"}`)},
		{1, subkittest.CloseBeforeHandling()},
		{1, subkittest.CloseAfterHandling()},
		{1, subkittest.Delay(3 * OnceAttemptTimeout)}, // applied at once, answered after the attempt gave up
		{1, subkittest.CommitLate(OnceLateCommit)},
		{1, subkittest.MalformedBody()},
	}
}

// InjectFaults queues n faults drawn from faults by their weights for api's
// next requests.
func InjectFaults(srv *subkittest.Server, api subkit.API, rng *rand.Rand, faults []WeightedFault, n int) {
	total := 0
	for _, f := range faults {
		total += f.Weight
	}
	for range n {
		r := rng.IntN(total)
		for _, f := range faults {
			if r < f.Weight {
				srv.InjectFault(api, 1, f.Fault)
				break
			}
			r -= f.Weight
		}
	}
}
