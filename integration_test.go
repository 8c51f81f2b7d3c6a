package subkit_test

// Integration tests: the SDK against subkittest's fakes over real loopback
// sockets, for each of the four creates, with every fault subkittest can
// inject. Each case checks both sides: what the caller gets (the error's
// itSentinels, the *APIError, ResponseInfo) and what the server holds (its
// requests, its subscriptions, and which request created which).
//
// subkittest's own tests (faults_test.go) check that each fault is played
// as documented; these check the SDK's answer to each, across all four calls.

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

const (
	itAccount  = "acct_1NXWPnCo6bFb1KQe"
	itClient   = "64abc123def456789012345a"
	itAgent    = "64abc123def456789012345b"
	itProduct  = "prod_ABC123XYZ"
	itDispute  = "65f0c1d2e3a4b5c6d7e8f901"
	itPolarPr  = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	itPolarCu  = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
	itExternal = "usr_1337"
)

// itCall is one of the four creates, with what the server needs to accept
// it and what makes the server refuse it.
type itCall struct {
	name string
	api  subkit.API
	// path is where the create is sent.
	path string
	// status is the create's success status.
	status int
	// id matches the ID of a created subscription.
	id *regexp.Regexp
	// seed registers the objects the call names.
	seed func(srv *subkittest.Server)
	// create makes the call and returns the created subscription's ID.
	create func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) (string, error)
	// invalid makes the call with parameters the SDK refuses before sending.
	invalid func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) error
	// refuse seeds srv, instead of seed, so that the server itself refuses
	// the call with refusedStatus, which matches refusedAs.
	refuse        func(srv *subkittest.Server)
	refusedStatus int
	refusedAs     error
	// wrongKey is a client option with a credential the server refuses, and
	// wrongKeyStatus the status it refuses it with.
	wrongKey       subkit.Option
	wrongKeyStatus int
	wrongKeyAs     error
}

