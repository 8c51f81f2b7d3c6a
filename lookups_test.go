package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

const (
	polarListURL   = "https://api.polar.sh/v1/subscriptions/"
	disputeGetURL  = "https://api.chargeflow.io/public/2025-04-01/disputes/" + disputeID
	connectListURL = "https://api.chat-dash.com/v1/public/stripe/connect/accounts/" + chatdashAccount + "/subscriptions"
	subscriptionID = "0b7c6a54-8a0e-4c4e-9d44-2f2f5b1f6a10"
)

// polarPage is a list answer holding the fixture under the given IDs.
func polarPage(t *testing.T, maxPage int, ids ...string) string {
	t.Helper()
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = strings.Replace(fixture(t, "polar-subscription.json"), subscriptionID, id, 1)
	}
	return fmt.Sprintf(`{"items":[%s],"pagination":{"total_count":%d,"max_page":%d}}`, strings.Join(items, ","), len(ids)*maxPage, maxPage)
}

func TestGetSendsTheDocumentedRequest(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(503, ""), answer(200, fixture(t, "polar-subscription.json"), "X-Request-Id", "req_g"))
	var info subkit.ResponseInfo
	s, err := newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subscriptionID, s.ID)
	assert.Equal(t, "Free", s.Product.Name)
	reqs := m.requests()
	require.Len(t, reqs, 2, "a read is retried after a 5xx")
	r := reqs[1]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "Bearer "+testPolarToken, r.Header.Get("Authorization"))
	assert.Equal(t, "2026-04", r.Header.Get("Polar-Version"))
	assert.Empty(t, r.Header.Get("Content-Type"), "no body, no content type")
	assert.Empty(t, r.Body)
	assert.Equal(t, subkit.ResponseInfo{API: subkit.Polar, StatusCode: 200, RequestID: "req_g", Attempts: 2}, info)
}

func TestGetErrors(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(404, `{"error":"ResourceNotFound","detail":"Not found"}`))
	_, err := newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID)
	assertSentinels(t, err, "ErrNotFound")
	var ae *subkit.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "ResourceNotFound", ae.Code)

	m = newMock(t)
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(500, ""))
	_, err = newClient(t, m).Subscriptions.Get(context.Background(), subscriptionID)
	assertSentinels(t, err, "ErrServer") // a read: nothing can have been applied
	assert.Len(t, m.requests(), 4, "MaxAttempts tries")

	m = newMock(t)
	_, err = newClient(t, m).Subscriptions.Get(context.Background(), "sub_1")
	assertSentinels(t, err, "ErrInvalidParams")
	assert.Zero(t, m.GetTotalCallCount())
}

func TestListBuildsTheQueryAndPagesLazily(t *testing.T) {
	m := newMock(t)
	pages := map[string]string{
		"1": polarPage(t, 3, "a1", "a2"),
		"2": polarPage(t, 3, "b1", "b2"),
		"3": polarPage(t, 3, "c1"),
	}
	m.on(http.MethodGet, polarListURL, func(r *http.Request) (*http.Response, error) {
		return answer(200, pages[r.URL.Query().Get("page")])(r)
	})
	c := newClient(t, m)
	params := &subkit.SubscriptionListParams{
		ProductIDs:          []string{productID, "6ba7b810-9dad-41d1-80b4-00c04fd430c8"},
		CustomerIDs:         []string{customerID},
		ExternalCustomerIDs: []string{"usr 1&2"},
		Statuses:            []subkit.SubscriptionStatus{subkit.SubscriptionStatusActive, "trialing"},
		Metadata:            map[string]string{"order": "o-1", "a b": "x/y"},
		PageSize:            2,
	}
	var ids []string
	for s, err := range c.Subscriptions.List(context.Background(), params) {
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{"a1", "a2", "b1", "b2", "c1"}, ids)
	reqs := m.requests()
	require.Len(t, reqs, 3)
	want := "https://api.polar.sh/v1/subscriptions/?customer_id=" + customerID +
		"&external_customer_id=usr+1%262&limit=2&metadata%5Ba+b%5D=x%2Fy&metadata%5Border%5D=o-1&page=1" +
		"&product_id=" + productID + "&product_id=6ba7b810-9dad-41d1-80b4-00c04fd430c8&status=active&status=trialing"
	assert.Equal(t, want, reqs[0].URL)
	q, err := url.ParseQuery(strings.SplitN(reqs[2].URL, "?", 2)[1])
	require.NoError(t, err)
	assert.Equal(t, "3", q.Get("page"))
	assert.Equal(t, []string{productID, "6ba7b810-9dad-41d1-80b4-00c04fd430c8"}, q["product_id"])

	// Breaking out after the first item fetches nothing more.
	m2 := newMock(t)
	m2.on(http.MethodGet, polarListURL, answer(200, polarPage(t, 3, "a1", "a2")))
	for range newClient(t, m2).Subscriptions.List(context.Background(), nil) {
		break
	}
	reqs = m2.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "https://api.polar.sh/v1/subscriptions/?limit=100&page=1", reqs[0].URL, "nil params: no filter")
}

