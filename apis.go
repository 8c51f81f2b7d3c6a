package subkit

import (
	"strings"
	"time"
)

// API names one of the three billing APIs a Client talks to.
type API string

// The APIs subkit knows (see APIs). An API value outside this list makes
// WithBaseURL fail.
const (
	ChatDash   API = "chatdash"   // ChatDash Stripe Connect API, agency key
	Chargeflow API = "chargeflow" // Chargeflow Merchants API, API key
	Polar      API = "polar"      // Polar API, organization access token
)

// APIInfo is one row of the SDK's table of APIs: what other packages (the
// fakes in subkittest, package bulk, the command) and callers need to know
// of an API without naming it in a list of their own.
type APIInfo struct {
	// API is the API's name in this package.
	API API
	// Name is the API's name as its vendor writes it, for messages.
	Name string
	// EnvVar is the environment variable WithEnv reads its credential from.
	EnvVar string
	// CredentialOption names the Option that sets its credential.
	CredentialOption string
	// CredentialHeader and CredentialPrefix say where the credential goes:
	// "<CredentialHeader>: <CredentialPrefix><credential>".
	CredentialHeader, CredentialPrefix string
	// BaseURL is the production server; SandboxBaseURL its sandbox, "" when
	// the API has none.
	BaseURL, SandboxBaseURL string
	// PathPrefix starts the path of every endpoint of the API (the longest
	// matching prefix decides; see APIForPath).
	PathPrefix string
	// Keyed reports whether a create can be keyed (WithIdempotencyKey):
	// whether the API shows a create again by something the SDK can look
	// up.
	Keyed bool
	// Rates are the API's published limits, per host, by which the SDK
	// paces the API's own servers when no Limiter is given; nil when it
	// publishes none.
	Rates []HostRate
}

// HostRate is a published rate limit of one host: at most Events requests
// per Per, counted in fixed windows.
type HostRate struct {
	Host   string
	Events int
	Per    time.Duration
}

// apiSpec is the table's row with what only the SDK's own pipeline reads.
type apiSpec struct {
	APIInfo
	index int
	// errorIsCode: a string "error" in an error body is a machine code
	// (Polar), not a human message (ChatDash, Chargeflow).
	errorIsCode bool
	// version pins the API version the request and response types were
	// written for, so a server-side default change cannot alter them.
	versionHeader, version string
}

const numAPIs = 3

// Polar's published limits, per organization: requests per minute.
const (
	PolarRateLimit        = 500 // production
	PolarSandboxRateLimit = 100 // sandbox
)

// apiTable is the one table of what differs between the APIs. Everything
// else goes through the same pipeline; adding an API is a row here and its
// own file of calls.
func apiTable() [numAPIs]apiSpec {
	return [numAPIs]apiSpec{
		{index: 0, APIInfo: APIInfo{API: ChatDash, Name: "ChatDash", EnvVar: "CHATDASH_AGENCY_KEY", CredentialOption: "WithAgencyKey",
			CredentialHeader: "Authorization", BaseURL: "https://api.chat-dash.com", PathPrefix: "/v1/public/"}},
		{index: 1, APIInfo: APIInfo{API: Chargeflow, Name: "Chargeflow", EnvVar: "CHARGEFLOW_API_KEY", CredentialOption: "WithChargeflowKey",
			CredentialHeader: "x-api-key", BaseURL: "https://api.chargeflow.io", PathPrefix: "/public/", Keyed: true}},
		{index: 2, APIInfo: APIInfo{API: Polar, Name: "Polar", EnvVar: "POLAR_ACCESS_TOKEN", CredentialOption: "WithOrganizationToken",
			CredentialHeader: "Authorization", CredentialPrefix: "Bearer ",
			BaseURL: "https://api.polar.sh", SandboxBaseURL: "https://sandbox-api.polar.sh", PathPrefix: "/v1/", Keyed: true,
			Rates: []HostRate{{"api.polar.sh", PolarRateLimit, time.Minute}, {"sandbox-api.polar.sh", PolarSandboxRateLimit, time.Minute}}},
			errorIsCode: true, versionHeader: "Polar-Version", version: "2026-04"},
	}
}

func specFor(api API) (apiSpec, bool) {
	for _, s := range apiTable() {
		if s.API == api {
			return s, true
		}
	}
	return apiSpec{}, false
}

func allAPIs() [numAPIs]API { return [numAPIs]API{ChatDash, Chargeflow, Polar} }

// APIs returns the table of the APIs subkit knows, in a fixed order; the
// slice is the caller's.
func APIs() []APIInfo {
	t := apiTable()
	out := make([]APIInfo, len(t))
	for i, s := range t {
		out[i] = s.APIInfo
	}
	return out
}

// Info returns api's row of the table; false for an API subkit does not
// know.
func (api API) Info() (APIInfo, bool) {
	s, ok := specFor(api)
	return s.APIInfo, ok
}

// APIForPath tells which API an escaped request path belongs to: the API
// whose PathPrefix is the longest that starts it. False when none does —
// never a guess.
func APIForPath(path string) (API, bool) {
	best, found := apiSpec{}, false
	for _, s := range apiTable() {
		if strings.HasPrefix(path, s.PathPrefix) && len(s.PathPrefix) > len(best.PathPrefix) {
			best, found = s, true
		}
	}
	return best.API, found
}
