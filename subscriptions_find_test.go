package subkit_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

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
