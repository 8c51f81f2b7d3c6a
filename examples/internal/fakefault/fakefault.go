// Package fakefault makes subkittest's fake fail by name, so that each
// per-API example can show the SDK's answer to one failure (its -fault flag).
package fakefault

import (
	"slices"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Names lists the faults -fault takes, "none" first. Two are not played by
// Apply: "refused" is a fake seeded so that it refuses the create (see
// package setup), and "invalid" is parameters the SDK refuses (the example
// sends them).
func Names() []string {
	return []string{"none", "rate-limit", "rate-limit-long", "server-error", "reset", "lost-answer",
		"slow", "malformed", "unauthorized", "refused", "invalid"}
}

// Known reports whether name is one of Names.
func Known(name string) bool { return slices.Contains(Names(), name) }

// Apply queues the named fault on srv for api's next request and returns the
// client options the fault needs, to be given after the client's own: a
// credential the fake refuses for "unauthorized", and for "slow" a
// one-second deadline, shorter than the fake's three-second delay.
func Apply(srv *subkittest.Server, api subkit.API, name string) []subkit.Option {
	switch name {
	case "rate-limit":
		srv.InjectFault(api, 1, subkittest.RateLimited("1"))
	case "rate-limit-long":
		srv.InjectFault(api, 1, subkittest.RateLimited("3600"))
	case "server-error":
		srv.InjectFault(api, 1, serverError(api))
	case "reset":
		srv.InjectFault(api, 1, subkittest.CloseBeforeHandling())
	case "lost-answer":
		srv.InjectFault(api, 1, subkittest.CloseAfterHandling())
	case "slow":
		srv.InjectFault(api, 1, subkittest.Delay(3*time.Second))
		return []subkit.Option{subkit.WithTimeout(time.Second)}
	case "malformed":
		srv.InjectFault(api, 1, subkittest.MalformedBody())
	case "unauthorized":
		return []subkit.Option{wrongCredential(api)}
	}
	return nil
}

// serverError is the API's own 5xx, as its gateway answers it.
func serverError(api subkit.API) subkittest.Fault {
	switch api {
	case subkit.ChatDash:
		return subkittest.Respond(503, `{"message":"Service Unavailable"}`)
	case subkit.Chargeflow:
		return subkittest.Respond(502, `{"message":"Internal server error"}`)
	default:
		return subkittest.Respond(502, "<html><body>502 Bad Gateway</body></html>")
	}
}

// wrongCredential replaces the fake's credential for api with one it refuses.
func wrongCredential(api subkit.API) subkit.Option {
	switch api {
	case subkit.ChatDash:
		return subkit.WithAgencyKey("CD.not-the-agency-key")
	case subkit.Chargeflow:
		return subkit.WithChargeflowKey("cf_not_the_key")
	default:
		return subkit.WithOrganizationToken("polar_oat_not_the_token")
	}
}
