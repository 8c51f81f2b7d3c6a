package subkittest

import (
	"context"
	"strings"
	"testing"

	"github.com/subkit-go/subkit"
)

func TestAddCredential(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddCredential(subkit.Polar, "polar_pat_second")
	c := newClient(t, s, subkit.WithOrganizationToken("polar_pat_second"))
	if _, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams()); err != nil {
		t.Fatal(err)
	}
	// Credentials do not cross APIs.
	c = newClient(t, s, subkit.WithAgencyKey("polar_pat_second"))
	if _, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams()); err == nil {
		t.Errorf("a Polar token worked for ChatDash")
	}
}

// A read-only token passes the look-ups and is refused the create with
// Authlib's 403 (server/polar/subscription/auth.py); a token with neither
// scope is refused both.
func TestPolarScopes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddCredential(subkit.Polar, "polar_oat_reader", ScopeSubscriptionsRead)
	s.AddCredential(subkit.Polar, "polar_oat_other", "customers:read")
	id := idOf(t, createPolarRaw(t, s, rawCreates[subkit.Polar].body))
	rc := rawCreates[subkit.Polar]
	reader := headers(rc.header, "Authorization", "Bearer polar_oat_reader")
	for _, path := range []string{"/v1/subscriptions/", "/v1/subscriptions/" + id} {
		if got := get(t, s.URL()+path, reader); got.status != 200 {
			t.Errorf("read-only GET %s: %d %s", path, got.status, got.body)
		}
	}
	const description = "The request requires higher privileges than provided by the access token."
	got := post(t, s.URL()+rc.path, reader, rc.body)
	expectAnswer(t, got, 403, `{"error": "insufficient_scope", "error_description": "`+description+`"}`)
	for k, want := range map[string]string{
		"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache",
		"WWW-Authenticate": `Bearer realm="polar", scope="subscriptions:write", error="insufficient_scope", error_description="` + description + `"`,
	} {
		if got.header.Get(k) != want {
			t.Errorf("403 %s: %q, want %q", k, got.header.Get(k), want)
		}
	}
	got = get(t, s.URL()+"/v1/subscriptions/"+id, headers(rc.header, "Authorization", "Bearer polar_oat_other"))
	expectAnswer(t, got, 403, `{"error": "insufficient_scope", "error_description": "`+description+`"}`)
	if !strings.Contains(got.header.Get("WWW-Authenticate"), `scope="subscriptions:read subscriptions:write"`) {
		t.Errorf("WWW-Authenticate %q", got.header.Get("WWW-Authenticate"))
	}
	// Through the SDK: a refusal, not retried, nothing created.
	c := newClient(t, s, subkit.WithOrganizationToken("polar_oat_reader"))
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	if ae := apiError(t, err); ae.StatusCode != 403 || ae.Code != "insufficient_scope" || ae.Attempts != 1 {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Polar, 1)
	// The default token has both scopes; so has a token added without any.
	s.AddCredential(subkit.Polar, "polar_oat_both")
	if got := post(t, s.URL()+rc.path, headers(rc.header, "Authorization", "Bearer polar_oat_both"), rc.body); got.status != 201 {
		t.Errorf("a token added without scopes: %d %s", got.status, got.body)
	}
	// Adding a key again replaces its scopes.
	s.AddCredential(subkit.Polar, "polar_oat_both", ScopeSubscriptionsRead)
	if got := post(t, s.URL()+rc.path, headers(rc.header, "Authorization", "Bearer polar_oat_both"), rc.body); got.status != 403 {
		t.Errorf("a token made read-only: %d %s", got.status, got.body)
	}
}

func TestAddCredentialPanicsOnScopesForKeysWithout(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: scopes did not panic", api)
				}
			}()
			s.AddCredential(api, "key", ScopeSubscriptionsRead)
		}()
	}
}
