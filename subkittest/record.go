package subkittest

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// Request is one request the server received, as recorded for inspection.
type Request struct {
	// ID is the request's ID as the server answered it, so that a request
	// can be matched with subkit.ResponseInfo.RequestID or
	// subkit.APIError.RequestID: Polar's CF-Ray header (Polar sends no
	// request-ID header; Cloudflare's ray is 16 hex digits, "-" and an
	// airport code), ChatDash's and Chargeflow's X-Request-Id (Chargeflow
	// also puts it in its error bodies as requestId).
	ID string
	// API is the API whose path the request was sent to: paths under
	// /v1/public/ are ChatDash's, under /public/ Chargeflow's, and every
	// other path Polar's.
	API subkit.API
	// Method, Path (escaped, as sent) and Query (raw, without "?").
	Method, Path, Query string
	// Header is the request's header with every credential redacted: the
	// value of Authorization (ChatDash, Polar) and x-api-key (Chargeflow)
	// becomes "[REDACTED]", keeping an authorization scheme such as
	// "Bearer " so that tests can check the header's shape.
	Header http.Header
	// Body is the request body as received.
	Body []byte
	// Time is when the request arrived.
	Time time.Time
	// Status is the status answered; 0 while the answer is being made, or
	// when the connection was closed without one (a fault).
	Status int
	// Fault names the fault the server played for this request ("" for
	// none): see Fault.String.
	Fault string
	// Created lists the IDs of the subscriptions this request created (at
	// most one), including one that a later create has since replaced
	// (Chargeflow).
	Created []string
}

// redacted replaces credentials in recorded headers.
const redacted = "[REDACTED]"

func redactHeader(h http.Header) http.Header {
	out := h.Clone()
	for _, k := range []string{"Authorization", "X-Api-Key", "Proxy-Authorization", "Cookie"} {
		vals := out.Values(k)
		for i, v := range vals {
			vals[i] = redacted
			if scheme, _, ok := strings.Cut(v, " "); ok && knownScheme(scheme) {
				vals[i] = scheme + " " + redacted
			}
		}
	}
	return out
}

func knownScheme(s string) bool {
	for _, k := range []string{"Bearer", "Basic", "Token", "Digest"} {
		if strings.EqualFold(s, k) {
			return true
		}
	}
	return false
}

func (r *Request) clone() Request {
	c := *r
	c.Header = r.Header.Clone()
	c.Body = slices.Clone(r.Body)
	c.Created = slices.Clone(r.Created)
	return c
}

// Requests returns copies of the requests the server received for api, in
// the order they arrived. It includes requests that were refused or met a
// fault.
func (s *Server) Requests(api subkit.API) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if r.API == api {
			out = append(out, r.clone())
		}
	}
	return out
}
