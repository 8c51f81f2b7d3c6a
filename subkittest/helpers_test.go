package subkittest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"go.uber.org/goleak"
)

// TestMain fails the package's test binary if any goroutine outlives its
// tests: a leaked connection, timer or server goroutine is a bug, not noise.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// IDs used across the tests.
const (
	productID  = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	customerID = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
	uuidV1     = "c232ab00-9414-11ec-b3c8-9f6bdeced846"
	disputeID  = "65f0c1d2e3a4b5c6d7e8f901"
	accountID  = "acct_1PqRsTuVwXyZ"
)

// The objects the tests' requests name, which newServer registers.
const (
	clientID        = "64abc123def456789012345a"
	chatdashProduct = "prod_ABC123XYZ"
	externalID      = "usr_42"
)

// newServer starts a server with the objects the tests name registered:
// the Polar product and customer (external ID externalID), the Chargeflow
// dispute, the ChatDash account, client and product.
func newServer(t *testing.T, opts ...ServerOption) *Server {
	t.Helper()
	s := newEmptyServer(t, opts...)
	s.AddPolarProduct(PolarProduct{ID: productID})
	s.AddPolarCustomer(PolarCustomer{ID: customerID, ExternalID: externalID})
	s.AddChargeflowDispute(ChargeflowDispute{ID: disputeID})
	s.AddChatDashAccount(accountID)
	s.AddChatDashClient(ChatDashClient{ID: clientID})
	s.AddChatDashProduct(ChatDashProduct{ID: chatdashProduct})
	return s
}

// newEmptyServer starts a server with nothing registered.
func newEmptyServer(t *testing.T, opts ...ServerOption) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(s.Close)
	return s
}

// fastPolicy keeps retry waits in milliseconds; everything else is the
// SDK's default policy.
func fastPolicy() subkit.Option {
	return subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
}

func newClient(t *testing.T, s *Server, opts ...subkit.Option) *subkit.Client {
	t.Helper()
	c, err := s.Client(append([]subkit.Option{fastPolicy(), subkit.WithTimeout(20 * time.Second)}, opts...)...)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func polarParams() *subkit.CustomerSubscriptionParams {
	return &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID,
		Metadata: subkit.Metadata{"plan": "pro", "seats": 3, "ratio": 0.75, "vip": true}}
}

func disputeParams() *subkit.DisputeSubscriptionParams {
	return &subkit.DisputeSubscriptionParams{
		SourceID: "sub_1PqRsTuVwXyZ", AccountID: "65f0c1d2e3a4b5c6d7e8f9aa",
		CreatedAt: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC), StartDate: time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		Frequency: subkit.FrequencyMonth, FrequencyCount: 3, CollectionMethod: subkit.CollectionSendInvoice,
		TrialEnd: time.Date(2024, 5, 15, 9, 30, 0, 0, time.UTC), CancellationReason: subkit.ReasonTooExpensive,
		PlanName: "Pro Quarterly",
	}
}

func connectParams() *subkit.ConnectSubscriptionParams {
	return &subkit.ConnectSubscriptionParams{
		ClientID: "64abc123def456789012345a", AgentIDs: []string{"64abc123def456789012345b", "64abc123def456789012345c"},
		SelectedProduct: subkit.ConnectProduct{ProductID: "prod_ABC123XYZ", StartDate: time.Unix(1700000000, 0),
			Pricing: subkit.ConnectPricing{Metrics: subkit.MetricMinutes}},
		CouponID: "SPRING", TaxSettings: subkit.ConnectTaxSettings{Enabled: true},
	}
}

