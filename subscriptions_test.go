package subkit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

func fullConnectParams() *subkit.ConnectSubscriptionParams {
	return &subkit.ConnectSubscriptionParams{
		ClientID: "64abc123def456789012345a",
		AgentIDs: []string{"64abc123def456789012345b", "64abc123def456789012345c"},
		SelectedProduct: subkit.ConnectProduct{
			ProductID: "prod_ABC123XYZ",
			StartDate: time.Unix(1700000000, 0),
			Pricing:   subkit.ConnectPricing{Metrics: subkit.MetricMinutes},
		},
		CouponID:    "coupon_SUMMER",
		TaxSettings: subkit.ConnectTaxSettings{Enabled: true, Country: "US", PostalCode: "94102"},
	}
}

func TestCreateConnectSendsTheDocumentedRequest(t *testing.T) {
	cases := []struct {
		name   string
		params *subkit.ConnectSubscriptionParams
		body   string
	}{
		{
			name:   "full",
			params: fullConnectParams(),
			body: `{"data":{"clientId":"64abc123def456789012345a",
				"agentIds":["64abc123def456789012345b","64abc123def456789012345c"],
				"selectedProduct":{"productId":"prod_ABC123XYZ","startDate":1700000000,"pricing":{"metrics":"minutes"}},
				"couponId":"coupon_SUMMER","taxSettings":{"enabled":true,"country":"US","postalCode":"94102"}}}`,
		},
		{
			name: "minimal: the reference example",
			params: &subkit.ConnectSubscriptionParams{
				ClientID: "64abc123def456789012345a",
				AgentIDs: []string{"64abc123def456789012345b"},
				SelectedProduct: subkit.ConnectProduct{ProductID: "prod_ABC123XYZ",
					StartDate: time.Unix(1700000000, 999_000_000), Pricing: subkit.ConnectPricing{Metrics: "minutes"}},
			},
			body: `{"data":{"clientId":"64abc123def456789012345a","agentIds":["64abc123def456789012345b"],
				"selectedProduct":{"productId":"prod_ABC123XYZ","startDate":1700000000,"pricing":{"metrics":"minutes"}},
				"couponId":"","taxSettings":{"enabled":false}}}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chatdashCreateURL, answer(200, fixture(t, "chatdash-create-subscription.json")))
			c := newClient(t, m, subkit.WithUserAgent("billing-svc/1.4"))

			_, err := c.Subscriptions.CreateConnect(context.Background(), chatdashAccount, tc.params)
			require.NoError(t, err)

			reqs := m.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, chatdashCreateURL, r.URL)
			assert.Equal(t, testAgencyKey, r.Header.Get("Authorization"), "raw key, no Bearer")
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "application/json", r.Header.Get("Accept"))
			assert.Equal(t, "billing-svc/1.4 subkit-go/"+subkit.Version, r.Header.Get("User-Agent"))
			assert.Empty(t, r.Header.Get("x-api-key"), "no other API's credential")
			assert.Empty(t, r.Header.Get("Polar-Version"))
			requireJSON(t, tc.body, r.Body)
		})
	}
}

func TestCreateConnectEscapesTheAccountID(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, "https://api.chat-dash.com/v1/public/stripe/connect/accounts/acct%2F..%3Fx=1/subscriptions",
		answer(200, fixture(t, "chatdash-create-subscription.json")))
	c := newClient(t, m)
	_, err := c.Subscriptions.CreateConnect(context.Background(), "acct/..?x=1", fullConnectParams())
	require.NoError(t, err)
	require.Len(t, m.requests(), 1)
}

func TestCreateConnectDecodesTheFixture(t *testing.T) {
	m := newMock(t)
	m.on(http.MethodPost, chatdashCreateURL, answer(200, fixture(t, "chatdash-create-subscription.json"), "X-Request-Id", "req_cd_1"))
	c := newClient(t, m)
	var info subkit.ResponseInfo
	s, err := c.Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams(), subkit.WithResponseInfo(&info))
	require.NoError(t, err)

	unix := func(secs int64) *time.Time { t := time.Unix(secs, 0).UTC(); return &t }
	want := &subkit.ConnectSubscription{
		ID:                 "sub_sched_1ABC123DEF456GHI",
		Type:               "schedule",
		Status:             "not_started",
		Customer:           subkit.ConnectCustomer{ID: "cus_ABC123XYZ", Email: "owner@example.com"},
		CurrentPeriodStart: unix(1700000000),
		CurrentPeriodEnd:   unix(1702600000),
		StartDate:          unix(1700000000),
		Created:            time.Unix(1700000000, 0).UTC(),
		CollectionMethod:   "charge_automatically",
		CancelAtPeriodEnd:  false,
		CanceledAt:         nil,
		Product:            subkit.ConnectProductSummary{ID: "prod_ABC123XYZ", Name: "Pro Plan"},
		AutomaticTax:       false,
		Coupon:             "",
		PriceIDs:           []string{"price_ABC123", "price_DEF456"},
		Agents:             "Agent 1",
	}
	assert.Equal(t, want, s)
	assert.Equal(t, subkit.ResponseInfo{API: subkit.ChatDash, StatusCode: 200, RequestID: "req_cd_1", Attempts: 1,
		Outcome: subkit.OutcomeCreated}, info)
}

func TestConnectSubscriptionDecodesEveryShape(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, s *subkit.ConnectSubscription)
	}{
		{"customer as a bare ID (the get endpoint)", `{"id":"sub_1","customer":"cus_9","created":1700000000}`,
			func(t *testing.T, s *subkit.ConnectSubscription) {
				assert.Equal(t, subkit.ConnectCustomer{ID: "cus_9"}, s.Customer)
			}},
		{"keys absent", `{"id":"sub_1"}`, func(t *testing.T, s *subkit.ConnectSubscription) {
			assert.Nil(t, s.StartDate)
			assert.Nil(t, s.CurrentPeriodEnd)
			assert.True(t, s.Created.IsZero())
			assert.Nil(t, s.PriceIDs)
		}},
		{"nulls and a cancellation", `{"id":"sub_1","customer":null,"current_period_start":null,"startDate":null,
			"canceled_at":1700000123,"cancel_at_period_end":true,"cancelAtPeriodEndDisplay":"Cancels on Nov 30"}`,
			func(t *testing.T, s *subkit.ConnectSubscription) {
				assert.Nil(t, s.CurrentPeriodStart)
				require.NotNil(t, s.CanceledAt)
				assert.Equal(t, time.Unix(1700000123, 0).UTC(), *s.CanceledAt)
				assert.True(t, s.CancelAtPeriodEnd)
				require.NotNil(t, s.CancelAtPeriodEndDisplay)
				assert.Equal(t, "Cancels on Nov 30", *s.CancelAtPeriodEndDisplay)
			}},
		{"unknown keys and values kept", `{"id":"sub_1","type":"subscription","status":"paused_forever",
			"pricing":{"amount":"10.00"},"totalPrice":1000,"agents":"Agent 1, Agent 2"}`,
			func(t *testing.T, s *subkit.ConnectSubscription) {
				assert.Equal(t, "subscription", s.Type)
				assert.Equal(t, "paused_forever", s.Status)
				assert.Equal(t, "Agent 1, Agent 2", s.Agents)
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chatdashCreateURL, answer(200, tc.body))
			s, err := newClient(t, m).Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams())
			require.NoError(t, err)
			tc.check(t, s)
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

// FindConnect is the check README and ErrOutcomeUnknown point to after a
// ChatDash create whose outcome is unknown. It must find the create whatever
// status it started in, and say so when it cannot tell two apart.

type connectFake struct {
	srv     *subkittest.Server
	c       *subkit.Client
	account string
}

func newConnectFake(t *testing.T) *connectFake {
	t.Helper()
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	f := &connectFake{srv: srv, account: "acct_find_1"}
	srv.AddChatDashAccount(f.account)
	for _, id := range []string{"64abc123def456789012345a", "64abc123def456789012345d"} {
		srv.AddChatDashClient(subkittest.ChatDashClient{ID: id})
	}
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: "prod_ABC123XYZ"})
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: "prod_OTHER"})
	c, err := srv.Client(subkit.WithRetryPolicy(fastPolicy()))
	require.NoError(t, err)
	f.c = c
	return f
}

func connectParams(client, product string, start time.Time) *subkit.ConnectSubscriptionParams {
	return &subkit.ConnectSubscriptionParams{
		ClientID: client, AgentIDs: []string{"64abc123def456789012345b"},
		SelectedProduct: subkit.ConnectProduct{ProductID: product, StartDate: start, Pricing: subkit.ConnectPricing{Metrics: subkit.MetricMinutes}},
	}
}

func (f *connectFake) create(t *testing.T, p *subkit.ConnectSubscriptionParams) *subkit.ConnectSubscription {
	t.Helper()
	s, err := f.c.Subscriptions.CreateConnect(context.Background(), f.account, p)
	require.NoError(t, err)
	return s
}

func TestFindConnectFindsACreateWhateverItsStartDate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start time.Time
	}{
		{"in the past: active at once", time.Now().Add(-48 * time.Hour).Truncate(time.Second)},
		{"now", time.Now().Truncate(time.Second)},
		{"in the future: a schedule not started", time.Now().Add(30 * 24 * time.Hour).Truncate(time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newConnectFake(t)
			p := connectParams("64abc123def456789012345a", "prod_ABC123XYZ", tc.start)
			created := f.create(t, p)
			// Neighbours that must not match: another product, another start.
			f.create(t, connectParams("64abc123def456789012345a", "prod_OTHER", tc.start))
			f.create(t, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", tc.start.Add(time.Hour)))

			var info subkit.ResponseInfo
			got, err := f.c.Subscriptions.FindConnect(context.Background(), f.account, p, subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Equal(t, created.ID, got.ID)
			assert.Equal(t, 200, info.StatusCode)

			// It asked for every status a fresh create can have.
			var statuses []string
			for _, r := range f.srv.Requests(subkit.ChatDash) {
				if r.Method != http.MethodGet {
					continue
				}
				q, err := url.ParseQuery(r.Query)
				require.NoError(t, err)
				statuses = append(statuses, q.Get("status"))
			}
			assert.Equal(t, []string{"scheduled", "trialing", "active", "incomplete"}, statuses)
			assert.Equal(t, len(statuses), info.Attempts, "the attempts of every listing")
		})
	}
}

func TestFindConnectSaysWhenNothingMatches(t *testing.T) {
	f := newConnectFake(t)
	start := time.Now().Add(-time.Hour).Truncate(time.Second)
	f.create(t, connectParams("64abc123def456789012345a", "prod_OTHER", start))
	_, err := f.c.Subscriptions.FindConnect(context.Background(), f.account, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", start))
	require.ErrorIs(t, err, subkit.ErrNotFound)
	var ae *subkit.APIError
	assert.False(t, errors.As(err, &ae), "no HTTP error happened")
	assert.Contains(t, err.Error(), "prod_ABC123XYZ")
}

func TestFindConnectSaysWhenTwoClientsCannotBeToldApart(t *testing.T) {
	f := newConnectFake(t)
	start := time.Now().Add(7 * 24 * time.Hour).Truncate(time.Second)
	a := f.create(t, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", start))
	b := f.create(t, connectParams("64abc123def456789012345d", "prod_ABC123XYZ", start))
	_, err := f.c.Subscriptions.FindConnect(context.Background(), f.account, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", start))
	require.ErrorIs(t, err, subkit.ErrAmbiguousMatch)
	var am *subkit.AmbiguousMatchError
	require.ErrorAs(t, err, &am)
	var ids []string
	for _, c := range am.Candidates {
		ids = append(ids, c.ID)
	}
	assert.ElementsMatch(t, []string{a.ID, b.ID}, ids)
	assert.Contains(t, err.Error(), a.ID)
	assert.Equal(t, subkit.ActionFix, subkit.Classify(err).Action)
}

func TestFindConnectTreatsAnUndatedCandidateAsAmbiguous(t *testing.T) {
	// An item without startDate cannot be ruled out.
	m := newMock(t)
	page := `{"subscriptions":[{"id":"sub_1","type":"subscription","status":"active","product":{"id":"prod_ABC123XYZ","name":"Pro"},"created":1700000000}],"has_more":false,"next_cursor":null}`
	empty := `{"subscriptions":[],"has_more":false,"next_cursor":null}`
	m.on(http.MethodGet, chatdashCreateURL, func(r *http.Request) (*http.Response, error) {
		if r.URL.Query().Get("status") == "active" {
			return answer(200, page)(r)
		}
		return answer(200, empty)(r)
	})
	_, err := newClient(t, m).Subscriptions.FindConnect(context.Background(), chatdashAccount, fullConnectParams())
	require.ErrorIs(t, err, subkit.ErrAmbiguousMatch)
	assert.Len(t, m.requests(), 4)
}

func TestListConnectListsWhatItSays(t *testing.T) {
	f := newConnectFake(t)
	past := f.create(t, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", time.Now().Add(-time.Hour)))
	future := f.create(t, connectParams("64abc123def456789012345a", "prod_ABC123XYZ", time.Now().Add(time.Hour)))
	ids := func(p *subkit.ConnectListParams, info *subkit.ResponseInfo) []string {
		var out []string
		for s, err := range f.c.Subscriptions.ListConnect(context.Background(), f.account, p, subkit.WithResponseInfo(info)) {
			require.NoError(t, err)
			out = append(out, s.ID)
		}
		return out
	}
	var info subkit.ResponseInfo
	assert.Equal(t, []string{past.ID}, ids(nil, &info), "nil params: the active ones only")
	assert.Equal(t, subkit.ResponseInfo{API: subkit.ChatDash, StatusCode: 200, RequestID: info.RequestID, Attempts: 1}, info)
	assert.NotEmpty(t, info.RequestID)
	assert.ElementsMatch(t, []string{past.ID, future.ID}, ids(&subkit.ConnectListParams{Statuses: subkit.ConnectListStatuses()}, &info))
	assert.Equal(t, len(subkit.ConnectListStatuses()), info.Attempts, "one listing per status, every attempt counted")

	// Paging within a status and across statuses, one item a page.
	for i := range 3 {
		f.create(t, connectParams("64abc123def456789012345a", "prod_OTHER", time.Now().Add(time.Duration(i+2)*time.Hour)))
	}
	got := ids(&subkit.ConnectListParams{Statuses: []subkit.ConnectListStatus{subkit.ConnectListScheduled, subkit.ConnectListActive}, PageSize: 1}, &info)
	assert.Len(t, got, 5)
	assert.Equal(t, past.ID, got[4], "active ones after the scheduled ones")

	// A bad status is refused before sending; the info says so.
	info = subkit.ResponseInfo{StatusCode: 999}
	for _, err := range f.c.Subscriptions.ListConnect(context.Background(), f.account,
		&subkit.ConnectListParams{Statuses: []subkit.ConnectListStatus{""}}, subkit.WithResponseInfo(&info)) {
		assert.ErrorIs(t, err, subkit.ErrInvalidParams)
	}
	assert.Equal(t, subkit.ResponseInfo{API: subkit.ChatDash}, info)
}

// FuzzDecodeConnectSubscription checks the ChatDash decoder against a plain
// decoding of the same document: it never panics, decodes whenever the
// fields it knows have the types it expects, and then agrees with the
// document on every one of them.
func FuzzDecodeConnectSubscription(f *testing.F) {
	f.Add(fuzzFixture(f, "chatdash-create-subscription.json"))
	for _, s := range []string{
		`{"id":"sub_1","customer":"cus_1","created":-62135596801,"startDate":9223372036854775807}`,
		`{"customer":{"id":"cus_1","email":null},"current_period_start":null,"canceled_at":1e3}`,
		`{"customer":null,"priceIds":null,"pricing":{"amount":"10.00","usageLimit":1e308},"totalPrice":-1}`,
		`{"customer":"` + "\xff" + `","created":0}`, `null`, `[]`, `{"created":1.5}`, `{"customer":[]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got subkit.ConnectSubscription
		err := json.Unmarshal(data, &got)
		var again subkit.ConnectSubscription
		if err2 := json.Unmarshal(data, &again); (err == nil) != (err2 == nil) || !reflect.DeepEqual(got, again) {
			t.Fatalf("decoding is not deterministic: %v / %v", err, err2)
		}
		var doc map[string]json.RawMessage
		if json.Unmarshal(data, &doc) != nil || doc == nil {
			return
		}
		if err != nil {
			return // a known key had another type: checked by the cases above
		}
		str := func(key, field string) {
			var want string
			if raw, ok := doc[key]; ok && json.Unmarshal(raw, &want) == nil && want != field {
				t.Fatalf("%s: %q, document has %q", key, field, want)
			}
		}
		str("id", got.ID)
		str("type", got.Type)
		str("status", got.Status)
		str("customer", got.Customer.ID) // a bare ID
		unix := func(key string, field *time.Time) {
			var secs *int64
			raw, ok := doc[key]
			if !ok || json.Unmarshal(raw, &secs) != nil {
				return
			}
			switch {
			case secs == nil && field != nil:
				t.Fatalf("%s: null decoded as %v", key, field)
			case secs != nil && (field == nil || field.Unix() != *secs || field.Location() != time.UTC):
				t.Fatalf("%s: %d decoded as %v", key, *secs, field)
			}
		}
		unix("current_period_start", got.CurrentPeriodStart)
		unix("current_period_end", got.CurrentPeriodEnd)
		unix("startDate", got.StartDate)
		unix("canceled_at", got.CanceledAt)
		if raw, ok := doc["created"]; ok {
			var secs int64
			if json.Unmarshal(raw, &secs) == nil && secs != 0 && got.Created.Unix() != secs {
				t.Fatalf("created: %d decoded as %v", secs, got.Created)
			}
		}
	})
}
