package subkit

// API names one of the three billing APIs a Client talks to.
type API string

// The APIs subkit knows. An API value outside this list makes WithBaseURL fail.
const (
	ChatDash   API = "chatdash"   // ChatDash Stripe Connect API, agency key
	Chargeflow API = "chargeflow" // Chargeflow Merchants API, API key
	Polar      API = "polar"      // Polar API, organization access token
)

// apiSpec is the one table of what differs between the APIs on the wire: where
// the credential goes, where the server is, and which environment variable
// WithEnv reads. Everything else goes through the same pipeline.
type apiSpec struct {
	index       int
	defaultBase string
	credHeader  string
	credPrefix  string
	envVar      string
	optionName  string
	// errorIsCode: a string "error" in an error body is a machine code
	// (Polar), not a human message (ChatDash, Chargeflow).
	errorIsCode bool
	// version pins the API version the request and response types were
	// written for, so a server-side default change cannot alter them.
	versionHeader, version string
}

const numAPIs = 3

const polarSandboxBase = "https://sandbox-api.polar.sh"

func specFor(api API) (apiSpec, bool) {
	switch api {
	case ChatDash:
		return apiSpec{index: 0, defaultBase: "https://api.chat-dash.com",
			credHeader: "Authorization", envVar: "CHATDASH_AGENCY_KEY", optionName: "WithAgencyKey"}, true
	case Chargeflow:
		return apiSpec{index: 1, defaultBase: "https://api.chargeflow.io",
			credHeader: "x-api-key", envVar: "CHARGEFLOW_API_KEY", optionName: "WithChargeflowKey"}, true
	case Polar:
		return apiSpec{index: 2, defaultBase: "https://api.polar.sh",
			credHeader: "Authorization", credPrefix: "Bearer ", envVar: "POLAR_ACCESS_TOKEN",
			optionName: "WithOrganizationToken", errorIsCode: true, versionHeader: "Polar-Version", version: "2026-04"}, true
	}
	return apiSpec{}, false
}

func allAPIs() [numAPIs]API { return [numAPIs]API{ChatDash, Chargeflow, Polar} }
