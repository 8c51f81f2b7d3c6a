package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Classify is checked on errors that real calls return, so that the table in
// the README is what a caller gets.
func TestClassify(t *testing.T) {
	polarCreate := func(c *subkit.Client) error {
		_, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID})
		return err
	}
	polarGet := func(c *subkit.Client) error {
		_, err := c.Subscriptions.Get(context.Background(), subscriptionID)
		return err
	}
	withMock := func(method, url string, call func(*subkit.Client) error, answers ...func(*http.Request) (*http.Response, error)) func(t *testing.T) error {
		return func(t *testing.T) error {
			m := newMock(t)
			for _, a := range answers {
				m.on(method, url, a)
			}
			return call(newClient(t, m))
		}
	}
	cases := []struct {
		name       string
		err        func(t *testing.T) error
		want       subkit.ErrorClass // Reason is checked to be set, not its words
		retryAfter time.Duration
	}{
		{"no error", func(*testing.T) error { return nil }, subkit.ErrorClass{}, 0},
		{"invalid params", withMock(http.MethodPost, polarCreateURL, func(c *subkit.Client) error {
			_, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{})
			return err
		}), subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 400}, 0},
		{"missing credential", func(t *testing.T) error {
			c, err := subkit.New(subkit.WithAgencyKey(testAgencyKey))
			require.NoError(t, err)
			return polarCreate(c)
		}, subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 500}, 0},
		{"401", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(401, `{"error":"invalid_token","error_description":"x"}`)),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 500}, 0},
		{"403", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(403, `{"error":"insufficient_scope","error_description":"x"}`)),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 500}, 0},
		{"product does not exist", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(422,
			`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"Product does not exist.","input":"x"}]}`)),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 422}, 0},
		{"other 422", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(422,
			`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"Legacy recurring products are not supported.","input":"x"}]}`)),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 422}, 0},
		{"404", withMock(http.MethodGet, polarListURL+subscriptionID, polarGet, answer(404, `{"error":"ResourceNotFound","detail":"Not found"}`)),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 404}, 0},
		{"429 too long to wait", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(429, "", "Retry-After", "600")),
			subkit.ErrorClass{Action: subkit.ActionRetryLater, HTTPStatus: 503, RetryAfter: 600 * time.Second}, 0},
		{"5xx on a create", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(503, "")),
			subkit.ErrorClass{Action: subkit.ActionLookUp, MayBeApplied: true, HTTPStatus: 503}, 0},
		{"reset after sending a create", withMock(http.MethodPost, polarCreateURL, polarCreate, fail(reset)),
			subkit.ErrorClass{Action: subkit.ActionLookUp, MayBeApplied: true, HTTPStatus: 503}, 0},
		{"5xx on every try of a read", withMock(http.MethodGet, polarListURL+subscriptionID, polarGet, answer(503, "")),
			subkit.ErrorClass{Action: subkit.ActionRetryLater, HTTPStatus: 502}, 0},
		{"a read without a response", withMock(http.MethodGet, polarListURL+subscriptionID, polarGet, fail(reset)),
			subkit.ErrorClass{Action: subkit.ActionRetry, HTTPStatus: 502}, 0},
		{"connection refused", withMock(http.MethodPost, polarCreateURL, polarCreate,
			fail(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")})),
			subkit.ErrorClass{Action: subkit.ActionRetry, HTTPStatus: 503}, 0},
		{"context ended before sending", func(t *testing.T) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := newClient(t, newMock(t)).Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID})
			return err
		}, subkit.ErrorClass{Action: subkit.ActionRetry, HTTPStatus: 503}, 0},
		{"unmapped status", withMock(http.MethodPost, polarCreateURL, polarCreate, answer(418, "")),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 502}, 0},
		{"key conflict", withMock(http.MethodGet, polarListURL, func(c *subkit.Client) error {
			_, err := createKeyed(c, nil, subkit.WithIdempotencyKey("k"))
			return err
		}, answer(200, keyedPage(t, "k", "5b9e7f64-3c2d-4e1f-9a8b-7c6d5e4f3a2b", "theirs"))),
			subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 409}, 0},
		{"store unavailable", withMock(http.MethodPost, polarCreateURL, func(c *subkit.Client) error {
			c2, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithIdempotencyStore(failingStore{}),
				subkit.WithIdempotencyLease(100*time.Millisecond)) // a short lease: the store is tried for one
			require.NoError(t, err)
			_, err = createKeyed(c2, nil, subkit.WithIdempotencyKey("k"))
			return err
		}), subkit.ErrorClass{Action: subkit.ActionRetryLater, HTTPStatus: 503}, 0},
		{"not from this package", func(*testing.T) error { return fmt.Errorf("wrapped: %w", errors.New("mystery")) },
			subkit.ErrorClass{Action: subkit.ActionLookUp, MayBeApplied: true, HTTPStatus: 500}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err(t)
			got := subkit.Classify(err)
			if err == nil {
				assert.Equal(t, subkit.ErrorClass{}, got)
				return
			}
			assert.NotEmpty(t, got.Reason)
			got.Reason = ""
			assert.Equal(t, tc.want, got, "%v", err)
		})
	}
}