var itCalls = []itCall{
	{
		name: "ChatDash", api: subkit.ChatDash, status: http.StatusOK,
		path: "/v1/public/stripe/connect/accounts/" + itAccount + "/subscriptions",
		id:   regexp.MustCompile(`^sub_sched_\w+$`),
		seed: func(srv *subkittest.Server) {
			srv.AddChatDashAccount(itAccount)
			srv.AddChatDashClient(subkittest.ChatDashClient{ID: itClient})
			srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: itProduct})
		},
		create: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) (string, error) {
			sub, err := c.Subscriptions.CreateConnect(ctx, itAccount, &subkit.ConnectSubscriptionParams{
				ClientID: itClient, AgentIDs: []string{itAgent},
				SelectedProduct: subkit.ConnectProduct{ProductID: itProduct, StartDate: time.Now().Add(time.Hour),
					Pricing: subkit.ConnectPricing{Metrics: subkit.MetricMinutes}},
			}, opts...)
			if err != nil {
				return "", err
			}
			return sub.ID, nil
		},
		refuse: func(srv *subkittest.Server) {
			srv.AddChatDashAccount(itAccount)
			srv.AddChatDashClient(subkittest.ChatDashClient{ID: itClient, NoAdmin: true})
			srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: itProduct})
		},
		invalid: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateConnect(ctx, itAccount, &subkit.ConnectSubscriptionParams{ClientID: itClient}, opts...)
			return err
		},
		refusedStatus: http.StatusBadRequest, refusedAs: subkit.ErrRejected,
		wrongKey: subkit.WithAgencyKey("CD.ffffffffffffffffffffffffffffffff"), wrongKeyStatus: http.StatusUnauthorized, wrongKeyAs: subkit.ErrUnauthorized,
	},
	{
		name: "Chargeflow", api: subkit.Chargeflow, status: http.StatusCreated,
		path: "/public/2025-04-01/disputes/" + itDispute + "/subscription",
		id:   regexp.MustCompile(`^[0-9a-f]{24}$`),
		seed: func(srv *subkittest.Server) {
			srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: itDispute})
		},
		create: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) (string, error) {
			signup := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
			sub, err := c.Subscriptions.CreateForDispute(ctx, itDispute, &subkit.DisputeSubscriptionParams{
				SourceID: "sub_1PqRsTuVwXyZ", CreatedAt: signup, StartDate: signup,
				Frequency: subkit.FrequencyMonth, FrequencyCount: 1, PlanName: "Pro Monthly",
			}, opts...)
			if err != nil {
				return "", err
			}
			return sub.ID, nil
		},
		refuse: func(srv *subkittest.Server) {
			srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "aaaaaaaaaaaaaaaaaaaaaaaa"}) // not itDispute
		},
		invalid: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateForDispute(ctx, "not-a-dispute", &subkit.DisputeSubscriptionParams{}, opts...)
			return err
		},
		refusedStatus: http.StatusNotFound, refusedAs: subkit.ErrNotFound,
		wrongKey: subkit.WithChargeflowKey("cf_test_wrong"), wrongKeyStatus: http.StatusForbidden, wrongKeyAs: subkit.ErrForbidden,
	},
	{
		name: "Polar customer", api: subkit.Polar, status: http.StatusCreated, path: "/v1/subscriptions/",
		id: regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
		seed: func(srv *subkittest.Server) {
			srv.AddPolarProduct(subkittest.PolarProduct{ID: itPolarPr})
			srv.AddPolarCustomer(subkittest.PolarCustomer{ID: itPolarCu})
		},
		create: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) (string, error) {
			sub, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
				ProductID: itPolarPr, CustomerID: itPolarCu, Metadata: subkit.Metadata{"order_id": "ord_1001"},
			}, opts...)
			if err != nil {
				return "", err
			}
			return sub.ID, nil
		},
		refuse: func(srv *subkittest.Server) {
			srv.AddPolarProduct(subkittest.PolarProduct{ID: itPolarPr})
			srv.AddPolarCustomer(subkittest.PolarCustomer{}) // another customer
		},
		invalid: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: "not-a-uuid"}, opts...)
			return err
		},
		refusedStatus: http.StatusUnprocessableEntity, refusedAs: subkit.ErrRejected,
		wrongKey: subkit.WithOrganizationToken("polar_oat_wrong"), wrongKeyStatus: http.StatusUnauthorized, wrongKeyAs: subkit.ErrUnauthorized,
	},
	{
		name: "Polar external customer", api: subkit.Polar, status: http.StatusCreated, path: "/v1/subscriptions/",
		id: regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
		seed: func(srv *subkittest.Server) {
			srv.AddPolarProduct(subkittest.PolarProduct{ID: itPolarPr})
			srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: itExternal})
		},
		create: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) (string, error) {
			sub, err := c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
				ProductID: itPolarPr, ExternalCustomerID: itExternal,
			}, opts...)
			if err != nil {
				return "", err
			}
			return sub.ID, nil
		},
		refuse: func(srv *subkittest.Server) {
			// The product is not free: Polar subscribes only to free products.
			srv.AddPolarProduct(subkittest.PolarProduct{ID: itPolarPr, PriceAmount: 900})
			srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: itExternal})
		},
		invalid: func(ctx context.Context, c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{ProductID: itPolarPr}, opts...)
			return err
		},
		refusedStatus: http.StatusUnprocessableEntity, refusedAs: subkit.ErrRejected,
		wrongKey: subkit.WithOrganizationToken("polar_oat_wrong"), wrongKeyStatus: http.StatusUnauthorized, wrongKeyAs: subkit.ErrUnauthorized,
	},
}

// itFastRetries keeps retry waits in milliseconds; everything else is the
// default policy.
func itFastRetries() subkit.RetryPolicy {
	return subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}
}

// every sentinel, to check that an error matches exactly the expected ones.
var itSentinels = []error{
	subkit.ErrInvalidParams, subkit.ErrMissingCredential, subkit.ErrUnauthorized, subkit.ErrForbidden,
	subkit.ErrNotFound, subkit.ErrRejected, subkit.ErrRateLimited, subkit.ErrServer, subkit.ErrOutcomeUnknown,
}

