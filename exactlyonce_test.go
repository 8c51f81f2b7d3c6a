package subkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

const emptyPolarPage = `{"items":[],"pagination":{"total_count":0,"max_page":0}}`

// lookupURL is the key-only look-up of a keyed Polar create.
func lookupURL(key string) string {
	return polarListURL + "?limit=100&metadata%5Bsubkit_idempotency_key%5D=" + url.QueryEscape(key) + "&page=1"
}

// keyedPage is a Polar list page whose items were created under key for
// productID and customerID; customer, if given, replaces the customer ID.
func keyedPage(t *testing.T, key, customer string, ids ...string) string {
	t.Helper()
	items := make([]string, len(ids))
	for i, id := range ids {
		item := strings.Replace(fixture(t, "polar-subscription.json"), subscriptionID, id, 1)
		// Metadata as the create sent it (createKeyed's nil metadata): only the key.
		item = strings.Replace(item, `"metadata": {"reference_id": "ABC123", "seats_hint": 3, "ratio": 0.75, "vip": true}`,
			`"metadata": {"subkit_idempotency_key": "`+key+`"}`, 1)
		if customer != "" {
			item = strings.ReplaceAll(item, customerID, customer)
		}
		items[i] = item
	}
	return fmt.Sprintf(`{"items":[%s],"pagination":{"total_count":%d,"max_page":1}}`, strings.Join(items, ","), len(ids))
}

func keyedPolicy(settle time.Duration) subkit.RetryPolicy {
	p := fastPolicy()
	p.SettleTime = settle
	return p
}

// methods lists the methods of the requests, in order.
func methods(reqs []recorded) string {
	var b []string
	for _, r := range reqs {
		b = append(b, r.Method)
	}
	return strings.Join(b, " ")
}

func createKeyed(c *subkit.Client, md subkit.Metadata, opts ...subkit.CallOption) (*subkit.Subscription, error) {
	return c.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID, Metadata: md}, opts...)
}

func TestKeyedCreateReplaysWhatAnEarlierCallCreated(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-1", "", "earlier"), "X-Request-Id", "req_lookup"))
	var info subkit.ResponseInfo
	s, err := createKeyed(newClient(t, m), nil, subkit.WithIdempotencyKey("order-1"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, "earlier", s.ID)
	assert.Equal(t, subkit.ResponseInfo{API: subkit.Polar, StatusCode: 200, LookupRequestID: "req_lookup", Attempts: 0,
		Outcome: subkit.OutcomeReplayed}, info, "no request ID of the create: a look-up found it")
	reqs := m.requests()
	require.Equal(t, "GET", methods(reqs), "nothing is sent")
	assert.Equal(t, lookupURL("order-1"), reqs[0].URL, "the look-up names the key alone")
}

func TestKeyedCreateIgnoresItemsWithoutTheKey(t *testing.T) {
	// A proxy that drops the metadata filter returns strangers' subscriptions:
	// none carries the key, so none is this create.
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, polarPage(t, 1, "stranger")))
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m), nil, subkit.WithIdempotencyKey("order-2"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, "GET POST", methods(m.requests()))

	// Nor is an item whose key merely starts with this one.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-22", "", "other")))
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	_, err = createKeyed(newClient(t, m), nil, subkit.WithIdempotencyKey("order-2"))
	require.NoError(t, err)
	assert.Equal(t, "GET POST", methods(m.requests()))
}

func TestKeyedCreateRefusesAKeyUsedForAnotherCreate(t *testing.T) {
	other := "5b9e7f64-3c2d-4e1f-9a8b-7c6d5e4f3a2b"
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-3", other, "theirs")))
	var info subkit.ResponseInfo
	s, err := createKeyed(newClient(t, m), nil, subkit.WithIdempotencyKey("order-3"), subkit.WithResponseInfo(&info))
	assert.Nil(t, s)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown, "definite: nothing was sent")
	assert.Contains(t, err.Error(), `"order-3"`)
	assert.Equal(t, "GET", methods(m.requests()))
	assert.Equal(t, subkit.ActionFix, subkit.Classify(err).Action)
	assert.Equal(t, http.StatusConflict, subkit.Classify(err).HTTPStatus)

	// The same key for the same customer named by external ID is another
	// create too: the identity is the product and the customer as named.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-3", "", "mine")))
	_, err = newClient(t, m).Subscriptions.CreateForExternalCustomer(context.Background(),
		&subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_other"}, subkit.WithIdempotencyKey("order-3"))
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)

	// …while the external ID the subscription's customer carries matches.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-3", "", "mine")))
	s, err = newClient(t, m).Subscriptions.CreateForExternalCustomer(context.Background(),
		&subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_1337"}, subkit.WithIdempotencyKey("order-3"))
	require.NoError(t, err)
	assert.Equal(t, "mine", s.ID)
}

