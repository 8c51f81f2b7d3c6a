package subkit_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

var sentinels = map[string]error{
	"ErrInvalidParams": subkit.ErrInvalidParams, "ErrMissingCredential": subkit.ErrMissingCredential,
	"ErrUnauthorized": subkit.ErrUnauthorized, "ErrForbidden": subkit.ErrForbidden, "ErrNotFound": subkit.ErrNotFound,
	"ErrRejected": subkit.ErrRejected, "ErrRateLimited": subkit.ErrRateLimited, "ErrServer": subkit.ErrServer,
	"ErrOutcomeUnknown": subkit.ErrOutcomeUnknown, "ErrNotSent": subkit.ErrNotSent,
	"ErrProductNotFound": subkit.ErrProductNotFound, "ErrCustomerNotFound": subkit.ErrCustomerNotFound,
	"ErrIdempotencyConflict": subkit.ErrIdempotencyConflict, "ErrStoreUnavailable": subkit.ErrStoreUnavailable,
	"ErrAmbiguousMatch": subkit.ErrAmbiguousMatch,
}

// assertSentinels checks that err matches exactly the named sentinels.
func assertSentinels(t *testing.T, err error, want ...string) {
	t.Helper()
	for name, s := range sentinels {
		wanted := false
		for _, w := range want {
			wanted = wanted || w == name
		}
		assert.Equal(t, wanted, errors.Is(err, s), "errors.Is(err, %s) for %v", name, err)
	}
}