// itCase is one way a create can go.
type itCase struct {
	name string
	// setup queues faults on a seeded server.
	setup func(srv *subkittest.Server, c itCall)
	// refused: the server is seeded with the call's refuse, not its seed.
	refused bool
	// opts are client options after the fast retry policy.
	opts func(c itCall) []subkit.Option
	// ctxTimeout, when set, is the caller's own deadline for the call.
	ctxTimeout time.Duration

	ok bool // the call returns a subscription
	// is lists the sentinels the error matches; it matches no other. isOf,
	// when set, gives them for the call instead.
	is   []error
	isOf func(c itCall) []error
	// deadline: the error also matches context.DeadlineExceeded.
	deadline bool
	// status is the *APIError's status (-1: the create's success status);
	// 0 means the error is no *APIError.
	status     int
	statusOf   func(c itCall) int
	message    string        // APIError.Message, when set
	retryAfter time.Duration // APIError.RetryAfter
	attempts   int           // requests the server saw, and ResponseInfo.Attempts
	created    int           // subscriptions the call's requests created
	// answered is the status the server recorded for each request (0: the
	// connection was closed without an answer).
	answered []int
	// await: the server finishes after the caller has left, so wait for
	// every request to be answered before looking at what it holds.
	await bool
}

// itInject queues each fault for the next n requests to the call's API, in
// order.
func itInject(n int, faults ...subkittest.Fault) func(*subkittest.Server, itCall) {
	return func(srv *subkittest.Server, c itCall) {
		for _, f := range faults {
			srv.InjectFault(c.api, n, f)
		}
	}
}