func TestKeyedCreateSendsTheKeyInMetadata(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	md := subkit.Metadata{"plan": "pro"}
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m), md, subkit.WithIdempotencyKey("order-1"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, 1, info.Attempts)
	reqs := m.requests()
	require.Equal(t, "GET POST", methods(reqs))
	requireJSON(t, `{"product_id":"`+productID+`","customer_id":"`+customerID+`",
		"metadata":{"plan":"pro","subkit_idempotency_key":"order-1"}}`, reqs[1].Body)
	assert.Equal(t, subkit.Metadata{"plan": "pro"}, md, "the caller's map is untouched")
}

func TestKeyedCreateReconcilesAnAmbiguousFailure(t *testing.T) {
	faults := map[string]func(*http.Request) (*http.Response, error){
		"503":            answer(503, "", "X-Request-Id", "req_create"),
		"reset":          fail(reset),
		"lost body":      answer(201, `{"id":`, "X-Request-Id", "req_create"),
		"oversized body": answer(201, `{"id":"`+strings.Repeat("x", 5<<20)+`"}`, "X-Request-Id", "req_create"),
	}
	for name, fault := range faults {
		t.Run(name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, polarCreateURL, fault)
			// The replay check finds nothing (a new key); the first look-up after
			// the failure neither (a lagging replica); the second does.
			m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage), answer(200, emptyPolarPage),
				answer(200, keyedPage(t, "order-7", "", "created-by-this-call"), "X-Request-Id", "req_found"))
			var info subkit.ResponseInfo
			s, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(time.Second))), nil,
				subkit.WithIdempotencyKey("order-7"), subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Equal(t, "created-by-this-call", s.ID)
			want := subkit.ResponseInfo{API: subkit.Polar, StatusCode: 200, RequestID: "req_create", LookupRequestID: "req_found",
				Attempts: 1, Outcome: subkit.OutcomeReconciled}
			if name == "reset" {
				want.RequestID = "" // no response, no request ID
			}
			assert.Equal(t, want, info, "the create's own request ID is kept")
			reqs := m.requests()
			assert.Equal(t, "GET POST GET GET", methods(reqs), "found before SettleTime ran out: no further look-up")
			assert.Equal(t, lookupURL("order-7"), reqs[3].URL)
		})
	}
}

func TestKeyedCreateLooksUntilSettleTimeBeforeCreatingAgain(t *testing.T) {
	m := newMock(t)
	var mu sync.Mutex
	var failedAt, lastLook time.Time
	m.on(http.MethodPost, polarCreateURL, func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		if failedAt.IsZero() {
			failedAt = time.Now()
			return answer(502, "")(r)
		}
		return answer(201, fixture(t, "polar-subscription.json"))(r)
	})
	m.on(http.MethodGet, polarListURL, func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		lastLook = time.Now()
		mu.Unlock()
		return answer(200, emptyPolarPage)(r)
	})
	settle := 200 * time.Millisecond
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(settle))), nil,
		subkit.WithIdempotencyKey("order-9"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, 2, info.Attempts)
	got := methods(m.requests())
	assert.True(t, strings.HasPrefix(got, "GET POST GET GET"), "looked more than once: %s", got)
	assert.True(t, strings.HasSuffix(got, "GET POST"), "created again only after the last miss: %s", got)
	// Not a timing measurement: the second POST must not come before the
	// create could have settled, however fast the machine.
	posts := 0
	for _, r := range m.requests() {
		if r.Method == http.MethodPost {
			posts++
		}
	}
	assert.Equal(t, 2, posts)
	mu.Lock()
	defer mu.Unlock()
	assert.GreaterOrEqual(t, lastLook.Sub(failedAt), settle, "the miss that proves \"not applied\" comes at SettleTime")
}

