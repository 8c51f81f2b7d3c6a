// Package fakefault gives the per-API examples one way to make subkittest's
// fake fail, by name, so that each example shows the SDK's answer to it.
package fakefault

import (
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Names lists the faults an example's -fault flag takes, "none" first.
// "refused" and "invalid" are the example's own: a seeded refusal and bad
// parameters.
func Names() []string {
	return []string{"none", "rate-limit", "rate-limit-long", "server-error", "reset", "lost-answer",
		"slow", "malformed", "unauthorized", "refused", "invalid"}
}

// Setup is how one API's example fails on the fake.
type Setup struct {
	API       subkit.API
	UserAgent string
	// ServerError is the API's own 5xx answer.
	ServerError subkittest.Fault
	// WrongCredential replaces the fake's credential with one it refuses.
	WrongCredential subkit.Option
}

// Client queues the named fault on srv for the API's next request and
// returns a client of srv with the example's policy. "slow" shortens
// *timeout to one second, below the fake's three-second delay.
func (s Setup) Client(srv *subkittest.Server, fault string, timeout *time.Duration) (*subkit.Client, error) {
	opts := []subkit.Option{subkit.WithUserAgent(s.UserAgent),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})}
	switch fault {
	case "rate-limit":
		srv.InjectFault(s.API, 1, subkittest.RateLimited("1"))
	case "rate-limit-long":
		srv.InjectFault(s.API, 1, subkittest.RateLimited("3600"))
	case "server-error":
		srv.InjectFault(s.API, 1, s.ServerError)
	case "reset":
		srv.InjectFault(s.API, 1, subkittest.CloseBeforeHandling())
	case "lost-answer":
		srv.InjectFault(s.API, 1, subkittest.CloseAfterHandling())
	case "slow":
		*timeout = time.Second
		srv.InjectFault(s.API, 1, subkittest.Delay(3*time.Second))
	case "malformed":
		srv.InjectFault(s.API, 1, subkittest.MalformedBody())
	case "unauthorized":
		opts = append(opts, s.WrongCredential)
	}
	opts = append(opts, subkit.WithTimeout(*timeout))
	return srv.Client(opts...)
}