func TestErrorShapesAreDecoded(t *testing.T) {
	cases := []struct {
		name      string
		api       subkit.API
		status    int
		body      string
		header    []string
		want      subkit.APIError // Attempts and Body are checked apart
		sentinels []string
		text      []string // substrings of Error()
	}{
		{"polar 401 no token", subkit.Polar, 401, `{"error":"Unauthorized","detail":"Unauthorized"}`, nil,
			subkit.APIError{Code: "Unauthorized", Message: "Unauthorized"}, []string{"ErrUnauthorized"},
			[]string{"subkit: polar: 401 Unauthorized: Unauthorized"}},
		{"polar 401 invalid token", subkit.Polar, 401, `{"error":"invalid_token","error_description":"The access token provided is expired, revoked, malformed, or invalid for other reasons."}`,
			[]string{"X-Request-Id", "req_p_1"},
			subkit.APIError{Code: "invalid_token", Message: "The access token provided is expired, revoked, malformed, or invalid for other reasons.", RequestID: "req_p_1"},
			[]string{"ErrUnauthorized"}, []string{"invalid_token", "(request ID req_p_1)"}},
		{"polar 403 scope", subkit.Polar, 403, `{"error":"insufficient_scope","error_description":"The request requires higher privileges than provided by the access token."}`, nil,
			subkit.APIError{Code: "insufficient_scope", Message: "The request requires higher privileges than provided by the access token."},
			[]string{"ErrForbidden"}, []string{"403 Forbidden: insufficient_scope"}},
		{"polar 403 not permitted", subkit.Polar, 403, `{"error":"NotPermitted","detail":"You don't have the permission to do this."}`, nil,
			subkit.APIError{Code: "NotPermitted", Message: "You don't have the permission to do this."}, []string{"ErrForbidden"}, nil},
		{"polar 404 version", subkit.Polar, 404, `{"detail":"Not Found"}`, nil,
			subkit.APIError{Message: "Not Found"}, []string{"ErrNotFound"}, nil},
		{"polar 422 schema", subkit.Polar, 422, `{"error":"RequestValidationError","detail":[
			{"type":"string_too_long","loc":["body","metadata","plan"],"msg":"String should have at most 500 characters","input":"x"},
			{"type":"uuid_version","loc":["body","product_id"],"msg":"UUID version 4 expected","input":"y"},
			{"type":"missing","loc":["body","items",0,"id"],"msg":"Field required"}]}`, nil,
			subkit.APIError{Code: "RequestValidationError",
				Message: "metadata.plan: String should have at most 500 characters; product_id: UUID version 4 expected; items[0].id: Field required",
				Fields: []subkit.FieldError{
					{Field: "metadata.plan", Message: "String should have at most 500 characters", Code: "string_too_long"},
					{Field: "product_id", Message: "UUID version 4 expected", Code: "uuid_version"},
					{Field: "items[0].id", Message: "Field required", Code: "missing"}}},
			[]string{"ErrRejected"}, []string{"422 Unprocessable Entity: RequestValidationError: metadata.plan:"}},
		{"polar 422 product", subkit.Polar, 422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"Product does not exist.","input":"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"}]}`, nil,
			subkit.APIError{Code: "PolarRequestValidationError", Message: "product_id: Product does not exist.",
				Fields: []subkit.FieldError{{Field: "product_id", Message: "Product does not exist.", Code: "value_error"}}},
			[]string{"ErrRejected", "ErrProductNotFound"}, nil},
		{"polar 422 customer", subkit.Polar, 422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","customer_id"],"msg":"Customer does not exist.","input":"992fae2a-2a17-4b7a-8d9e-e287cf90131b"}]}`, nil,
			subkit.APIError{Code: "PolarRequestValidationError", Message: "customer_id: Customer does not exist.",
				Fields: []subkit.FieldError{{Field: "customer_id", Message: "Customer does not exist.", Code: "value_error"}}},
			[]string{"ErrRejected", "ErrCustomerNotFound"}, nil},
		{"polar 422 external customer", subkit.Polar, 422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","external_customer_id"],"msg":"Customer does not exist.","input":"usr_1"}]}`, nil,
			subkit.APIError{Code: "PolarRequestValidationError", Message: "external_customer_id: Customer does not exist.",
				Fields: []subkit.FieldError{{Field: "external_customer_id", Message: "Customer does not exist.", Code: "value_error"}}},
			[]string{"ErrRejected", "ErrCustomerNotFound"}, nil},
		{"polar 422 legacy product", subkit.Polar, 422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"Legacy recurring products are not supported.","input":"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"}]}`, nil,
			subkit.APIError{Code: "PolarRequestValidationError", Message: "product_id: Legacy recurring products are not supported.",
				Fields: []subkit.FieldError{{Field: "product_id", Message: "Legacy recurring products are not supported.", Code: "value_error"}}},
			[]string{"ErrRejected"}, nil},
		{"polar 429 empty body after retries", subkit.Polar, 429, ``, []string{"Retry-After", "0"},
			subkit.APIError{Message: "Too Many Requests"}, []string{"ErrRateLimited"}, []string{"429 Too Many Requests"}},
		{"polar 500 not JSON", subkit.Polar, 500, `Internal Server Error`, nil,
			subkit.APIError{Message: "Internal Server Error"}, []string{"ErrServer", "ErrOutcomeUnknown"}, []string{"outcome unknown"}},
		{"chargeflow 400", subkit.Chargeflow, 400, `{"message":"\"frequency\" must be one of [day, week, month, year]","requestId":"cf-req-42"}`, nil,
			subkit.APIError{Message: `"frequency" must be one of [day, week, month, year]`, RequestID: "cf-req-42"},
			[]string{"ErrRejected"}, []string{"(request ID cf-req-42)"}},
		{"chargeflow 403 gateway", subkit.Chargeflow, 403, `{"message":"Forbidden"}`, []string{"x-amzn-RequestId", "aws-req-7"},
			subkit.APIError{Message: "Forbidden", RequestID: "aws-req-7"}, []string{"ErrForbidden"}, nil},
		{"chargeflow 404", subkit.Chargeflow, 404, `{"message":"Dispute not found","requestId":"cf-req-43"}`, nil,
			subkit.APIError{Message: "Dispute not found", RequestID: "cf-req-43"}, []string{"ErrNotFound"}, nil},
		{"chargeflow 409", subkit.Chargeflow, 409, `{"message":"Conflict"}`, nil,
			subkit.APIError{Message: "Conflict"}, []string{"ErrRejected"}, nil},
		{"chargeflow 502 HTML", subkit.Chargeflow, 502, `<html><body><h1>502 Bad Gateway</h1></body></html>`, nil,
			subkit.APIError{Message: "Bad Gateway"}, []string{"ErrServer", "ErrOutcomeUnknown"}, nil},
		{"chatdash 400 message", subkit.ChatDash, 400, `{"message":"Client has no admin member"}`, nil,
			subkit.APIError{Message: "Client has no admin member"}, []string{"ErrRejected"}, []string{"subkit: chatdash: 400 Bad Request: Client has no admin member"}},
		{"chatdash 400 stripe", subkit.ChatDash, 400, `{"error":{"message":"No such product: 'prod_X'","code":"resource_missing","type":"invalid_request_error"}}`, nil,
			subkit.APIError{Code: "resource_missing", Message: "No such product: 'prod_X'"}, []string{"ErrRejected"}, nil},
		{"chatdash 400 error string", subkit.ChatDash, 400, `{"error":"Stripe Tax is not set up"}`, nil,
			subkit.APIError{Message: "Stripe Tax is not set up"}, []string{"ErrRejected"}, nil},
		{"chatdash 401 empty", subkit.ChatDash, 401, ``, nil,
			subkit.APIError{Message: "Unauthorized"}, []string{"ErrUnauthorized"}, nil},
		{"chatdash 418 JSON array", subkit.ChatDash, 418, `["teapot"]`, nil,
			subkit.APIError{Message: "I'm a teapot"}, nil, nil},
		{"chatdash 503 wrong types", subkit.ChatDash, 503, `{"message":42,"error":[1],"detail":{"x":1}}`, nil,
			subkit.APIError{Message: "Service Unavailable"}, []string{"ErrServer", "ErrOutcomeUnknown"}, nil},
		{"chatdash 302 redirect", subkit.ChatDash, 302, ``, []string{"Location", "https://evil.example.com/steal"},
			subkit.APIError{Message: "Found (redirects are not followed; Location: https://evil.example.com/steal)"}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			var c call
			switch tc.api {
			case subkit.Polar:
				m.on(http.MethodPost, polarCreateURL, answer(tc.status, tc.body, tc.header...))
				c = polarCustomer(nil)
			case subkit.Chargeflow:
				m.on(http.MethodPost, chargeflowCreateURL, answer(tc.status, tc.body, tc.header...))
				c = dispute(disputeID, nil)
			default:
				m.on(http.MethodPost, chatdashCreateURL, answer(tc.status, tc.body, tc.header...))
				c = connect(chatdashAccount, nil)
			}
			err := c(newClient(t, m))
			require.Error(t, err)
			var ae *subkit.APIError
			require.ErrorAs(t, err, &ae)
			want := tc.want
			want.API, want.StatusCode = tc.api, tc.status
			if tc.body != "" {
				want.Body = []byte(tc.body)
			}
			want.Attempts = len(m.requests())
			got := *ae
			assert.Equal(t, want.API, got.API)
			assert.Equal(t, want.StatusCode, got.StatusCode)
			assert.Equal(t, want.Code, got.Code)
			assert.Equal(t, want.Message, got.Message)
			assert.Equal(t, want.Fields, got.Fields)
			assert.Equal(t, want.RequestID, got.RequestID)
			assert.Equal(t, want.Attempts, got.Attempts)
			assert.Equal(t, want.Body, got.Body)
			assertSentinels(t, err, tc.sentinels...)
			for _, s := range tc.text {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	m := newMock(t)
	big := `{"message":"` + strings.Repeat("x", 200<<10) + `"}`
	m.on(http.MethodPost, chargeflowCreateURL, answer(400, big))
	err := dispute(disputeID, nil)(newClient(t, m))
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.Body, 64<<10)
	assert.Equal(t, big[:64<<10], string(ae.Body))
}

func TestLostSuccessBodyIsOutcomeUnknown(t *testing.T) {
	cases := map[string]string{
		"truncated JSON": `{"id":"sub_`,
		"wrong type":     `{"id":42}`,
		"not JSON":       `<html>ok</html>`,
		"no id":          `{}`,
		"another object": `{"ok":true}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chatdashCreateURL, answer(200, body, "X-Request-Id", "req_lost"))
			var info subkit.ResponseInfo
			_, err := newClient(t, m).Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams(),
				subkit.WithResponseInfo(&info))
			var ae *subkit.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 200, ae.StatusCode)
			assert.Equal(t, "req_lost", ae.RequestID)
			assertSentinels(t, err, "ErrOutcomeUnknown")
			assert.Len(t, m.requests(), 1, "a create that may have happened is not repeated")
			assert.Equal(t, subkit.Outcome(""), info.Outcome)
			assert.Equal(t, 200, info.StatusCode)
		})
	}
}

func TestOversizedSuccessBodyIsOutcomeUnknown(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(201, `{"id":"`+strings.Repeat("a", 5<<20)+`"}`))
	err := polarCustomer(nil)(newClient(t, m))
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 201, ae.StatusCode)
	assert.Contains(t, err.Error(), "larger than")
	assertSentinels(t, err, "ErrOutcomeUnknown")
}

func TestValidationErrorListsEveryProblem(t *testing.T) {
	err := polarCustomer(func(p *subkit.CustomerSubscriptionParams) {
		p.ProductID, p.CustomerID = "", "nope"
	})(newClient(t, newMock(t)))
	assert.EqualError(t, err, "subkit: polar: invalid params: product_id: is required; customer_id: must be a version 4 UUID")
	assertSentinels(t, err, "ErrInvalidParams")
}

func TestEmptySuccessBodyIsOutcomeUnknown(t *testing.T) {
	for _, body := range []string{"", "null", "  \n"} {
		m := newMock(t)
		m.on(http.MethodPost, polarCreateURL, answer(201, body))
		err := polarCustomer(nil)(newClient(t, m))
		var ae *subkit.APIError
		require.ErrorAs(t, err, &ae, "body %q", body)
		assert.Contains(t, err.Error(), "the body is empty")
		assertSentinels(t, err, "ErrOutcomeUnknown")
	}
}