func TestKeyedCreateRetriesWithTheSameKeyWhenNothingWasApplied(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, fail(reset), answer(201, fixture(t, "polar-subscription.json")))
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(4*time.Millisecond))), subkit.Metadata{"n": 1},
		subkit.WithIdempotencyKey("order-8"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, 2, info.Attempts)
	reqs := m.requests()
	var posts []recorded
	for _, r := range reqs {
		if r.Method == http.MethodPost {
			posts = append(posts, r)
		}
	}
	require.Len(t, posts, 2)
	assert.Equal(t, "GET", reqs[len(reqs)-2].Method, "a look-up right before the second POST")
	assert.Equal(t, string(posts[0].Body), string(posts[1].Body), "the same key, the same body")
	assert.Contains(t, string(posts[1].Body), `"subkit_idempotency_key":"order-8"`)
}

func TestKeyedCreateProvenNotAppliedIsDefinite(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, answer(503, `{"detail":"down"}`))
	p := keyedPolicy(4 * time.Millisecond)
	p.MaxAttempts = 2
	var info subkit.ResponseInfo
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(p)), nil, subkit.WithIdempotencyKey("k"), subkit.WithResponseInfo(&info))
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 503, ae.StatusCode)
	assert.Equal(t, 2, ae.Attempts)
	assertSentinels(t, err, "ErrServer") // not ErrOutcomeUnknown: the look-up proved nothing happened
	assert.Contains(t, err.Error(), "not applied")
	got := methods(m.requests())
	assert.Equal(t, 2, strings.Count(got, "POST"), got)
	assert.Regexp(t, `POST( GET)+$`, got, "the last attempt was looked up too")
	assert.Equal(t, 2, info.Attempts)

	// The same for a failure without a response.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, fail(reset))
	p.MaxAttempts = 1
	_, err = createKeyed(newClient(t, m, subkit.WithRetryPolicy(p)), nil, subkit.WithIdempotencyKey("k"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
}

func TestKeyedCreateWhoseLookupFailsStaysUnknown(t *testing.T) {
	m := newMock(t)
	gets := 0
	m.on(http.MethodGet, polarListURL, func(r *http.Request) (*http.Response, error) {
		gets++
		if gets == 1 {
			return answer(200, emptyPolarPage)(r)
		}
		return answer(502, "bad gateway")(r)
	})
	m.on(http.MethodPost, polarCreateURL, answer(500, `{"detail":"boom"}`))
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(time.Millisecond))), nil, subkit.WithIdempotencyKey("k"))
	require.Error(t, err)
	assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 500, ae.StatusCode, "errors.As finds the create's error first")
	assert.Contains(t, err.Error(), "looking it up failed")
	assert.Contains(t, err.Error(), "502")
	assert.Equal(t, "GET POST GET GET GET GET", methods(m.requests()), "the look-up had its own MaxAttempts tries")
}

func TestKeyedCreateWhoseReplayLookupFailsSendsNothing(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(401, `{"error":"invalid_token","error_description":"expired"}`))
	_, err := createKeyed(newClient(t, m), nil, subkit.WithIdempotencyKey("k"))
	assertSentinels(t, err, "ErrUnauthorized")
	assert.Equal(t, "GET", methods(m.requests()))
}

func TestReconcilePolicyKeysEveryCreateWithARandomKey(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(503, ""))
	var mu sync.Mutex
	var key string
	m.on(http.MethodGet, polarListURL, func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		return answer(200, keyedPage(t, key, "", "found"))(r)
	})
	p := keyedPolicy(time.Second)
	p.Reconcile = true
	var info subkit.ResponseInfo
	c := newClient(t, m, subkit.WithRetryPolicy(p))
	m.on(http.MethodPost, polarCreateURL, func(r *http.Request) (*http.Response, error) {
		var body struct {
			Metadata map[string]string `json:"metadata"`
		}
		reqs := m.requests() // on records the request, body included, before answering
		require.NoError(t, json.Unmarshal(reqs[len(reqs)-1].Body, &body))
		mu.Lock()
		key = body.Metadata["subkit_idempotency_key"]
		mu.Unlock()
		return answer(503, "")(r)
	})
	s, err := createKeyed(c, nil, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, "found", s.ID)
	assert.Equal(t, subkit.OutcomeReconciled, info.Outcome)
	reqs := m.requests()
	require.Equal(t, "POST GET", methods(reqs), "a random key is new: no replay look-up")
	assert.Regexp(t, `^sk_[0-9a-f]{32}$`, key)
	assert.Equal(t, lookupURL(key), reqs[1].URL)
}