// itFaultCases plays each fault kind of subkittest against a call.
func itFaultCases() []itCase {
	const success = -1
	respond := func(status int, is ...error) itCase {
		return itCase{
			name:  "respond " + http.StatusText(status),
			setup: itInject(1, subkittest.Respond(status, `{"message":"injected answer"}`)),
			is:    is, status: status, message: "injected answer", attempts: 1, created: 0, answered: []int{status},
		}
	}
	cases := []itCase{
		{name: "success", ok: true, attempts: 1, created: 1, answered: []int{success}},
		{
			name: "refused by the server", refused: true,
			isOf:     func(c itCall) []error { return []error{c.refusedAs} },
			statusOf: func(c itCall) int { return c.refusedStatus }, attempts: 1, created: 0,
		},
		{
			name:     "wrong credential",
			opts:     func(c itCall) []subkit.Option { return []subkit.Option{c.wrongKey} },
			isOf:     func(c itCall) []error { return []error{c.wrongKeyAs} },
			statusOf: func(c itCall) int { return c.wrongKeyStatus }, attempts: 1, created: 0,
		},

		// Respond: an answer without handling; nothing is created.
		respond(http.StatusBadRequest, subkit.ErrRejected),
		respond(http.StatusUnauthorized, subkit.ErrUnauthorized),
		respond(http.StatusForbidden, subkit.ErrForbidden),
		respond(http.StatusNotFound, subkit.ErrNotFound),
		respond(http.StatusConflict, subkit.ErrRejected),
		respond(http.StatusUnprocessableEntity, subkit.ErrRejected),
		respond(http.StatusTeapot), // a 4xx no sentinel names: still a definite *APIError
		// A 5xx to a create is never retried by default: the caller cannot
		// know whether it was applied.
		respond(http.StatusInternalServerError, subkit.ErrServer, subkit.ErrOutcomeUnknown),
		respond(http.StatusBadGateway, subkit.ErrServer, subkit.ErrOutcomeUnknown),
		respond(http.StatusGatewayTimeout, subkit.ErrServer, subkit.ErrOutcomeUnknown),
		{
			name:  "respond 503 with Retry-After, not retried",
			setup: itInject(1, subkittest.Respond(503, "<html>upstream unavailable</html>").WithHeader("Retry-After", "0")),
			is:    []error{subkit.ErrServer, subkit.ErrOutcomeUnknown}, status: 503, message: "Service Unavailable",
			attempts: 1, created: 0, answered: []int{503},
		},

		// RateLimited: a 429 is never applied, so it is retried.
		{
			name:  "429 with Retry-After",
			setup: itInject(1, subkittest.RateLimited("1")),
			ok:    true, attempts: 2, created: 1, answered: []int{429, success},
		},
		{
			name:  "429 without Retry-After, twice",
			setup: itInject(2, subkittest.RateLimited("")),
			ok:    true, attempts: 3, created: 1, answered: []int{429, 429, success},
		},
		{
			name:  "429 every time",
			setup: itInject(10, subkittest.RateLimited("")),
			is:    []error{subkit.ErrRateLimited}, status: 429, attempts: 4, created: 0, answered: []int{429, 429, 429, 429},
		},
		{
			name:  "429 asking longer than MaxRetryAfter",
			setup: itInject(1, subkittest.RateLimited("3600")),
			is:    []error{subkit.ErrRateLimited}, status: 429, retryAfter: time.Hour, attempts: 1, created: 0, answered: []int{429},
		},
		{
			name:  "429 asking past the call's deadline",
			setup: itInject(1, subkittest.RateLimited("30")),
			opts:  func(itCall) []subkit.Option { return []subkit.Option{subkit.WithTimeout(5 * time.Second)} },
			is:    []error{subkit.ErrRateLimited}, status: 429, retryAfter: 30 * time.Second, attempts: 1, created: 0, answered: []int{429},
		},
		{
			name:  "429 with retries turned off",
			setup: itInject(1, subkittest.RateLimited("")),
			opts: func(itCall) []subkit.Option {
				p := itFastRetries()
				p.MaxAttempts = 1
				return []subkit.Option{subkit.WithRetryPolicy(p)}
			},
			is: []error{subkit.ErrRateLimited}, status: 429, attempts: 1, created: 0, answered: []int{429},
		},
		{
			name:  "429, then 503",
			setup: itInject(1, subkittest.RateLimited(""), subkittest.Respond(503, "")),
			is:    []error{subkit.ErrServer, subkit.ErrOutcomeUnknown}, status: 503, attempts: 2, created: 0, answered: []int{429, 503},
		},

		// Delay: handled at once, answered late.
		{
			name:  "delay within the deadline",
			setup: itInject(1, subkittest.Delay(50*time.Millisecond)),
			ok:    true, attempts: 1, created: 1, answered: []int{success},
		},
		{
			name:  "delay beyond WithTimeout",
			setup: itInject(1, subkittest.Delay(time.Minute)),
			opts:  func(itCall) []subkit.Option { return []subkit.Option{subkit.WithTimeout(time.Second)} },
			is:    []error{subkit.ErrOutcomeUnknown}, deadline: true, attempts: 1, created: 1,
		},
		{
			name:       "delay beyond the caller's context",
			setup:      itInject(1, subkittest.Delay(time.Minute)),
			ctxTimeout: time.Second,
			is:         []error{subkit.ErrOutcomeUnknown}, deadline: true, attempts: 1, created: 1,
		},

		// CommitLate: the create is applied, and answered, only after d.
		{
			name:  "commit late within the deadline",
			setup: itInject(1, subkittest.CommitLate(50*time.Millisecond)),
			ok:    true, attempts: 1, created: 1, answered: []int{success},
		},
		{
			name:  "commit late beyond WithTimeout",
			setup: itInject(1, subkittest.CommitLate(2*time.Second)),
			opts:  func(itCall) []subkit.Option { return []subkit.Option{subkit.WithTimeout(500 * time.Millisecond)} },
			// The caller is gone when the create is applied: it happened all
			// the same.
			is: []error{subkit.ErrOutcomeUnknown}, deadline: true, attempts: 1, created: 1, answered: []int{success}, await: true,
		},

		// Connections closed without an answer, after the request was sent.
		{
			name:  "close before handling",
			setup: itInject(1, subkittest.CloseBeforeHandling()),
			is:    []error{subkit.ErrOutcomeUnknown}, attempts: 1, created: 0, answered: []int{0},
		},
		{
			name:  "close after handling",
			setup: itInject(1, subkittest.CloseAfterHandling()),
			is:    []error{subkit.ErrOutcomeUnknown}, attempts: 1, created: 1, answered: []int{0},
		},
		{
			name:  "429, then close after handling",
			setup: itInject(1, subkittest.RateLimited(""), subkittest.CloseAfterHandling()),
			is:    []error{subkit.ErrOutcomeUnknown}, attempts: 2, created: 1, answered: []int{429, 0},
		},

		// Successes whose body cannot be read: created, result lost.
		{
			name:  "malformed body",
			setup: itInject(1, subkittest.MalformedBody()),
			is:    []error{subkit.ErrOutcomeUnknown}, status: success, attempts: 1, created: 1, answered: []int{success},
		},
		{
			name:  "oversized body with Content-Length",
			setup: itInject(1, subkittest.OversizedBody(8<<20, true)),
			is:    []error{subkit.ErrOutcomeUnknown}, status: success, attempts: 1, created: 1, answered: []int{success},
		},
		{
			name:  "oversized body, chunked",
			setup: itInject(1, subkittest.OversizedBody(8<<20, false)),
			is:    []error{subkit.ErrOutcomeUnknown}, status: success, attempts: 1, created: 1, answered: []int{success},
		},
	}
	return cases
}