func TestErrNotSentMeansNothingReachedTheServer(t *testing.T) {
	// Refused on every attempt: not sent, definite.
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, fail(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}))
	_, err := createKeyed(newClient(t, m), nil)
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)

	// Sent, then reset: not ErrNotSent, whatever the call.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, fail(reset))
	_, err = newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID)
	assert.NotErrorIs(t, err, subkit.ErrNotSent)
	assert.Contains(t, err.Error(), "no response")

	// Refused once, then a 5xx: something was sent.
	m = newMock(t)
	m.on(http.MethodPost, polarCreateURL, fail(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}), answer(503, ""))
	_, err = createKeyed(newClient(t, m), nil)
	assert.NotErrorIs(t, err, subkit.ErrNotSent)
	assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
}

// The same verdicts over real sockets, from the strict fake: what a
// service's handler would meet.
func TestClassifyOverRealSockets(t *testing.T) {
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1"})
	c, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	require.NoError(t, err)
	create := func(p *subkit.CustomerSubscriptionParams) error {
		_, err := c.Subscriptions.CreateForCustomer(context.Background(), p)
		return err
	}
	unknownProduct := "5b9e7f64-3c2d-4e1f-9a8b-7c6d5e4f3a2b"

	err = create(&subkit.CustomerSubscriptionParams{ProductID: unknownProduct, CustomerID: customer})
	assertSentinels(t, err, "ErrRejected", "ErrProductNotFound")
	assert.Equal(t, subkit.ErrorClass{Action: subkit.ActionFix, HTTPStatus: 422, Reason: subkit.Classify(err).Reason}, subkit.Classify(err))

	_, err = c.Subscriptions.CreateForExternalCustomer(context.Background(),
		&subkit.ExternalCustomerSubscriptionParams{ProductID: product, ExternalCustomerID: "usr_404"})
	assertSentinels(t, err, "ErrRejected", "ErrCustomerNotFound")

	srv.InjectFault(subkit.Polar, 1, subkittest.RespondAfterHandling(502, "").On(subkittest.OpCreate))
	err = create(&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer})
	assert.Equal(t, subkit.ActionLookUp, subkit.Classify(err).Action)
	assert.True(t, subkit.Classify(err).MayBeApplied)

	srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited("600"))
	err = create(&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer})
	class := subkit.Classify(err)
	assert.Equal(t, subkit.ActionRetryLater, class.Action)
	assert.Equal(t, 600*time.Second, class.RetryAfter)

	closed := subkittest.NewServer()
	url := closed.URL()
	closed.Close()
	c2, err := subkit.New(subkit.WithOrganizationToken(subkittest.PolarToken), subkit.WithBaseURL(subkit.Polar, url),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}))
	require.NoError(t, err)
	_, err = c2.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer})
	assertSentinels(t, err, "ErrNotSent")
	assert.Equal(t, subkit.ActionRetry, subkit.Classify(err).Action)
}
