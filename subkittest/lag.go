package subkittest

import (
	"fmt"
	"time"

	"github.com/subkit-go/subkit"
)

// lagRange is the read lag of an API's creates: drawn per create from
// [min, max].
type lagRange struct{ min, max time.Duration }

// WithReadLag makes every create on api visible to look-ups only a while
// after it was applied: a lag drawn per create, uniformly from [min, max]
// (min == max for a fixed lag). Until its lag has passed, the create is
// held — the accessors (PolarSubscriptions, …), which read the primary,
// list it — but no look-up finds it: Polar's list and get, Chargeflow's
// dispute look-up (which answers the dispute's previous subscription, or
// none), ChatDash's list and get.
//
// This is how Polar serves look-ups: its list and get read a read replica
// (get_db_read_session in server/polar/subscription/endpoints.py), which
// trails the primary a create commits on by the replication lag, usually
// under a second and unbounded under load. Chargeflow and ChatDash
// document nothing either way. The lag is measured on the server's clock
// (WithClock), so a test can step it. It panics if api is not one of the
// three, min is negative or max is below min.
func WithReadLag(api subkit.API, min, max time.Duration) ServerOption {
	return func(s *Server) {
		s.checkAPI(api)
		if min < 0 || max < min {
			panic(fmt.Sprintf("subkittest: WithReadLag(%s, %s, %s): want 0 <= min <= max", api, min, max))
		}
		s.lags[api] = lagRange{min, max}
	}
}

// ReadLag handles the request and answers it as usual (a valid create is
// applied, and the accessors list it at once), but keeps what it created
// invisible to look-ups for d after it was applied, instead of the
// server's WithReadLag: the create was answered, and a look-up on a read
// replica does not find it yet. For a look-up ReadLag changes nothing.
func ReadLag(d time.Duration) Fault {
	return Fault{name: "read lag " + d.String(), play: func(x *exchange) {
		x.lag = &d
		o := x.handle()
		x.apply(o)
		x.write(o)
	}}
}

// readLag draws the lag of a create to api: the fault's when it has one.
// It runs with the lock held.
func (s *Server) readLag(api subkit.API, fault *time.Duration) time.Duration {
	if fault != nil {
		return *fault
	}
	l := s.lags[api]
	return randomDuration(l.min, l.max)
}

// visible returns the subscriptions of api that look-ups see at now, past
// their read lag, oldest first. A Chargeflow subscription that a later
// create replaced is among them: its dispute's look-up answers the newest
// one visible. The copies are shallow — a stored body never changes once
// applied, and only its replacedBy does, which the copy takes as it is now —
// so that a look-up costs no deep copy of everything the server holds. It
// runs with the lock held.
func (s *Server) visible(api subkit.API, now time.Time) []*stored {
	var out []*stored
	for _, st := range s.subs {
		if st.api == api && !st.visibleAt.After(now) {
			c := *st
			out = append(out, &c)
		}
	}
	return out
}