func TestKeyedCreateIgnoresRetryAmbiguous(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, answer(503, ""), answer(201, fixture(t, "polar-subscription.json")))
	p := keyedPolicy(4 * time.Millisecond)
	p.RetryAmbiguous = true
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(p)), nil, subkit.WithIdempotencyKey("k"))
	require.NoError(t, err)
	got := methods(m.requests())
	assert.Equal(t, 2, strings.Count(got, "POST"))
	assert.NotContains(t, got, "POST POST", "never two POSTs without a look-up between them")
}

func TestKeyedChargeflowCreate(t *testing.T) {
	withSub := func(sourceID string) string {
		return `{"id":"` + disputeID + `","subscription":` +
			strings.Replace(fixture(t, "chargeflow-create-subscription.json"), "sub_1PqRsTuVwXyZ", sourceID, 1) + `}`
	}
	t.Run("replay", func(t *testing.T) {
		m := newMock(t)
		m.on(http.MethodGet, disputeGetURL, answer(200, withSub("sub_1PqRsTuVwXyZ")))
		var info subkit.ResponseInfo
		s, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams(),
			subkit.WithIdempotencyKey("any"), subkit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "66e6ea9ecd94925a9f8060d9", s.ID)
		assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
		assert.Equal(t, "GET", methods(m.requests()))
		assert.Equal(t, disputeGetURL+"?expand=subscription", m.requests()[0].URL)
	})
	t.Run("another create's subscription is refused, not replaced", func(t *testing.T) {
		m := newMock(t)
		m.on(http.MethodGet, disputeGetURL, answer(200, withSub("sub_other")))
		_, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams(),
			subkit.WithIdempotencyKey("any"))
		require.ErrorIs(t, err, subkit.ErrDisputeHasSubscription)
		assert.ErrorIs(t, err, subkit.ErrNotSent)
		assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
		var oe *subkit.DisputeOccupiedError
		require.ErrorAs(t, err, &oe)
		assert.Equal(t, "sub_other", oe.Existing.SourceID)
		assert.Contains(t, err.Error(), "66e6ea9ecd94925a9f8060d9", "names the subscription it holds")
		assert.Equal(t, "GET", methods(m.requests()), "nothing sent")
	})
	t.Run("another create's subscription replaced when asked", func(t *testing.T) {
		m := newMock(t)
		m.on(http.MethodGet, disputeGetURL, answer(200, withSub("sub_other")))
		m.on(http.MethodPost, chargeflowCreateURL, answer(201, fixture(t, "chargeflow-create-subscription.json")))
		var info subkit.ResponseInfo
		_, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams(),
			subkit.WithIdempotencyKey("any"), subkit.WithReplaceExisting(), subkit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
		assert.Equal(t, "GET POST", methods(m.requests()))
		requireJSON(t, `{"source_id":"sub_1PqRsTuVwXyZ","created_at":"2024-05-01T09:30:00Z","start_date":"2024-05-01T09:30:00Z",
			"frequency":"month","frequency_count":1}`, m.requests()[1].Body)
	})
	t.Run("the same source_id with other values is a conflict", func(t *testing.T) {
		m := newMock(t)
		m.on(http.MethodGet, disputeGetURL, answer(200, withSub("sub_1PqRsTuVwXyZ")))
		p := minimalDisputeParams()
		p.PlanName = "Another plan"
		_, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, p, subkit.WithIdempotencyKey("any"))
		require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
		assert.Equal(t, "GET", methods(m.requests()), "nothing sent")
	})
	t.Run("reconcile", func(t *testing.T) {
		m := newMock(t)
		m.on(http.MethodGet, disputeGetURL, answer(200, `{"id":"x","subscription":null}`), answer(200, withSub("sub_1PqRsTuVwXyZ")))
		m.on(http.MethodPost, chargeflowCreateURL, fail(io.ErrUnexpectedEOF))
		var info subkit.ResponseInfo
		s, err := newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(time.Millisecond))).Subscriptions.CreateForDispute(
			context.Background(), disputeID, minimalDisputeParams(), subkit.WithIdempotencyKey("k"), subkit.WithResponseInfo(&info))
		require.NoError(t, err)
		assert.Equal(t, "sub_1PqRsTuVwXyZ", s.SourceID)
		assert.Equal(t, subkit.OutcomeReconciled, info.Outcome)
		assert.Equal(t, "GET POST GET", methods(m.requests()))
	})
}

