package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// Tests of do, the one path every call takes: FuzzPipeline drives it from a
// status and a body to what a call returns (seeds: the fixtures and the
// corpora in testdata/fuzz). The result decoders' own fuzz targets stand
// beside their types' tests: FuzzDecodeConnectSubscription in
// subscriptions_test.go, FuzzDecodeDisputeSubscription in disputes_test.go,
// FuzzDecodeSubscription in types_fuzz_test.go.

// The operations FuzzPipeline drives: the four creates, each plain and
// keyed (a replay look-up first, a reconciliation after an ambiguous
// failure), and every look-up.
var pipelineOps = []struct {
	name   string
	create bool
	run    func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, keyed bool) (found int, err error)
}{
	{"CreateConnect", true, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, _ bool) (int, error) {
		s, err := c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams(), subkit.WithResponseInfo(info))
		return oneOf(s, err)
	}},
	{"CreateForDispute", true, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, keyed bool) (int, error) {
		s, err := c.Subscriptions.CreateForDispute(ctx, disputeID, minimalDisputeParams(), pipelineOpts(info, keyed)...)
		return oneOf(s, err)
	}},
	{"CreateForCustomer", true, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, keyed bool) (int, error) {
		s, err := c.Subscriptions.CreateForCustomer(ctx, relPolarParams(), pipelineOpts(info, keyed)...)
		return oneOf(s, err)
	}},
	{"CreateForExternalCustomer", true, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, keyed bool) (int, error) {
		s, err := c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID: productID, ExternalCustomerID: "usr_1", Metadata: subkit.Metadata{"n": 1}}, pipelineOpts(info, keyed)...)
		return oneOf(s, err)
	}},
	{"Get", false, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, _ bool) (int, error) {
		s, err := c.Subscriptions.Get(ctx, customerID, subkit.WithResponseInfo(info))
		return oneOf(s, err)
	}},
	{"GetForDispute", false, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, _ bool) (int, error) {
		s, err := c.Subscriptions.GetForDispute(ctx, disputeID, subkit.WithResponseInfo(info))
		return oneOf(s, err)
	}},
	{"GetConnect", false, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo, _ bool) (int, error) {
		s, err := c.Subscriptions.GetConnect(ctx, chatdashAccount, "sub_1", subkit.WithResponseInfo(info))
		return oneOf(s, err)
	}},
	{"List", false, func(ctx context.Context, c *subkit.Client, _ *subkit.ResponseInfo, _ bool) (int, error) {
		return drain(c.Subscriptions.List(ctx, &subkit.SubscriptionListParams{Metadata: map[string]string{"k": "v"}}))
	}},
	{"ListConnect", false, func(ctx context.Context, c *subkit.Client, _ *subkit.ResponseInfo, _ bool) (int, error) {
		return drain(c.Subscriptions.ListConnect(ctx, chatdashAccount, &subkit.ConnectListParams{Status: subkit.ConnectListScheduled}))
	}},
}

func pipelineOpts(info *subkit.ResponseInfo, keyed bool) []subkit.CallOption {
	opts := []subkit.CallOption{subkit.WithResponseInfo(info)}
	if keyed {
		opts = append(opts, subkit.WithIdempotencyKey("order-fuzz"))
	}
	return opts
}

// oneOf checks the contract of a call that returns one value: a result or
// an error, never both, never neither.
func oneOf[T any](v *T, err error) (int, error) {
	switch {
	case v == nil && err == nil:
		return 0, errors.New("neither a result nor an error")
	case v != nil && err != nil:
		return 0, fmt.Errorf("both a result and an error (%v)", err)
	case v != nil:
		return 1, nil
	}
	return 0, err
}

// pipelineMaxItems is how many items a list test reads before it stops.
const pipelineMaxItems = 25

// drain reads a list: it must yield items, or one error that ends it, never
// a nil item without an error.
func drain[T any](seq func(func(*T, error) bool)) (int, error) {
	n := 0
	var failure error
	for v, err := range seq {
		switch {
		case failure != nil:
			return n, fmt.Errorf("the sequence went on after its error %v", failure)
		case err != nil:
			failure = err
		case v == nil:
			return n, errors.New("a nil item without an error")
		default:
			n++
		}
		if n >= pipelineMaxItems {
			break
		}
	}
	return n, failure
}

