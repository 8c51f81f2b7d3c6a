package subkit_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

func assertPolarHeaders(t *testing.T, r recorded) {
	t.Helper()
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, polarCreateURL, r.URL, "the trailing slash matters: without it Polar redirects")
	assert.Equal(t, "Bearer "+testPolarToken, r.Header.Get("Authorization"))
	assert.Equal(t, "2026-04", r.Header.Get("Polar-Version"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Empty(t, r.Header.Get("x-api-key"))
}

func TestCreateForCustomerSendsTheDocumentedRequest(t *testing.T) {
	cases := []struct {
		name   string
		params *subkit.CustomerSubscriptionParams
		body   string
	}{
		{"full", &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID,
			Metadata: subkit.Metadata{"reference_id": "ABC123", "seats_hint": 3, "ratio": 0.75, "vip": true,
				"big": uint64(18446744073709551615), "small": int8(-5), "f32": float32(0.5)}},
			`{"product_id":"` + productID + `","customer_id":"` + customerID + `","metadata":{"reference_id":"ABC123",
			"seats_hint":3,"ratio":0.75,"vip":true,"big":18446744073709551615,"small":-5,"f32":0.5}}`},
		{"minimal: no metadata key", &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID},
			`{"product_id":"` + productID + `","customer_id":"` + customerID + `"}`},
		{"empty metadata is not sent", &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID, Metadata: subkit.Metadata{}},
			`{"product_id":"` + productID + `","customer_id":"` + customerID + `"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
			s, err := newClient(t, m).Subscriptions.CreateForCustomer(context.Background(), tc.params)
			require.NoError(t, err)
			assert.Equal(t, "0b7c6a54-8a0e-4c4e-9d44-2f2f5b1f6a10", s.ID)
			reqs := m.requests()
			require.Len(t, reqs, 1)
			assertPolarHeaders(t, reqs[0])
			if tc.name == "full" {
				// Compared as text too: a JSON round trip through float64 would hide a lost uint64.
				assert.Contains(t, string(reqs[0].Body), `"big":18446744073709551615`)
			}
			requireJSON(t, tc.body, reqs[0].Body)
		})
	}
}

func TestCreateForExternalCustomerSendsTheDocumentedRequest(t *testing.T) {
	cases := []struct {
		name   string
		params *subkit.ExternalCustomerSubscriptionParams
		body   string
	}{
		{"full", &subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_1337",
			Metadata: subkit.Metadata{"plan": "free", "n": 1}},
			`{"product_id":"` + productID + `","external_customer_id":"usr_1337","metadata":{"plan":"free","n":1}}`},
		{"minimal", &subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_1337"},
			`{"product_id":"` + productID + `","external_customer_id":"usr_1337"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
			_, err := newClient(t, m).Subscriptions.CreateForExternalCustomer(context.Background(), tc.params)
			require.NoError(t, err)
			reqs := m.requests()
			require.Len(t, reqs, 1)
			assertPolarHeaders(t, reqs[0])
			requireJSON(t, tc.body, reqs[0].Body)
		})
	}
}

func TestPolarSandboxAndBaseURL(t *testing.T) {
	cases := []struct {
		name string
		opts []subkit.Option
		url  string
	}{
		{"sandbox", []subkit.Option{subkit.WithPolarSandbox()}, "https://sandbox-api.polar.sh/v1/subscriptions/"},
		{"base URL with a prefix and a trailing slash", []subkit.Option{subkit.WithBaseURL(subkit.Polar, "https://gw.example.com/polar/")},
			"https://gw.example.com/polar/v1/subscriptions/"},
		{"the later option wins", []subkit.Option{subkit.WithBaseURL(subkit.Polar, "https://gw.example.com"), subkit.WithPolarSandbox()},
			"https://sandbox-api.polar.sh/v1/subscriptions/"},
		{"loopback may use http", []subkit.Option{subkit.WithBaseURL(subkit.Polar, "http://127.0.0.1:8080")},
			"http://127.0.0.1:8080/v1/subscriptions/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, tc.url, answer(201, fixture(t, "polar-subscription.json")))
			_, err := newClient(t, m, tc.opts...).Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID})
			require.NoError(t, err)
			require.Len(t, m.requests(), 1)
		})
	}
}
