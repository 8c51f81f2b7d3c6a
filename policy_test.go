package subkit_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// The RetryPolicy at work: what is retried (a 429 after its Retry-After, a
// connection that failed before sending; an ambiguous failure only when
// RetryAmbiguous asks), within MaxAttempts and MaxRetryAfter, and how a
// cancel ends the waits.

func TestRateLimitIsRetriedAfterRetryAfter(t *testing.T) {
	cases := map[string]func() string{
		"seconds":   func() string { return "1" },
		"HTTP date": func() string { return time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat) },
	}
	for name, retryAfter := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL,
				func(r *http.Request) (*http.Response, error) { return answer(429, "", "Retry-After", retryAfter())(r) },
				answer(201, fixture(t, "polar-subscription.json")))
			var logs logLines
			var info subkit.ResponseInfo
			_, err := newClient(t, m, subkit.WithLogger(logs.logger())).Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Len(t, m.requests(), 2)
			assert.Equal(t, 2, info.Attempts)
			assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
			warns := logs.at(t, "WARN")
			require.Len(t, warns, 1)
			wait := time.Duration(warns[0]["wait"].(float64))
			// The wait is the server's ask, not the millisecond backoff of the policy.
			assert.Greater(t, wait, 500*time.Millisecond)
			assert.LessOrEqual(t, wait, 2*time.Second)
			assert.Equal(t, "429", warns[0]["reason"])
		})
	}
}

func TestRateLimitLongerThanAllowedStopsAtOnce(t *testing.T) {
	cases := []struct {
		name       string
		retryAfter string
		opts       []subkit.Option
		want       time.Duration
	}{
		{"longer than MaxRetryAfter", "120", nil, 120 * time.Second},
		{"longer than the call's deadline", "30", []subkit.Option{subkit.WithTimeout(10 * time.Second)}, 30 * time.Second},
		{"an HTTP date far ahead", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat), nil, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chargeflowCreateURL, answer(429, `{"message":"Too Many Requests"}`, "Retry-After", tc.retryAfter))
			start := time.Now()
			err := dispute(disputeID, nil)(newClient(t, m, tc.opts...))
			assert.Less(t, time.Since(start), 5*time.Second, "it must not wait for the ask")
			var ae *subkit.APIError
			require.ErrorAs(t, err, &ae)
			assertSentinels(t, err, "ErrRateLimited")
			assert.InDelta(t, float64(tc.want), float64(ae.RetryAfter), float64(2*time.Second))
			assert.Equal(t, 1, ae.Attempts)
			assert.Len(t, m.requests(), 1)
			assert.Contains(t, err.Error(), "retry after")
		})
	}
}

func TestRateLimitEveryTimeMakesMaxAttempts(t *testing.T) {
	for _, attempts := range []int{1, 2, 5} {
		m := newMock(t)
		m.on(http.MethodPost, chatdashCreateURL, answer(429, `{"message":"slow down"}`))
		p := fastPolicy()
		p.MaxAttempts = attempts
		err := connect(chatdashAccount, nil)(newClient(t, m, subkit.WithRetryPolicy(p)))
		var ae *subkit.APIError
		require.ErrorAs(t, err, &ae)
		assertSentinels(t, err, "ErrRateLimited")
		assert.Equal(t, attempts, ae.Attempts)
		assert.Len(t, m.requests(), attempts)
		assert.Equal(t, "slow down", ae.Message)
	}
}

// ambiguous failures: each may have created the subscription.
func ambiguousFailures() map[string]func(r *http.Request) (*http.Response, error) {
	return map[string]func(r *http.Request) (*http.Response, error){
		"503":                  answer(503, `{"message":"Service Unavailable"}`),
		"500":                  answer(500, ``),
		"reset after sending":  fail(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
		"EOF after sending":    fail(io.ErrUnexpectedEOF),
		"timeout":              func(r *http.Request) (*http.Response, error) { <-r.Context().Done(); return nil, r.Context().Err() },
		"unknown error":        fail(errors.New("something odd")),
		"TLS after handshake?": fail(errors.New("tls: bad record MAC")),
	}
}

func TestAmbiguousFailureIsNotRetried(t *testing.T) {
	for name, fault := range ambiguousFailures() {
		t.Run(name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL, fault, answer(201, fixture(t, "polar-subscription.json")))
			var info subkit.ResponseInfo
			_, err := newClient(t, m, subkit.WithTimeout(100*time.Millisecond)).Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithResponseInfo(&info))
			require.Error(t, err)
			assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
			assert.Len(t, m.requests(), 1, "one attempt only")
			assert.Equal(t, 1, info.Attempts)
			assert.Contains(t, err.Error(), "outcome unknown")
			if name == "timeout" {
				assert.ErrorIs(t, err, context.DeadlineExceeded)
			}
		})
	}
}

func TestAmbiguousFailureIsRetriedWhenAsked(t *testing.T) {
	for name, fault := range ambiguousFailures() {
		if name == "timeout" {
			continue // the call's deadline is spent: nothing left to retry in
		}
		t.Run(name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL, fault, answer(201, fixture(t, "polar-subscription.json")))
			p := fastPolicy()
			p.RetryAmbiguous = true
			var info subkit.ResponseInfo
			s, err := newClient(t, m, subkit.WithRetryPolicy(p)).Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.NotEmpty(t, s.ID)
			assert.Len(t, m.requests(), 2)
			assert.Equal(t, 2, info.Attempts)
		})
	}
}

func TestRetryAmbiguousKeepsTheDoubtInALaterError(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, chargeflowCreateURL, answer(502, ``), answer(409, `{"message":"Subscription already exists"}`))
	p := fastPolicy()
	p.RetryAmbiguous = true
	err := dispute(disputeID, nil)(newClient(t, m, subkit.WithRetryPolicy(p)))
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 409, ae.StatusCode)
	assert.Equal(t, 2, ae.Attempts)
	assertSentinels(t, err, "ErrRejected", "ErrOutcomeUnknown")
}

func TestRefusedConnectionIsRetried(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, chargeflowCreateURL, fail(refused), fail(&net.DNSError{Err: "no such host", Name: "api.chargeflow.io"}),
		answer(201, fixture(t, "chargeflow-create-subscription.json")))
	var info subkit.ResponseInfo
	_, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams(), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Len(t, m.requests(), 3)
	assert.Equal(t, 3, info.Attempts)
}

func TestRefusedConnectionOverRealSockets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now

	p := fastPolicy()
	p.MaxAttempts = 3
	c, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithBaseURL(subkit.Polar, "http://"+addr),
		subkit.WithRetryPolicy(p))
	require.NoError(t, err)
	var info subkit.ResponseInfo
	_, err = c.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithResponseInfo(&info))
	require.Error(t, err)
	assert.Equal(t, 3, info.Attempts, "a refused connection provably sent nothing, so it is retried")
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "%v", err)
	assertSentinels(t, err, "ErrNotSent") // definite: nothing was sent
	assert.Contains(t, err.Error(), "the request was not sent")
}

func TestCancelDuringAWaitReturnsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, func(r *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return answer(429, "", "Retry-After", "30")(r)
	})
	start := time.Now()
	_, err := newClient(t, m).Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID})
	assert.Less(t, time.Since(start), 10*time.Second, "the 30 s wait must end with the context")
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown, "the only attempt was refused with a 429: nothing happened")
	assert.Len(t, m.requests(), 1)
}

func TestCancelBeforeSendingSendsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	_, err := newClient(t, m).Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID})
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, m.requests())
}