func TestIntegrationFaults(t *testing.T) {
	t.Parallel()
	for _, c := range itCalls {
		for _, tc := range itFaultCases() {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				srv := subkittest.NewServer()
				t.Cleanup(srv.Close)
				if tc.refused {
					c.refuse(srv)
				} else {
					c.seed(srv)
				}
				if tc.setup != nil {
					tc.setup(srv, c)
				}
				opts := []subkit.Option{subkit.WithRetryPolicy(itFastRetries()), subkit.WithTimeout(20 * time.Second)}
				if tc.opts != nil {
					opts = append(opts, tc.opts(c)...)
				}
				client, err := srv.Client(opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(client.CloseIdleConnections)

				ctx := context.Background()
				if tc.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.ctxTimeout)
					defer cancel()
				}
				var info subkit.ResponseInfo
				id, err := c.create(ctx, client, subkit.WithResponseInfo(&info))

				itCheckCaller(t, c, tc, id, err, info)
				itCheckServer(t, srv, c, tc, id, err, info)
			})
		}
	}
}

// itCheckCaller checks what the call returned.
func itCheckCaller(t *testing.T, c itCall, tc itCase, id string, err error, info subkit.ResponseInfo) {
	t.Helper()
	if info.API != c.api || info.Attempts != tc.attempts {
		t.Errorf("ResponseInfo %+v, want API %s and %d attempt(s)", info, c.api, tc.attempts)
	}
	if tc.ok {
		if err != nil {
			t.Fatalf("error %v, want success", err)
		}
		if !c.id.MatchString(id) {
			t.Errorf("ID %q", id)
		}
		if info.StatusCode != c.status || info.Outcome != subkit.OutcomeCreated || info.RequestID == "" {
			t.Errorf("ResponseInfo %+v, want %d, a request ID and outcome created", info, c.status)
		}
		return
	}
	if err == nil {
		t.Fatalf("success (%s), want an error", id)
	}
	if info.Outcome != "" {
		t.Errorf("a failed call has Outcome %q", info.Outcome)
	}
	want := tc.is
	if tc.isOf != nil {
		want = tc.isOf(c)
	}
	for _, s := range itSentinels {
		if got, expected := errors.Is(err, s), itContains(want, s); got != expected {
			t.Errorf("errors.Is(err, %v) = %t, want %t; err: %v", s, got, expected, err)
		}
	}
	if got := errors.Is(err, context.DeadlineExceeded); got != tc.deadline {
		t.Errorf("errors.Is(err, context.DeadlineExceeded) = %t; err: %v", got, err)
	}

	status := tc.status
	if tc.statusOf != nil {
		status = tc.statusOf(c)
	}
	if status < 0 {
		status = c.status
	}
	var apiErr *subkit.APIError
	if !errors.As(err, &apiErr) {
		if status != 0 {
			t.Fatalf("error %v (%T) is no *APIError, want one with status %d", err, err, status)
		}
		if info.StatusCode != 0 || info.RequestID != "" {
			t.Errorf("no answer arrived, but ResponseInfo %+v", info)
		}
		return
	}
	if status == 0 {
		t.Fatalf("an *APIError %v, want a failure without an answer", apiErr)
	}
	if apiErr.API != c.api || apiErr.StatusCode != status || apiErr.Attempts != tc.attempts || apiErr.RequestID == "" {
		t.Errorf("APIError %+v, want %s, %d, %d attempt(s) and a request ID", apiErr, c.api, status, tc.attempts)
	}
	if info.StatusCode != status || info.RequestID != apiErr.RequestID {
		t.Errorf("ResponseInfo %+v does not match the APIError %+v", info, apiErr)
	}
	if apiErr.Message == "" || (tc.message != "" && apiErr.Message != tc.message) {
		t.Errorf("APIError.Message %q, want %q", apiErr.Message, tc.message)
	}
	if apiErr.RetryAfter != tc.retryAfter {
		t.Errorf("APIError.RetryAfter %s, want %s", apiErr.RetryAfter, tc.retryAfter)
	}
	success := status >= 200 && status <= 299
	if (errors.Unwrap(apiErr) != nil) != success {
		t.Errorf("APIError for %d unwraps to %v", status, errors.Unwrap(apiErr))
	}
	for _, secret := range []string{subkittest.AgencyKey, subkittest.ChargeflowKey, subkittest.PolarToken} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error carries a credential: %v", err)
		}
	}
}