// FuzzPipeline answers every request of a call with the fuzzer's status,
// body and Retry-After, through an httpmock transport, and checks what the
// call returns: no panic, no hang, a result or an error and never both or
// neither, errors that match the sentinel their status says, and for a
// create whose answer was a success or a 5xx either a result or
// ErrOutcomeUnknown, never a definite failure.
func FuzzPipeline(f *testing.F) {
	fixtures := map[string][]byte{
		"chatdash":   fuzzFixture(f, "chatdash-create-subscription.json"),
		"chargeflow": fuzzFixture(f, "chargeflow-create-subscription.json"),
		"polar":      fuzzFixture(f, "polar-subscription.json"),
	}
	for i, op := range pipelineOps {
		for _, status := range []uint16{200, 201, 204, 302, 400, 401, 404, 409, 422, 429, 500, 503} {
			var body []byte
			switch {
			case strings.Contains(op.name, "Connect"):
				body = fixtures["chatdash"]
			case strings.Contains(op.name, "Dispute"):
				body = fixtures["chargeflow"]
			default:
				body = fixtures["polar"]
			}
			f.Add(status, body, "", uint8(i), i%2 == 0)
		}
		f.Add(uint16(429), []byte(`{"message":"Too Many Requests"}`), "0", uint8(i), false)
		f.Add(uint16(200), []byte(`{"items":[null],"pagination":{"total_count":1,"max_page":1}}`), "", uint8(i), true)
		f.Add(uint16(200), []byte(`{"subscriptions":[null],"has_more":true,"next_cursor":null}`), "", uint8(i), true)
		f.Add(uint16(200), []byte(`{"items":[],"pagination":{"total_count":0,"max_page":1000000000}}`), "", uint8(i), false)
		f.Add(uint16(200), []byte(`{"subscriptions":[],"has_more":true,"next_cursor":"c"}`), "", uint8(i), false)
		f.Add(uint16(200), []byte(`{"id":"x","subscription":[],"subscriptions":{}}`), "", uint8(i), true)
	}
	f.Fuzz(func(t *testing.T, status uint16, body []byte, retryAfter string, opIndex uint8, keyed bool) {
		if status < 100 || status > 599 {
			status = 100 + status%500
		}
		if status == 101 {
			status = 200 // switching protocols needs a connection to hijack
		}
		op := pipelineOps[int(opIndex)%len(pipelineOps)]
		mt := httpmock.NewMockTransport()
		requests := 0
		mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
			requests++
			resp := httpmock.NewBytesResponse(int(status), body)
			resp.Header.Set("Content-Type", "application/json")
			resp.Header.Set("X-Request-Id", "req_fuzz")
			if retryAfter != "" {
				resp.Header.Set("Retry-After", retryAfter)
			}
			if status >= 300 && status < 400 {
				resp.Header.Set("Location", "https://elsewhere.example/")
			}
			resp.Request = r
			return resp, nil
		})
		c, err := subkit.New(subkit.WithAgencyKey(testAgencyKey), subkit.WithChargeflowKey(testCFKey), subkit.WithOrganizationToken(testPolarToken),
			subkit.WithHTTPClient(&http.Client{Transport: mt}), subkit.WithTimeout(5*time.Second),
			subkit.WithRetryPolicy(subkit.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Nanosecond, MaxBackoff: time.Nanosecond,
				MaxRetryAfter: time.Millisecond, SettleTime: time.Nanosecond, Reconcile: keyed}))
		if err != nil {
			t.Fatal(err)
		}
		var info subkit.ResponseInfo
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n, err := op.run(ctx, c, &info, keyed)
		where := fmt.Sprintf("%s (keyed %v) answered %d %q, Retry-After %q", op.name, keyed, status, body, retryAfter)
		if err != nil && strings.Contains(err.Error(), "neither a result") || err != nil && strings.Contains(err.Error(), "both a result") ||
			err != nil && strings.Contains(err.Error(), "nil item") || err != nil && strings.Contains(err.Error(), "went on after") {
			t.Fatalf("%s: %v", where, err)
		}
		if ctx.Err() != nil {
			t.Fatalf("%s: the call ran until the test's deadline (%d requests)", where, requests)
		}
		if requests > 3*pipelineMaxItems+10 {
			t.Fatalf("%s: %d requests for %d items", where, requests, n)
		}
		if err == nil {
			if op.create && info.Outcome == "" {
				t.Fatalf("%s: a create succeeded without an Outcome", where)
			}
			return
		}
		if !matchesSomeSentinel(err) && !(!op.create && strings.HasSuffix(err.Error(), " repeats")) {
			// (A list whose server repeats its cursor ends with a plain
			// error that matches no sentinel: a known gap, reported.)
			t.Fatalf("%s: error %v matches no sentinel and wraps no transport cause", where, err)
		}
		// Look-ups: a 4xx status says which sentinel.
		if !op.create {
			return
		}
		unknown := errors.Is(err, subkit.ErrOutcomeUnknown)
		switch {
		case keyed:
			// A keyed create looks itself up with the same answers: what
			// it concludes depends on them; no claim here beyond the
			// contract above.
		case status >= 200 && status <= 299, status >= 500:
			if !unknown {
				t.Fatalf("%s: a create answered %d failed definitely: %v", where, status, err)
			}
		case status == 429:
			if unknown || !errors.Is(err, subkit.ErrRateLimited) {
				t.Fatalf("%s: error %v, want ErrRateLimited only", where, err)
			}
		case status == 400 || status == 409 || status == 422:
			if unknown || !errors.Is(err, subkit.ErrRejected) {
				t.Fatalf("%s: error %v, want ErrRejected only", where, err)
			}
		default:
			var ae *subkit.APIError
			if unknown || !errors.As(err, &ae) || ae.StatusCode != int(status) {
				t.Fatalf("%s: error %v, want a definite *APIError %d", where, err, status)
			}
		}
	})
}

// matchesSomeSentinel reports whether err is one a caller can classify: a
// sentinel, or a transport failure (here only the context's).
func matchesSomeSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	var ae *subkit.APIError
	return errors.As(err, &ae) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

func TestUnreadableLookupAnswerIsReadAgain(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(200, `{"id":"half`), answer(200, `{"status":"x"}`),
		answer(200, fixture(t, "polar-subscription.json")))
	var info subkit.ResponseInfo
	s, err := newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.SubscriptionStatusActive, s.Status)
	assert.Equal(t, 3, info.Attempts)

	m = newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(200, `{"id":"half`))
	_, err = newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID, subkit.WithResponseInfo(&info))
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 4, ae.Attempts, "MaxAttempts reads in all")
	assertSentinels(t, err) // a read: nothing can have been applied
	assert.Len(t, m.requests(), 4)
}
