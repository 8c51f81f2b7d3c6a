package subkittest

import (
	"fmt"

	"github.com/subkit-go/subkit"
)

// The credentials a fresh server accepts, one per API. Server.Client
// configures them; raw net/http tests send them in each API's header:
//
//	ChatDash:   Authorization: <AgencyKey>            (no "Bearer ")
//	Chargeflow: x-api-key: <ChargeflowKey>
//	Polar:      Authorization: Bearer <PolarToken>
//
// PolarToken has the scopes subscriptions:read, subscriptions:write,
// webhooks:read and webhooks:write.
const (
	AgencyKey     = "CD.0123456789abcdef0123456789abcdef"
	ChargeflowKey = "cf_test_0123456789abcdef0123456789abcdef"
	PolarToken    = "polar_oat_subkittest0123456789ABCDEFGHIJKLMNOPQ"
)

// The Polar scopes the subscription endpoints check
// (server/polar/subscription/auth.py): a create needs
// ScopeSubscriptionsWrite; the list and get need either.
const (
	ScopeSubscriptionsRead  = "subscriptions:read"
	ScopeSubscriptionsWrite = "subscriptions:write"
)

// credential is what the server knows of a valid key: for Polar, its
// token's scopes.
type credential struct {
	scopes map[string]bool
}

func polarCredential(scopes []string) *credential {
	if len(scopes) == 0 {
		scopes = []string{ScopeSubscriptionsRead, ScopeSubscriptionsWrite, ScopeWebhooksRead, ScopeWebhooksWrite}
	}
	c := &credential{scopes: map[string]bool{}}
	for _, sc := range scopes {
		c.scopes[sc] = true
	}
	return c
}

// hasAny reports whether the credential has at least one of the scopes.
func (c *credential) hasAny(scopes ...string) bool {
	for _, sc := range scopes {
		if c.scopes[sc] {
			return true
		}
	}
	return false
}

// AddCredential makes the server accept key as a valid credential for api,
// besides the default one; adding a key again replaces its scopes.
//
// scopes are a Polar token's (ScopeSubscriptionsRead,
// ScopeSubscriptionsWrite, ScopeWebhooksRead, ScopeWebhooksWrite, or any
// other Polar scope, which the fake's endpoints ignore); none gives every
// scope PolarToken has. A token with subscriptions:read only passes the list and get and
// is refused the create with 403 insufficient_scope. It panics if api is
// not ChatDash, Chargeflow or Polar, or if scopes are given for ChatDash
// or Chargeflow, whose keys have none.
func (s *Server) AddCredential(api subkit.API, key string, scopes ...string) {
	s.checkAPI(api)
	c := &credential{}
	switch {
	case api == subkit.Polar:
		c = polarCredential(scopes)
	case len(scopes) > 0:
		panic(fmt.Sprintf("subkittest: AddCredential: %s keys have no scopes", api))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[api][key] = c
}

// credentialFor returns the valid credential key is for api, nil if none.
func (s *Server) credentialFor(api subkit.API, key string) *credential {
	if key == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creds[api][key]
}

// known reports whether key is a valid credential for the exchange's API.
func (x *exchange) known(key string) bool { return x.s.credentialFor(x.rec.API, key) != nil }