func TestChatDashCannotBeKeyed(t *testing.T) {
	m := newMock(t)
	_, err := newClient(t, m).Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams(), subkit.WithIdempotencyKey("k"))
	var ve *subkit.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "idempotency_key", ve.Fields[0].Field)
	assert.Zero(t, m.GetTotalCallCount())

	m = newMock(t)
	m.on(http.MethodPost, chatdashCreateURL, answer(503, ""))
	p := keyedPolicy(time.Millisecond)
	p.Reconcile = true
	err = connect(chatdashAccount, nil)(newClient(t, m, subkit.WithRetryPolicy(p)))
	assertSentinels(t, err, "ErrServer", "ErrOutcomeUnknown")
	assert.Equal(t, "POST", methods(m.requests()), "Reconcile leaves ChatDash as it is")
}

func TestIdempotencyKeyValidation(t *testing.T) {
	cases := []struct {
		name  string
		md    subkit.Metadata
		key   *string
		field string
	}{
		{"empty key", nil, ptr(""), "idempotency_key"},
		{"501-character key", nil, ptr(strings.Repeat("k", 501)), "idempotency_key"},
		{"key with NUL", nil, ptr("a\x00"), "idempotency_key"},
		{"reserved key without a key", subkit.Metadata{"subkit_idempotency_key": "mine"}, nil, "metadata.subkit_idempotency_key"},
		{"reserved key with a key", subkit.Metadata{"subkit_idempotency_key": "mine"}, ptr("k"), "metadata.subkit_idempotency_key"},
		{"50 pairs leave no room for the key", pairs(50), ptr("k"), "metadata"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			var opts []subkit.CallOption
			if tc.key != nil {
				opts = append(opts, subkit.WithIdempotencyKey(*tc.key))
			}
			_, err := createKeyed(newClient(t, m), tc.md, opts...)
			var ve *subkit.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Len(t, ve.Fields, 1, "%v", err)
			assert.Equal(t, tc.field, ve.Fields[0].Field)
			assert.Zero(t, m.GetTotalCallCount())

			if tc.field == "idempotency_key" {
				_, err = newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams(), opts...)
				assert.ErrorIs(t, err, subkit.ErrInvalidParams, "the same key rules for Chargeflow")
				assert.Zero(t, m.GetTotalCallCount())
			}
		})
	}
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	_, err := createKeyed(newClient(t, m), pairs(49), subkit.WithIdempotencyKey(strings.Repeat("é", 500)))
	require.NoError(t, err, "49 pairs and a 500-character key fit")
}

func ptr[T any](v T) *T { return &v }

func TestAttemptTimeoutBoundsEachAttempt(t *testing.T) {
	hang := func(r *http.Request) (*http.Response, error) { <-r.Context().Done(); return nil, r.Context().Err() }

	// A create attempt that runs out after sending is ambiguous.
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, hang)
	p := fastPolicy()
	p.AttemptTimeout = 20 * time.Millisecond
	_, err := createKeyed(newClient(t, m, subkit.WithRetryPolicy(p)), nil)
	assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Len(t, m.requests(), 1)

	// A read that runs out is simply tried again.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, hang, answer(200, fixture(t, "polar-subscription.json")))
	_, err = newClient(t, m, subkit.WithRetryPolicy(p)).Subscriptions.Get(context.Background(), subscriptionID)
	require.NoError(t, err)
	assert.Len(t, m.requests(), 2)
}

func TestKeyedCreateCancelledWhileSettlingStaysUnknown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodPost, polarCreateURL, func(r *http.Request) (*http.Response, error) {
		time.AfterFunc(10*time.Millisecond, cancel)
		return answer(503, "")(r)
	})
	_, err := newClient(t, m, subkit.WithRetryPolicy(keyedPolicy(time.Minute))).Subscriptions.CreateForCustomer(ctx,
		&subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, subkit.WithIdempotencyKey("k"))
	assert.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.ErrorIs(t, err, context.Canceled)
	assert.True(t, errors.Is(err, subkit.ErrServer))
}