// creates runs one create per API through the SDK, for tests that treat the
// three alike.
var creates = []struct {
	api    subkit.API
	create func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo) (string, error)
}{
	{subkit.ChatDash, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo) (string, error) {
		s, err := c.Subscriptions.CreateConnect(ctx, accountID, connectParams(), subkit.WithResponseInfo(info))
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
	{subkit.Chargeflow, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo) (string, error) {
		s, err := c.Subscriptions.CreateForDispute(ctx, disputeID, disputeParams(), subkit.WithResponseInfo(info))
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
	{subkit.Polar, func(ctx context.Context, c *subkit.Client, info *subkit.ResponseInfo) (string, error) {
		s, err := c.Subscriptions.CreateForCustomer(ctx, polarParams(), subkit.WithResponseInfo(info))
		if err != nil {
			return "", err
		}
		return s.ID, nil
	}},
}

// rawCreates are a valid create per API, with its path and credentials,
// for raw tests.
var rawCreates = map[subkit.API]struct {
	path   string
	header map[string]string
	body   string
}{
	subkit.ChatDash: {"/v1/public/stripe/connect/accounts/" + accountID + "/subscriptions",
		map[string]string{"Authorization": AgencyKey, "Content-Type": "application/json"},
		`{"data":{"clientId":"64abc123def456789012345a","agentIds":["64abc123def456789012345b"],` +
			`"selectedProduct":{"productId":"prod_ABC123XYZ","startDate":1700000000,"pricing":{"metrics":"minutes"}},` +
			`"couponId":"","taxSettings":{"enabled":false}}}`},
	subkit.Chargeflow: {"/public/2025-04-01/disputes/" + disputeID + "/subscription",
		map[string]string{"X-Api-Key": ChargeflowKey, "Content-Type": "application/json"},
		`{"source_id":"sub_1PqRsTuVwXyZ","created_at":"2024-05-01T09:30:00Z","start_date":"2024-05-01T09:30:00Z",` +
			`"frequency":"month","frequency_count":1}`},
	subkit.Polar: {"/v1/subscriptions/",
		map[string]string{"Authorization": "Bearer " + PolarToken, "Content-Type": "application/json"},
		`{"product_id":"` + productID + `","customer_id":"` + customerID + `","metadata":{"reference_id":"ABC123"}}`},
}

type rawAnswer struct {
	status int
	header http.Header
	body   string
}

// post sends a raw POST: see send.
func post(t *testing.T, url string, header map[string]string, body string) rawAnswer {
	t.Helper()
	return send(t, http.MethodPost, url, header, strings.NewReader(body))
}

// send sends a raw request with exactly the given headers (a "" value
// removes the header) and does not follow redirects.
func send(t *testing.T, method, url string, header map[string]string, body io.Reader) rawAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// headers returns a copy of h with the changes applied ("" removes a key).
func headers(h map[string]string, changes ...string) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		out[k] = v
	}
	for i := 0; i+1 < len(changes); i += 2 {
		out[changes[i]] = changes[i+1]
	}
	return out
}

func expectAnswer(t *testing.T, got rawAnswer, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("answer %d %s\nwant   %d %s", got.status, got.body, status, body)
	}
	if requestIDIn(got.header) == "" {
		t.Errorf("the answer has no request ID (X-Request-Id, or Polar's CF-Ray)")
	}
}

// requestIDIn is the request ID an answer carries: Polar's CF-Ray, the
// others' X-Request-Id.
func requestIDIn(h http.Header) string {
	if id := h.Get("X-Request-Id"); id != "" {
		return id
	}
	return h.Get("CF-Ray")
}

func decodeObject(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	return m
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// sameKeys checks that got has exactly the keys of the fixture object at
// path (nested objects named by path, e.g. "customer").
func sameKeys(t *testing.T, fixture string, got map[string]any, paths ...string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := decodeObject(t, raw)
	check := func(name string, want, got map[string]any) {
		if !reflect.DeepEqual(keys(want), keys(got)) {
			t.Errorf("%s %s keys:\n got %v\nwant %v", fixture, name, keys(got), keys(want))
		}
	}
	check("top-level", want, got)
	for _, p := range paths {
		w, _ := want[p].(map[string]any)
		g, _ := got[p].(map[string]any)
		check(p, w, g)
	}
}

// heldSub is what the tests that treat the three APIs alike read of a
// subscription the server holds, through the API's typed accessor.
type heldSub struct {
	ID, RequestID string
	Body          json.RawMessage
}

// heldSubs returns the subscriptions s holds for api, oldest first.
func heldSubs(s *Server, api subkit.API) []heldSub {
	var out []heldSub
	switch api {
	case subkit.ChatDash:
		for _, h := range s.ChatDashSubscriptions() {
			out = append(out, heldSub{h.ID, h.RequestID, h.Body})
		}
	case subkit.Chargeflow:
		for _, h := range s.ChargeflowSubscriptions() {
			out = append(out, heldSub{h.ID, h.RequestID, h.Body})
		}
	case subkit.Polar:
		for _, h := range s.PolarSubscriptions() {
			out = append(out, heldSub{h.ID, h.RequestID, h.Body})
		}
	default:
		panic("unknown API " + string(api))
	}
	return out
}

func mustHold(t *testing.T, s *Server, api subkit.API, n int) []heldSub {
	t.Helper()
	subs := heldSubs(s, api)
	if len(subs) != n {
		t.Fatalf("the server holds %d %s subscriptions, want %d", len(subs), api, n)
	}
	return subs
}

// pendingFaults is the number of requests to api that queued faults will
// still be played for.
func (s *Server) pendingFaults(api subkit.API) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.faults[api] {
		n += q.left
	}
	return n
}

// clearFaults drops the faults still queued for api.
func (s *Server) clearFaults(api subkit.API) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, api)
}