func TestListErrorsAreYieldedOnceAndEndTheSequence(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, polarPage(t, 2, "a1")), answer(422,
		`{"error":"RequestValidationError","detail":[{"type":"uuid_parsing","loc":["query","customer_id"],"msg":"Input should be a valid UUID"}]}`))
	var got []string
	var errs []error
	for s, err := range newClient(t, m).Subscriptions.List(context.Background(), nil) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, s.ID)
	}
	assert.Equal(t, []string{"a1"}, got)
	require.Len(t, errs, 1)
	var ae *subkit.APIError
	require.ErrorAs(t, errs[0], &ae)
	assert.Equal(t, []subkit.FieldError{{Field: "customer_id", Message: "Input should be a valid UUID", Code: "uuid_parsing"}}, ae.Fields)
	assert.Len(t, m.requests(), 2)

	m = newMock(t)
	n := 0
	for _, err := range newClient(t, m).Subscriptions.List(context.Background(), &subkit.SubscriptionListParams{CustomerIDs: []string{"nope"}, PageSize: -1}) {
		n++
		var ve *subkit.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Len(t, ve.Fields, 2)
	}
	assert.Equal(t, 1, n)
	assert.Zero(t, m.GetTotalCallCount())

	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, `{"items":[],"pagination":{"total_count":0,"max_page":0}}`))
	for range newClient(t, m).Subscriptions.List(context.Background(), nil) {
		t.Fatal("an empty list yields nothing")
	}
}

func TestGetForDispute(t *testing.T) {
	sub := fixture(t, "chargeflow-create-subscription.json")
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, s *subkit.DisputeSubscription, err error)
	}{
		{"expanded object", 200, `{"id":"` + disputeID + `","status":"needs_response","subscription":` + sub + `}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sub_1PqRsTuVwXyZ", s.SourceID)
				assert.Equal(t, "66e6ea9ecd94925a9f8060d9", s.ID)
			}},
		{"array shape", 200, `{"id":"x","subscriptions":[null,` + sub + `]}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sub_1PqRsTuVwXyZ", s.SourceID)
			}},
		{"null", 200, `{"id":"x","subscription":null}`, func(t *testing.T, s *subkit.DisputeSubscription, err error) {
			assert.Nil(t, s)
			assertSentinels(t, err, "ErrNotFound")
			var ae *subkit.APIError
			assert.False(t, errors.As(err, &ae), "no HTTP error happened")
		}},
		{"absent", 200, `{"id":"x"}`, func(t *testing.T, s *subkit.DisputeSubscription, err error) {
			assertSentinels(t, err, "ErrNotFound")
		}},
		{"not expanded: an ID", 200, `{"id":"x","subscription":"66e6ea9ecd94925a9f8060d9"}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				var ae *subkit.APIError
				require.ErrorAs(t, err, &ae, "cannot tell is not the same as none")
				assertSentinels(t, err)
				assert.Contains(t, err.Error(), "not expanded")
			}},
		{"unknown dispute", 404, `{"message":"Dispute not found","requestId":"r9"}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				var ae *subkit.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "r9", ae.RequestID)
				assertSentinels(t, err, "ErrNotFound")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodGet, disputeGetURL, answer(tc.status, tc.body))
			s, err := newClient(t, m).Subscriptions.GetForDispute(context.Background(), disputeID)
			tc.check(t, s, err)
			reqs := m.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, disputeGetURL+"?expand=subscription", reqs[0].URL)
			assert.Equal(t, testCFKey, reqs[0].Header.Get("x-api-key"))
		})
	}
}