func TestKeyedCreateLogsTellTheStepsApart(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(503, ""))
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage), answer(200, keyedPage(t, "order-l", "", "found")))
	var logs logLines
	_, err := createKeyed(newClient(t, m, subkit.WithLogger(logs.logger()), subkit.WithRetryPolicy(keyedPolicy(time.Second))),
		nil, subkit.WithIdempotencyKey("order-l"))
	require.NoError(t, err)
	var phases []string
	for _, l := range logs.at(t, "DEBUG") {
		assert.Equal(t, "subkit: attempt", l["msg"])
		phases = append(phases, l["method"].(string)+" "+l["phase"].(string))
	}
	assert.Equal(t, []string{"GET replay_check", "POST create", "GET reconcile"}, phases)
	warns := logs.at(t, "WARN")
	require.Len(t, warns, 1)
	assert.Equal(t, "subkit: ambiguous create reconciled: it was applied", warns[0]["msg"])
	assert.Equal(t, "polar", warns[0]["api"])
	assert.Contains(t, warns[0]["error"], "503")

	// Proven not applied: one Warn line too, and a plain create says "create".
	m = newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(503, ""), answer(201, fixture(t, "polar-subscription.json")))
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	logs = logLines{}
	_, err = createKeyed(newClient(t, m, subkit.WithLogger(logs.logger()), subkit.WithRetryPolicy(keyedPolicy(4*time.Millisecond))),
		nil, subkit.WithIdempotencyKey("order-m"))
	require.NoError(t, err)
	warns = logs.at(t, "WARN")
	require.Len(t, warns, 1)
	assert.Equal(t, "subkit: ambiguous create proven not applied", warns[0]["msg"])

	m = newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(200, fixture(t, "polar-subscription.json")))
	logs = logLines{}
	_, err = newClient(t, m, subkit.WithLogger(logs.logger())).Subscriptions.Get(context.Background(), subscriptionID)
	require.NoError(t, err)
	assert.Equal(t, "read", logs.at(t, "DEBUG")[0]["phase"])
}

// A pending create in the store outweighs the caller's own look-up: the
// call settles with real look-ups instead of trusting a batch that may be
// older than the pending create.
func TestPendingRecordOutweighsTheCallersLookup(t *testing.T) {
	var ago atomic.Int64 // the store's clock: a minute back while the create is "sent"
	ago.Store(int64(time.Minute))
	store := subkit.NewMemoryStore(subkit.MemoryClock(func() time.Time { return time.Now().Add(-time.Duration(ago.Load())) }))
	m0 := newMock(t)
	pending := subkit.PolarPendingRecord(newClient(t, m0), &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}, "order-p")
	lock, _, err := store.Lock(context.Background(), "polar:order-p", subkit.LockRequest{Lease: time.Second, Claim: pending, ClaimTTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, lock.Unlock(context.Background()))
	ago.Store(0)

	// Settled long ago: one look decides, and it must be a real one.
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, keyedPage(t, "order-p", "", "pending-one")))
	var info subkit.ResponseInfo
	s, err := createKeyed(newClient(t, m, subkit.WithIdempotencyStore(store), subkit.WithRetryPolicy(keyedPolicy(time.Second))), nil,
		subkit.WithIdempotencyKey("order-p"), subkit.WithKeyLookup(nil), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, "pending-one", s.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, "GET", methods(m.requests()), "looked for real, never created")
}

// The idempotency store, over real sockets: keyed creates take their key in
// the store, so calls with one key never create twice however they overlap,
// and a later call replays the store's record without asking the API.

// storeFake is a fake with one Polar product and customer and one
// Chargeflow dispute, seeded.
type storeFake struct {
	srv                 *subkittest.Server
	product, customer   string
	otherProduct        string
	dispute             string
	externalCustomerRef string
}

func newStoreFake(t *testing.T) *storeFake {
	t.Helper()
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	f := &storeFake{srv: srv, dispute: "65f0c1d2e3a4b5c6d7e8f9aa", externalCustomerRef: "usr_store_1"}
	f.product = srv.AddPolarProduct(subkittest.PolarProduct{})
	f.otherProduct = srv.AddPolarProduct(subkittest.PolarProduct{Name: "Other"})
	f.customer = srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: f.externalCustomerRef})
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: f.dispute})
	return f
}

func (f *storeFake) client(t *testing.T, opts ...subkit.Option) *subkit.Client {
	t.Helper()
	p := fastPolicy()
	p.SettleTime = 200 * time.Millisecond
	c, err := f.srv.Client(append([]subkit.Option{subkit.WithRetryPolicy(p)}, opts...)...)
	require.NoError(t, err)
	return c
}

