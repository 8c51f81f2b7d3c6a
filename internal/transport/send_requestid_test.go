package transport

import (
	"net/http"
	"testing"
)

func TestRequestIDFromHeader(t *testing.T) {
	cases := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"none", http.Header{}, ""},
		{"X-Request-Id", http.Header{"X-Request-Id": {"req_1"}}, "req_1"},
		{"API Gateway", http.Header{"X-Amzn-Requestid": {"c0ffee"}}, "c0ffee"},
		// Polar sends no request-ID header; Cloudflare's ray is its ID.
		{"CF-Ray alone", http.Header{"Cf-Ray": {"8d4c6a1f2b3e4d5c-AMS"}}, "8d4c6a1f2b3e4d5c-AMS"},
		{"CF-Ray as sent", http.Header{http.CanonicalHeaderKey("CF-Ray"): {"8d4c6a1f2b3e4d5c-CDG"}}, "8d4c6a1f2b3e4d5c-CDG"},
		{"a request-ID header first", http.Header{"Cf-Ray": {"8d4c6a1f2b3e4d5c-AMS"}, "X-Correlation-Id": {"corr"}}, "corr"},
		{"empty request ID", http.Header{"X-Request-Id": {""}, "Cf-Ray": {"8d4c6a1f2b3e4d5c-AMS"}}, "8d4c6a1f2b3e4d5c-AMS"},
	}
	for _, c := range cases {
		if got := RequestIDFromHeader(c.header); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