// itCheckServer checks what the server saw and holds against what the caller
// was told.
func itCheckServer(t *testing.T, srv *subkittest.Server, c itCall, tc itCase, id string, err error, info subkit.ResponseInfo) {
	t.Helper()
	if tc.await {
		itAwaitAnswers(t, srv, c.api)
	}
	reqs := srv.Requests(c.api)
	if len(reqs) != tc.attempts {
		t.Errorf("the server saw %d request(s), want %d", len(reqs), tc.attempts)
	}
	var created []string
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.Path != c.path {
			t.Errorf("request %d: %s %s, want POST %s", i, r.Method, r.Path, c.path)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				for _, secret := range []string{subkittest.AgencyKey, subkittest.ChargeflowKey, subkittest.PolarToken} {
					if strings.Contains(v, secret) {
						t.Errorf("request %d: the recorded header %s carries a credential", i, k)
					}
				}
			}
		}
		by := r.Created
		if len(by) > 1 {
			t.Errorf("request %s created %d subscriptions", r.ID, len(by))
		}
		created = append(created, by...)
		if i < len(tc.answered) {
			want := tc.answered[i]
			if want < 0 {
				want = c.status
			}
			if r.Status != want {
				t.Errorf("request %d was answered %d, want %d", i, r.Status, want)
			}
		}
	}
	// The default policy never makes two subscriptions from one call.
	if len(created) != tc.created {
		t.Errorf("the call's requests created %d subscription(s), want %d", len(created), tc.created)
	}
	held := itHeldIDs(srv, c.api)
	if len(held) != len(created) {
		t.Errorf("the server holds %d subscription(s), the call created %d", len(held), len(created))
	}

	switch {
	case err == nil:
		// A success is exactly the one subscription its answer came from.
		if len(created) != 1 || created[0] != id {
			t.Errorf("the caller got %q; the call created %+v", id, created)
		}
		if by := itCreatedBy(srv, c.api, info.RequestID); len(by) != 1 || by[0] != id {
			t.Errorf("request %s created %v, want %s", info.RequestID, by, id)
		}
	case !errors.Is(err, subkit.ErrOutcomeUnknown):
		// A definite failure created nothing.
		if len(created) != 0 {
			t.Errorf("definite failure %v, but the server holds %+v", err, created)
		}
	}
	// And a create that happened without the caller getting it is always
	// reported as unknown.
	if len(created) > 0 && err != nil && !errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Errorf("the create happened but the error %v does not say the outcome is unknown", err)
	}
}

