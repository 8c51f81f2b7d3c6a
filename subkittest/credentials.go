package subkittest

import "github.com/subkit-go/subkit"

// The credentials a fresh server accepts, one per API. Server.Client
// configures them; raw net/http tests send them in each API's header:
//
//	ChatDash:   Authorization: <AgencyKey>            (no "Bearer ")
//	Chargeflow: x-api-key: <ChargeflowKey>
//	Polar:      Authorization: Bearer <PolarToken>
const (
	AgencyKey     = "CD.0123456789abcdef0123456789abcdef"
	ChargeflowKey = "cf_test_0123456789abcdef0123456789abcdef"
	PolarToken    = "polar_oat_subkittest0123456789ABCDEFGHIJKLMNOPQ"
)

// AddCredential makes the server accept key as a valid credential for api,
// besides the default one. It panics if api is not ChatDash, Chargeflow or
// Polar.
func (s *Server) AddCredential(api subkit.API, key string) {
	s.checkAPI(api)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[api][key] = true
}

func (s *Server) validCredential(api subkit.API, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return key != "" && s.creds[api][key]
}

// known reports whether key is a valid credential for the exchange's API.
func (x *exchange) known(key string) bool { return x.s.validCredential(x.rec.API, key) }