func apiError(t *testing.T, err error) *subkit.APIError {
	t.Helper()
	var ae *subkit.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}

// httpPost sends a POST with net/http's default redirect policy and returns
// the status.
func httpPost(url string, header map[string]string, body io.Reader) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, body)
	if err != nil {
		return 0, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// countBody reads a body to its end and returns its length and first bytes.
func countBody(r io.Reader) (int64, string) {
	buf := make([]byte, 32<<10)
	var n int64
	var prefix []byte
	for {
		k, err := r.Read(buf)
		if len(prefix) < 64 {
			prefix = append(prefix, buf[:min(k, 64-len(prefix))]...)
		}
		n += int64(k)
		if err != nil {
			return n, string(prefix)
		}
	}
}

// polarGolden returns Pydantic's answer for the named case of
// testdata/polar_validation.json.
func polarGolden(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/polar_validation.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct{ Name, Want string }
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Name == name {
			return c.Want
		}
	}
	t.Fatalf("no case %q", name)
	return ""
}

// lookupHeaders are each API's valid credentials for a GET.
var lookupHeaders = map[subkit.API]map[string]string{
	subkit.ChatDash:   {"Authorization": AgencyKey},
	subkit.Chargeflow: {"X-Api-Key": ChargeflowKey},
	subkit.Polar:      {"Authorization": "Bearer " + PolarToken},
}

// get sends a raw GET: see send.
func get(t *testing.T, url string, header map[string]string) rawAnswer {
	t.Helper()
	return send(t, http.MethodGet, url, header, nil)
}

// mustGet sends a GET with the API's credential and expects a 200.
func mustGet(t *testing.T, s *Server, api subkit.API, pathAndQuery string) rawAnswer {
	t.Helper()
	got := get(t, s.URL()+pathAndQuery, lookupHeaders[api])
	if got.status != 200 {
		t.Fatalf("GET %s: %d %s", pathAndQuery, got.status, got.body)
	}
	return got
}

// createPolarRaw creates a Polar subscription with a raw request and returns
// the answered body.
func createPolarRaw(t *testing.T, s *Server, body string) string {
	t.Helper()
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+rc.path, rc.header, body)
	if got.status != 201 {
		t.Fatalf("create %s: %d %s", body, got.status, got.body)
	}
	return got.body
}

// polarList is a decoded list answer: the item IDs and the pagination.
type polarList struct {
	Items []struct {
		ID string `json:"id"`
	} `json:"items"`
	Pagination struct {
		TotalCount int `json:"total_count"`
		MaxPage    int `json:"max_page"`
	} `json:"pagination"`
}

func (l polarList) ids() []string {
	out := make([]string, len(l.Items))
	for i, it := range l.Items {
		out[i] = it.ID
	}
	return out
}

func listPolar(t *testing.T, s *Server, query string) polarList {
	t.Helper()
	got := mustGet(t, s, subkit.Polar, "/v1/subscriptions/?"+query)
	var l polarList
	if err := json.Unmarshal([]byte(got.body), &l); err != nil {
		t.Fatalf("decoding %s: %v", got.body, err)
	}
	return l
}

func idOf(t *testing.T, body string) string {
	t.Helper()
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.ID == "" {
		t.Fatalf("no id in %s", body)
	}
	return v.ID
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

// steppingClock is a clock that tests move by hand.
type steppingClock struct {
	now chan time.Time
}

func newSteppingClock(start time.Time) *steppingClock {
	c := &steppingClock{now: make(chan time.Time, 1)}
	c.now <- start
	return c
}

func (c *steppingClock) Now() time.Time {
	t := <-c.now
	c.now <- t
	return t
}

func (c *steppingClock) Advance(d time.Duration) {
	t := <-c.now
	c.now <- t.Add(d)
}

// The path prefixes of ChatDash's and Chargeflow's creates and look-ups.
const (
	connectPath = "/v1/public/stripe/connect/accounts/"
	disputePath = "/public/2025-04-01/disputes/"
)

// lookupPaths is one look-up per API, valid on a fresh server.
var lookupPaths = map[subkit.API]string{
	subkit.ChatDash:   connectPath + accountID + "/subscriptions",
	subkit.Chargeflow: disputePath + disputeID + "?expand=subscription",
	subkit.Polar:      "/v1/subscriptions/?customer_id=" + customerID,
}

// lookupFinds reports whether the API's look-up finds a subscription with id.
func lookupFinds(t *testing.T, s *Server, api subkit.API, id string) bool {
	t.Helper()
	got := mustGet(t, s, api, lookupPaths[api])
	return strings.Contains(got.body, `"id":"`+id+`"`)
}
