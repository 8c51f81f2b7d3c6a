package subkitredis_test

import (
	"time"

	"github.com/subkit-go/subkit/subkittest"
)

// The fleet runs scale Polar's times down as the root package's
// exactly-once chaos does.
const (
	onceAttemptTimeout = 60 * time.Millisecond
	onceSettleTime     = 400 * time.Millisecond
	onceReadLag        = 300 * time.Millisecond
	onceLateCommit     = onceAttemptTimeout + 20*time.Millisecond
)

type chaosFault struct {
	weight int
	fault  subkittest.Fault
}

// onceFaults is what a request meets: mostly nothing, else a fault on
// whichever request comes (a create or a look-up).
func onceFaults() []chaosFault {
	return []chaosFault{
		{24, subkittest.Delay(0)},
		{1, subkittest.RateLimited("0")},
		{1, subkittest.RateLimited("")},
		{1, subkittest.Respond(503, `{"message":"Service Unavailable"}`)},
		{1, subkittest.RespondAfterHandling(500, `{"message":"Internal Server Error"}`)},
		{1, subkittest.CloseBeforeHandling()},
		{1, subkittest.CloseAfterHandling()},
		{1, subkittest.Delay(3 * onceAttemptTimeout)},
		{1, subkittest.CommitLate(onceLateCommit)},
		{1, subkittest.MalformedBody()},
	}
}
