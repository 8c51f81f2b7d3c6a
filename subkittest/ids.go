package subkittest

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/subkit-go/subkit"
)

// newUUID4 returns a random version 4 UUID in canonical form, as Polar makes
// its IDs (and as the fake makes request IDs).
func newUUID4() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// newObjectID returns a MongoDB-style ObjectId: 24 hex characters, the first
// eight the creation time in seconds, as Chargeflow's IDs are.
func newObjectID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], uint32(now.Unix()))
	_, _ = rand.Read(b[4:])
	return hex.EncodeToString(b[:])
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newStripeID returns prefix followed by n random base-62 characters, the
// shape of Stripe's IDs (sub_sched_…, cus_…, price_…).
func newStripeID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = base62[int(b[i])%len(base62)]
	}
	return prefix + string(b)
}

// pyTime writes a time as Pydantic does: UTC, microseconds only when there
// are any, and "Z".
func pyTime(t time.Time) string {
	t = t.UTC().Truncate(time.Microsecond)
	if t.Nanosecond() == 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04:05.000000Z")
}

// isoMillis writes a time as a JavaScript Date's toISOString does, without
// a zero fraction: UTC, at most milliseconds.
func isoMillis(t time.Time) string {
	return t.UTC().Truncate(time.Millisecond).Format("2006-01-02T15:04:05.999Z07:00")
}

// addMonths adds n months the way dateutil's relativedelta and Stripe do:
// the day is clamped to the end of a shorter month (Jan 31 + 1 month = Feb 28).
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// nextPeriod is the end of a billing period of count intervals from start.
func nextPeriod(start time.Time, interval string, count int) time.Time {
	switch interval {
	case "day":
		return start.AddDate(0, 0, count)
	case "week":
		return start.AddDate(0, 0, 7*count)
	case "year":
		return addMonths(start, 12*count)
	case "month":
		return addMonths(start, count)
	}
	panic(fmt.Sprintf("subkittest: unknown recurring interval %q", interval))
}

// requestIDHeader is the header that carries a request's ID in an API's
// answers. Polar sends no request-ID header of its own (its correlation ID
// is only logged, server/polar/middlewares.py); the Cloudflare in front of
// it sends CF-Ray. Chargeflow and ChatDash document none: the fake sends
// X-Request-Id.
func requestIDHeader(api subkit.API) string {
	if api == subkit.Polar {
		return "CF-Ray"
	}
	return "X-Request-Id"
}

// newRequestID makes the ID of a request to api: a CF-Ray for Polar, a
// version 4 UUID for the others.
func (s *Server) newRequestID(api subkit.API) string {
	if api == subkit.Polar {
		return newCFRay(s.colo)
	}
	return newUUID4()
}

// cloudflareColos are airport codes of Cloudflare data centres, one of
// which a server answers from.
var cloudflareColos = []string{"AMS", "CDG", "EWR", "FRA", "IAD", "LHR", "ORD", "SIN", "SJC"}

// newCFRay returns a Cloudflare ray ID: 16 lowercase hex digits, "-" and
// the airport code of the data centre.
func newCFRay(colo string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-" + colo
}

// randomIndex returns a random integer in [0, n).
func randomIndex(n int) int { return mrand.IntN(n) }

// randomDuration returns a duration drawn uniformly from [lo, hi].
func randomDuration(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(mrand.Int64N(int64(hi-lo)+1))
}