func (f *storeFake) create(c *subkit.Client, product, key string, info *subkit.ResponseInfo) (*subkit.Subscription, error) {
	return c.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: f.customer},
		subkit.WithIdempotencyKey(key), subkit.WithResponseInfo(info))
}

func (f *storeFake) polarRequests(method string) int {
	n := 0
	for _, r := range f.srv.Requests(subkit.Polar) {
		if r.Method == method {
			n++
		}
	}
	return n
}

func TestOverlappingKeyedCallsCreateOnce(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := "one client"
		if shared {
			name = "four clients sharing one store"
		}
		t.Run(name, func(t *testing.T) {
			f := newStoreFake(t)
			store := subkit.NewMemoryStore()
			clients := []*subkit.Client{f.client(t)}
			if shared {
				clients = nil
				for range 4 {
					clients = append(clients, f.client(t, subkit.WithIdempotencyStore(store)))
				}
			}
			// The first create is slow, so the others arrive while it runs:
			// what an HTTP client that retries on its own timeout does.
			f.srv.InjectFault(subkit.Polar, 1, subkittest.Delay(150*time.Millisecond).On(subkittest.OpCreate))
			const n = 8
			infos := make([]subkit.ResponseInfo, n)
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := f.create(clients[i%len(clients)], f.product, "signup-42", &infos[i])
					errs[i] = err
					if s != nil {
						ids[i] = s.ID
					}
				}()
			}
			wg.Wait()
			held := f.srv.PolarSubscriptions()
			require.Equal(t, 1, len(held), "one key, one subscription")
			created := 0
			for i := range n {
				require.NoError(t, errs[i])
				assert.Equal(t, held[0].ID, ids[i], "every call returns the same subscription")
				switch infos[i].Outcome {
				case subkit.OutcomeCreated:
					created++
				case subkit.OutcomeReplayed:
					assert.Zero(t, infos[i].Attempts, "a replay sends no create")
					assert.Equal(t, held[0].RequestID, infos[i].RequestID, "a replay from the store keeps the create's request ID")
				default:
					t.Errorf("call %d: outcome %q", i, infos[i].Outcome)
				}
			}
			assert.Equal(t, 1, created)
			assert.Equal(t, 1, f.polarRequests(http.MethodPost))
			assert.Equal(t, 1, f.polarRequests(http.MethodGet), "only the first call looked the key up at the API")
		})
	}
}

func TestKeyedCreateReplaysFromTheStoreWithoutRequests(t *testing.T) {
	f := newStoreFake(t)
	c := f.client(t)
	var first, again subkit.ResponseInfo
	s1, err := f.create(c, f.product, "order-11", &first)
	require.NoError(t, err)
	before := len(f.srv.Requests(subkit.Polar))
	s2, err := f.create(c, f.product, "order-11", &again)
	require.NoError(t, err)
	assert.Equal(t, s1.ID, s2.ID)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)), "nothing sent: the store has the record")
	assert.Equal(t, subkit.ResponseInfo{API: subkit.Polar, StatusCode: first.StatusCode, RequestID: first.RequestID,
		Outcome: subkit.OutcomeReplayed}, again)
	assert.Equal(t, s1, s2, "the recorded subscription is the created one, field for field")
}

func TestKeyReusedForAnotherCreateIsAConflict(t *testing.T) {
	f := newStoreFake(t)
	c := f.client(t)
	var info subkit.ResponseInfo
	_, err := f.create(c, f.product, "order-12", &info)
	require.NoError(t, err)
	before := len(f.srv.Requests(subkit.Polar))

	// Found in the store: nothing is sent.
	_, err = f.create(c, f.otherProduct, "order-12", &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)))

	// Found by the key-only look-up on a client without the record: the
	// same verdict, after one GET and no POST.
	_, err = f.create(f.client(t), f.otherProduct, "order-12", &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, 1, f.polarRequests(http.MethodPost))
	assert.Equal(t, 1, len(f.srv.PolarSubscriptions()))

	// Chargeflow: the key for another dispute is found in the store.
	other := "65f0c1d2e3a4b5c6d7e8f9bb"
	f.srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: other})
	p := minimalDisputeParams()
	_, err = c.Subscriptions.CreateForDispute(context.Background(), f.dispute, p, subkit.WithIdempotencyKey("cf-1"))
	require.NoError(t, err)
	_, err = c.Subscriptions.CreateForDispute(context.Background(), other, p, subkit.WithIdempotencyKey("cf-1"))
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, 1, len(f.srv.ChargeflowSubscriptions()))

	// A key is scoped to its API: the Polar key "order-12" is free on Chargeflow.
	_, err = c.Subscriptions.CreateForDispute(context.Background(), other, p, subkit.WithIdempotencyKey("order-12"))
	require.NoError(t, err)
}

