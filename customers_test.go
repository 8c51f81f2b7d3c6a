package subkit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

func TestPolarUUIDsAreSentCanonical(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	m.on(http.MethodGet, polarListURL+subscriptionID, answer(200, fixture(t, "polar-subscription.json")))
	c := newClient(t, m)
	upper := "{D8DD2DE1-21B7-4A41-8BC3-CE909C0CFE23}"
	urn := "urn:uuid:992fae2a2a174b7a8d9ee287cf90131b"
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: upper, CustomerID: urn})
	require.NoError(t, err)
	requireJSON(t, `{"product_id":"`+productID+`","customer_id":"`+customerID+`"}`, m.requests()[0].Body)
	for range c.Subscriptions.List(context.Background(), &subkit.SubscriptionListParams{ProductIDs: []string{upper}, CustomerIDs: []string{urn}}) {
	}
	assert.Equal(t, polarListURL+"?customer_id="+customerID+"&limit=100&page=1&product_id="+productID, m.requests()[1].URL)
	_, err = c.Subscriptions.Get(context.Background(), "0B7C6A548A0E4C4E9D442F2F5B1F6A10")
	require.NoError(t, err)
	assert.Equal(t, polarListURL+subscriptionID, m.requests()[2].URL)
}

func TestListRefusesAMetadataFilterKeyWithABracket(t *testing.T) {
	m := newMock(t)
	for _, err := range newClient(t, m).Subscriptions.List(context.Background(), &subkit.SubscriptionListParams{Metadata: map[string]string{"a]b": "1"}}) {
		var ve *subkit.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Len(t, ve.Fields, 1)
		assert.Equal(t, "metadata", ve.Fields[0].Field)
		assert.Contains(t, ve.Fields[0].Message, `"a]b"`)
	}
	assert.Zero(t, m.GetTotalCallCount(), "Polar would have filtered on the key \"a\"")
}

func TestFindByIdempotencyKeysAsksForManyKeysAtOnce(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, func(r *http.Request) (*http.Response, error) {
		keys := r.URL.Query()["metadata[subkit_idempotency_key]"]
		if len(keys) > 0 && keys[0] == "k-000" {
			// k-001 has a subscription, k-002 one of another key's owner as well.
			return answer(200, `{"items":[`+keyedItem(t, "k-001", "s1")+`,`+keyedItem(t, "k-002", "s2")+`,`+keyedItem(t, "zzz", "stranger")+`],
				"pagination":{"total_count":3,"max_page":1}}`)(r)
		}
		return answer(200, emptyPolarPage)(r)
	})
	keys := make([]string, 250)
	for i := range keys {
		keys[i] = fmt.Sprintf("k-%03d", i)
	}
	keys = append(keys, "k-001") // asked once
	var info subkit.ResponseInfo
	found, err := newClient(t, m).Subscriptions.FindByIdempotencyKeys(context.Background(), keys, subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	require.Len(t, found, 2, "only keys asked for, only keys found")
	assert.Equal(t, "s1", found["k-001"][0].ID)
	assert.Equal(t, "s2", found["k-002"][0].ID)
	reqs := m.requests()
	require.Len(t, reqs, 3, "250 keys: three requests of at most 100")
	var asked int
	for _, r := range reqs {
		u, err := url.Parse(r.URL)
		require.NoError(t, err)
		n := len(u.Query()["metadata[subkit_idempotency_key]"])
		assert.LessOrEqual(t, n, 100)
		assert.Equal(t, "100", u.Query().Get("limit"))
		asked += n
	}
	assert.Equal(t, 250, asked)
	assert.Equal(t, 3, info.Attempts)

	// Long keys: the batch stays under the query bound instead.
	m = newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, emptyPolarPage))
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("%03d", i) + strings.Repeat("x", 497)
	}
	_, err = newClient(t, m).Subscriptions.FindByIdempotencyKeys(context.Background(), long)
	require.NoError(t, err)
	assert.Greater(t, len(m.requests()), 1)
	for _, r := range m.requests() {
		assert.Less(t, len(r.URL), 8<<10, "a request line servers accept")
	}
}

func TestWithKeyLookupDecidesWithoutItsOwnLookup(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, polarCreateURL, answer(201, fixture(t, "polar-subscription.json")))
	c := newClient(t, m)
	var info subkit.ResponseInfo
	// None found by the caller's batch: the create is sent at once.
	_, err := createKeyed(c, nil, subkit.WithIdempotencyKey("b-1"), subkit.WithKeyLookup(nil), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, "POST", methods(m.requests()))

	// Found by the caller's batch: replayed, nothing sent.
	var sub subkit.Subscription
	require.NoError(t, json.Unmarshal([]byte(keyedItem(t, "b-2", "earlier")), &sub))
	s, err := createKeyed(c, nil, subkit.WithIdempotencyKey("b-2"), subkit.WithKeyLookup([]*subkit.Subscription{&sub}), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, "earlier", s.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, "POST", methods(m.requests()))

	// Made for another customer: a conflict, nothing sent.
	require.NoError(t, json.Unmarshal([]byte(strings.ReplaceAll(keyedItem(t, "b-3", "theirs"), customerID, "5b9e7f64-3c2d-4e1f-9a8b-7c6d5e4f3a2b")), &sub))
	_, err = createKeyed(c, nil, subkit.WithIdempotencyKey("b-3"), subkit.WithKeyLookup([]*subkit.Subscription{&sub}))
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, "POST", methods(m.requests()))
}

// keyedItem is the Polar fixture with id and an idempotency key.
func keyedItem(t *testing.T, key, id string) string {
	t.Helper()
	page := keyedPage(t, key, "", id)
	return page[len(`{"items":[`):strings.LastIndex(page, `],"pagination"`)]
}

func TestIdempotencyKeyOfASubscription(t *testing.T) {
	var s subkit.Subscription
	require.NoError(t, json.Unmarshal([]byte(keyedItem(t, "order-5", "x")), &s))
	assert.Equal(t, "order-5", s.IdempotencyKey())
	assert.Equal(t, "order-5", s.Metadata["subkit_idempotency_key"], "kept in Metadata, so that a metadata update from it keeps it")
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "polar-subscription.json")), &s))
	assert.Empty(t, s.IdempotencyKey())
}

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

func TestPolarListTakesCallOptions(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodGet, polarListURL, answer(200, polarPage(t, 2, "a1"), "X-Request-Id", "req_1"), answer(200, polarPage(t, 2, "a2"), "X-Request-Id", "req_2"))
	var info subkit.ResponseInfo
	n := 0
	for _, err := range newClient(t, m).Subscriptions.List(context.Background(), &subkit.SubscriptionListParams{PageSize: 500}, subkit.WithResponseInfo(&info)) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 2, n)
	assert.Equal(t, subkit.ResponseInfo{API: subkit.Polar, StatusCode: 200, RequestID: "req_2", Attempts: 2}, info, "the last page's response, every page's attempts")
	assert.Contains(t, m.requests()[0].URL, "limit=100", "a page size above 100 is lowered, as Polar does, not refused")
}