// itAwaitAnswers waits until the server has answered every request to api
// (to a caller that may be gone).
func itAwaitAnswers(t *testing.T, srv *subkittest.Server, api subkit.API) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pending := 0
		for _, r := range srv.Requests(api) {
			if r.Status == 0 {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d request(s) still unanswered", pending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// itHeldIDs lists the IDs of the subscriptions srv holds for api.
func itHeldIDs(srv *subkittest.Server, api subkit.API) []string {
	var ids []string
	switch api {
	case subkit.ChatDash:
		for _, s := range srv.ChatDashSubscriptions() {
			ids = append(ids, s.ID)
		}
	case subkit.Chargeflow:
		for _, s := range srv.ChargeflowSubscriptions() {
			ids = append(ids, s.ID)
		}
	case subkit.Polar:
		for _, s := range srv.PolarSubscriptions() {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// itCreatedBy lists the IDs of the subscriptions that the request to api
// with ID requestID created.
func itCreatedBy(srv *subkittest.Server, api subkit.API, requestID string) []string {
	for _, r := range srv.Requests(api) {
		if r.ID == requestID {
			return r.Created
		}
	}
	return nil
}

func itContains(list []error, e error) bool {
	for _, x := range list {
		if x == e {
			return true
		}
	}
	return false
}

// A server that is not there: every attempt fails before the request is
// written, so the SDK retries up to MaxAttempts and the failure is definite.
func TestIntegrationConnectionRefused(t *testing.T) {
	t.Parallel()
	for _, c := range itCalls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := subkittest.NewServer()
			client, err := srv.Client(subkit.WithRetryPolicy(itFastRetries()), subkit.WithTimeout(20*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(client.CloseIdleConnections)
			srv.Close() // its port now refuses connections

			var info subkit.ResponseInfo
			_, err = c.create(context.Background(), client, subkit.WithResponseInfo(&info))
			if err == nil {
				t.Fatal("success against a closed server")
			}
			for _, s := range itSentinels {
				if errors.Is(err, s) {
					t.Errorf("errors.Is(err, %v): nothing was sent; err: %v", s, err)
				}
			}
			var apiErr *subkit.APIError
			if errors.As(err, &apiErr) {
				t.Errorf("an *APIError without an answer: %+v", apiErr)
			}
			if info.Attempts != subkit.DefaultRetryPolicy().MaxAttempts || info.StatusCode != 0 {
				t.Errorf("ResponseInfo %+v, want %d attempts and no status", info, subkit.DefaultRetryPolicy().MaxAttempts)
			}
		})
	}
}

// RetryAmbiguous is the caller's explicit choice to repeat what may have been
// applied. Where the first attempt was not applied the repeat is harmless;
// where it was, the repeat creates a second subscription (Chargeflow's
// dispute keeps only the latest, so it still holds one).
func TestIntegrationRetryAmbiguous(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fault   subkittest.Fault
		created int // by the call's two attempts
	}{
		{"close before handling", subkittest.CloseBeforeHandling(), 1},
		{"respond 503", subkittest.Respond(503, ""), 1},
		{"close after handling", subkittest.CloseAfterHandling(), 2},
		{"malformed body", subkittest.MalformedBody(), 1}, // a lost success body is never repeated
	}
	for _, c := range itCalls {
		for _, tc := range cases {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				srv := subkittest.NewServer()
				t.Cleanup(srv.Close)
				c.seed(srv)
				srv.InjectFault(c.api, 1, tc.fault)
				p := itFastRetries()
				p.RetryAmbiguous = true
				client, err := srv.Client(subkit.WithRetryPolicy(p), subkit.WithTimeout(20*time.Second))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(client.CloseIdleConnections)

				var info subkit.ResponseInfo
				id, err := c.create(context.Background(), client, subkit.WithResponseInfo(&info))
				reqs := srv.Requests(c.api)
				var created []string
				for _, r := range reqs {
					created = append(created, r.Created...)
				}
				if len(created) != tc.created {
					t.Errorf("the call created %d subscription(s), want %d", len(created), tc.created)
				}
				if tc.name == "malformed body" {
					if !errors.Is(err, subkit.ErrOutcomeUnknown) || len(reqs) != 1 || info.Attempts != 1 {
						t.Errorf("error %v after %d request(s), info %+v", err, len(reqs), info)
					}
					return
				}
				if err != nil || info.Attempts != 2 || len(reqs) != 2 {
					t.Fatalf("error %v after %d request(s), info %+v", err, len(reqs), info)
				}
				if by := itCreatedBy(srv, c.api, info.RequestID); len(by) != 1 || by[0] != id {
					t.Errorf("request %s created %v, want %s", info.RequestID, by, id)
				}
			})
		}
	}
}

// One client shared by concurrent callers: each call makes exactly its own
// subscription, even with faults interleaved.
func TestIntegrationConcurrentCalls(t *testing.T) {
	t.Parallel()
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	polar := itCalls[2]
	polar.seed(srv)
	srv.InjectFault(subkit.Polar, 5, subkittest.RateLimited(""))
	client, err := srv.Client(subkit.WithRetryPolicy(itFastRetries()), subkit.WithTimeout(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(client.CloseIdleConnections)

	const n = 20
	type result struct {
		id   string
		info subkit.ResponseInfo
		err  error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			var r result
			r.id, r.err = polar.create(context.Background(), client, subkit.WithResponseInfo(&r.info))
			results <- r
		}()
	}
	ids := map[string]bool{}
	attempts := 0
	for range n {
		r := <-results
		if r.err != nil {
			t.Errorf("call failed: %v", r.err)
			continue
		}
		attempts += r.info.Attempts
		if by := itCreatedBy(srv, subkit.Polar, r.info.RequestID); len(by) != 1 || by[0] != r.id || ids[r.id] {
			t.Errorf("call got %s; its request created %+v", r.id, by)
		}
		ids[r.id] = true
	}
	if held := srv.PolarSubscriptions(); len(held) != n {
		t.Errorf("the server holds %d subscriptions after %d calls", len(held), n)
	}
	if got := len(srv.Requests(subkit.Polar)); got != n+5 || attempts != n+5 {
		t.Errorf("%d requests, %d attempts reported, want %d", got, attempts, n+5)
	}
}

// WithResponseInfo fills its destination "when the call returns, error or
// not" (calls.go). A call refused by client-side validation must leave it
// describing that call (no status, no request, no attempt, no outcome), not
// the previous call that used the same ResponseInfo.
func TestIntegrationResponseInfoAfterValidationError(t *testing.T) {
	t.Parallel()
	for _, c := range itCalls {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := subkittest.NewServer()
			t.Cleanup(srv.Close)
			c.seed(srv)
			client, err := srv.Client(subkit.WithRetryPolicy(itFastRetries()))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(client.CloseIdleConnections)
			ctx := context.Background()

			var info subkit.ResponseInfo
			if _, err := c.create(ctx, client, subkit.WithResponseInfo(&info)); err != nil || info.Outcome != subkit.OutcomeCreated {
				t.Fatalf("first call: %v, %+v", err, info)
			}
			err = c.invalid(ctx, client, subkit.WithResponseInfo(&info))
			if !errors.Is(err, subkit.ErrInvalidParams) {
				t.Fatalf("error %v, want ErrInvalidParams", err)
			}
			if want := (subkit.ResponseInfo{API: c.api}); info != want {
				t.Errorf("after a call refused before sending, ResponseInfo is %+v, want %+v", info, want)
			}
			if n := len(srv.Requests(c.api)); n != 1 {
				t.Errorf("the server saw %d requests, want only the first call's", n)
			}
		})
	}
}