// A process that died between sending its create and recording it leaves its
// lock (until the lease runs out) and a pending record behind. The next call
// waits for the lease, looks the create up until it has settled, and replays
// it: still exactly one subscription.
func TestKeyedCreateAfterAHolderDied(t *testing.T) {
	testAfterAHolderDied(t, subkit.NewMemoryStore())
}

func testAfterAHolderDied(t *testing.T, store subkit.IdempotencyStore) {
	f := newStoreFake(t)
	const lease = 150 * time.Millisecond
	const key = "order-13"

	// The dead process: it took the key, recorded that it was sending, sent
	// the create (as the SDK would, key in metadata), and died.
	c := f.client(t, subkit.WithIdempotencyStore(store), subkit.WithIdempotencyLease(lease))
	pending := subkit.PolarPendingRecord(c, &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer}, key)
	_, rec, err := store.Lock(context.Background(), "polar:"+key, subkit.LockRequest{Lease: lease, Claim: pending, ClaimTTL: time.Hour})
	require.NoError(t, err)
	require.Nil(t, rec)
	body, _ := json.Marshal(map[string]any{"product_id": f.product, "customer_id": f.customer,
		"metadata": map[string]string{"subkit_idempotency_key": key}})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL()+"/v1/subscriptions/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+subkittest.PolarToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	var info subkit.ResponseInfo
	s, err := f.create(c, f.product, key, &info)
	require.NoError(t, err)
	held := f.srv.PolarSubscriptions()
	require.Equal(t, 1, len(held))
	assert.Equal(t, held[0].ID, s.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, 1, f.polarRequests(http.MethodPost), "the dead process's create only")

	// The lease it left is over and the key is recorded now: a later call
	// neither waits nor asks the API.
	before := len(f.srv.Requests(subkit.Polar))
	_, err = f.create(c, f.product, key, &info)
	require.NoError(t, err)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)))
}

// A call waiting for a key that another call holds gives up when its own
// context ends: nothing sent, and it says so.
func TestWaitingForAKeyEndsWithTheContext(t *testing.T) {
	f := newStoreFake(t)
	store := subkit.NewMemoryStore()
	lock, _, err := store.Lock(context.Background(), "polar:order-14", subkit.LockRequest{Lease: time.Minute})
	require.NoError(t, err)
	defer func() { _ = lock.Unlock(context.Background()) }()
	c := f.client(t, subkit.WithIdempotencyStore(store))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer},
		subkit.WithIdempotencyKey("order-14"))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.Empty(t, f.srv.Requests(subkit.Polar))
}

// A store that cannot be reached is tried again for up to one lease (a
// link that drops for a moment costs a wait, not the call), then the keyed
// create fails definitely, having sent nothing.
func TestKeyedCreateWithoutItsStoreSendsNothing(t *testing.T) {
	f := newStoreFake(t)
	var tries atomic.Int32
	c := f.client(t, subkit.WithIdempotencyStore(failingStore{&tries}), subkit.WithIdempotencyLease(300*time.Millisecond))
	var info subkit.ResponseInfo
	_, err := f.create(c, f.product, "order-15", &info)
	require.ErrorIs(t, err, subkit.ErrStoreUnavailable)
	assert.Greater(t, tries.Load(), int32(1), "tried again within the lease")
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown, "definite: nothing was sent")
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.Equal(t, subkit.ActionRetryLater, subkit.Classify(err).Action)
	assert.Empty(t, f.srv.Requests(subkit.Polar))

	// Unkeyed creates do not use the store.
	_, err = c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer})
	require.NoError(t, err)
	// Nor do Reconcile's random keys, which cannot collide.
	p := fastPolicy()
	p.Reconcile = true
	c = f.client(t, subkit.WithIdempotencyStore(failingStore{}), subkit.WithRetryPolicy(p))
	_, err = c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer})
	require.NoError(t, err)
}