func TestGetConnect(t *testing.T) {
	m := newMock(t)
	url := connectListURL + "/sub_1ABC"
	m.on(http.MethodGet, url, answer(200, `{"id":"sub_1ABC","type":"subscription","status":"active","customer":"cus_9",
		"created":1700000000,"pricing":{"amount":"49.00","overage":"0.10","usageLimit":1000},"totalPrice":4900,"totalUsage":12.5}`))
	s, err := newClient(t, m).Subscriptions.GetConnect(context.Background(), chatdashAccount, "sub_1ABC")
	require.NoError(t, err)
	assert.Equal(t, subkit.ConnectCustomer{ID: "cus_9"}, s.Customer)
	assert.Equal(t, &subkit.ConnectPricingSummary{Amount: "49.00", Overage: "0.10", UsageLimit: 1000}, s.Pricing)
	require.NotNil(t, s.TotalPrice)
	assert.Equal(t, int64(4900), *s.TotalPrice)
	require.NotNil(t, s.TotalUsage)
	assert.Equal(t, 12.5, *s.TotalUsage)
	assert.Equal(t, testAgencyKey, m.requests()[0].Header.Get("Authorization"))

	m = newMock(t)
	m.on(http.MethodGet, url, answer(404, `{"message":"Subscription not found"}`))
	_, err = newClient(t, m).Subscriptions.GetConnect(context.Background(), chatdashAccount, "sub_1ABC")
	assertSentinels(t, err, "ErrNotFound")

	_, err = newClient(t, newMock(t)).Subscriptions.GetConnect(context.Background(), chatdashAccount, "")
	assertSentinels(t, err, "ErrInvalidParams")
}

func TestListConnectPagesByCursor(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, connectListURL, func(r *http.Request) (*http.Response, error) {
		switch r.URL.Query().Get("starting_after") {
		case "":
			return answer(200, `{"subscriptions":[{"id":"sub_1"},{"id":"sub_2"}],"has_more":true,"next_cursor":"sub_2"}`)(r)
		case "sub_2":
			return answer(200, `{"subscriptions":[{"id":"sub_3"}],"has_more":true,"next_cursor":null}`)(r)
		default:
			return answer(200, `{"subscriptions":[{"id":"sub_4"}],"has_more":false,"next_cursor":null}`)(r)
		}
	})
	var ids []string
	for s, err := range newClient(t, m).Subscriptions.ListConnect(context.Background(), chatdashAccount,
		&subkit.ConnectListParams{Status: subkit.ConnectListScheduled, PageSize: 2}) {
		require.NoError(t, err)
		ids = append(ids, s.ID)
	}
	assert.Equal(t, []string{"sub_1", "sub_2", "sub_3", "sub_4"}, ids)
	reqs := m.requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, connectListURL+"?limit=2&status=scheduled", reqs[0].URL)
	assert.Equal(t, connectListURL+"?limit=2&starting_after=sub_2&status=scheduled", reqs[1].URL)
	assert.Equal(t, connectListURL+"?limit=2&starting_after=sub_3&status=scheduled", reqs[2].URL, "without next_cursor, the last ID")

	m = newMock(t)
	m.on(http.MethodGet, connectListURL, answer(200, `{"subscriptions":[{"id":"sub_1"}],"has_more":true,"next_cursor":"sub_1"}`))
	var errs []error
	for _, err := range newClient(t, m).Subscriptions.ListConnect(context.Background(), chatdashAccount, nil) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1, "a cursor that repeats ends the sequence with one error")
	assert.Contains(t, errs[0].Error(), "repeats")
	assert.Len(t, m.requests(), 2)
	assert.Equal(t, connectListURL+"?limit=100", m.requests()[0].URL)

	m = newMock(t)
	m.on(http.MethodGet, connectListURL, answer(200, `{"subscriptions":[{"id":"sub_1"},{"id":"sub_2"}],"has_more":true,"next_cursor":"sub_2"}`))
	for range newClient(t, m).Subscriptions.ListConnect(context.Background(), chatdashAccount, nil) {
		break
	}
	assert.Len(t, m.requests(), 1, "an early break fetches no further page")
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
