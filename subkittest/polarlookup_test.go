package subkittest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// TestPolarLookupValidationMatchesPydantic replays look-up queries and paths
// that Polar's parameters refuse and compares the fake's answers, byte for
// byte, with Pydantic's own (testdata/gen_polar_query_validation.py wrote
// them).
func TestPolarLookupValidationMatchesPydantic(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/polar_query_validation.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name, Path, Query, Want string
		Status                  int
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	createPolarRaw(t, s, rawCreates[subkit.Polar].body)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			url := s.URL() + c.Path
			if c.Query != "" {
				url += "?" + c.Query
			}
			got := get(t, url, lookupHeaders[subkit.Polar])
			if got.status != c.Status || got.body != c.Want {
				t.Errorf("answer %d %s\nwant   %d %s", got.status, got.body, c.Status, c.Want)
			}
		})
	}
}

func TestPolarListFilters(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	const (
		p2 = "5d0c1c3e-2c44-4a36-9d0f-6c5f4d1b2a90"
		c2 = "7b6f3c1e-8a2d-4f5b-9c3e-1d2a4b6c8e0f"
	)
	s.AddPolarProduct(PolarProduct{ID: p2})
	s.AddPolarCustomer(PolarCustomer{ID: c2})
	s.AddPolarCustomer(PolarCustomer{ExternalID: "usr_1337"})
	create := func(product, customerKey, metadata string) string {
		return idOf(t, createPolarRaw(t, s, `{"product_id":"`+product+`",`+customerKey+`,"metadata":`+metadata+`}`))
	}
	a := create(productID, `"customer_id":"`+customerID+`"`, `{"plan":"pro","n":3,"vip":true,"ratio":0.75}`)
	b := create(productID, `"customer_id":"`+c2+`"`, `{"plan":"free","n":"3","vip":false}`)
	c := create(p2, `"external_customer_id":"usr_1337"`, `{"plan":"pro","big":1e16,"small":1.5e-5,"one":1.0,"neg":-0.0}`)
	d := create(p2, `"customer_id":"`+customerID+`"`, `{"plan":"team / 10% off","n":30}`)

	for _, tc := range []struct {
		query string
		want  []string // newest first
	}{
		{"", []string{d, c, b, a}},
		{"product_id=" + productID, []string{b, a}},
		{"product_id=" + strings.ToUpper(p2), []string{d, c}},
		{"product_id=" + productID + "&product_id=" + p2, []string{d, c, b, a}},
		{"customer_id=" + customerID, []string{d, a}},
		{"customer_id={" + customerID + "}&customer_id=" + c2, []string{d, b, a}},
		{"customer_id=" + customerID + "&product_id=" + productID, []string{a}},
		{"external_customer_id=usr_1337", []string{c}},
		{"external_customer_id=usr_1337&external_customer_id=other", []string{c}},
		{"external_customer_id=", nil},
		{"organization_id=" + s.polar.orgID, []string{d, c, b, a}},
		{"organization_id=" + productID, nil},
		{"discount_id=" + productID, nil},
		{"status=active", []string{d, c, b, a}},
		{"status=canceled&status=past_due", nil},
		{"status=active&product_id=" + p2 + "&customer_id=" + c2, nil},
		// Metadata: the stored value as text, strings without quotes.
		{"metadata[plan]=pro", []string{c, a}},
		{"metadata[plan]=pro&metadata[plan]=free", []string{c, b, a}},
		{"metadata[plan]=pro&metadata[n]=3", []string{a}},
		{"metadata[n]=3", []string{b, a}},   // the integer 3 and the string "3"
		{"metadata[n]=3.0", nil},            // an integer is written as one
		{"metadata[vip]=true", []string{a}}, // JSON's true, not Python's True
		{"metadata[vip]=True", nil},
		{"metadata[vip]=false", []string{b}},
		{"metadata[ratio]=0.75", []string{a}},
		{"metadata[big]=10000000000000000", []string{c}},
		{"metadata[big]=1e%2B16", nil},
		{"metadata[small]=0.000015", []string{c}},
		{"metadata[one]=1.0", []string{c}},
		{"metadata[neg]=0.0", []string{c}},
		{"metadata[missing]=x", nil},
		{"metadata[plan]=", nil},
		// Percent-encoded keys and values, "+" as a space.
		{"metadata%5Bplan%5D=pro", []string{c, a}},
		{"metadata%5bplan%5d=team%20%2F%2010%25%20off", []string{d}},
		{"metadata[plan]=team+/+10%25+off", []string{d}},
		{"product%5Fid=" + p2, []string{d, c}},
		// re.match: only the start of the key is read.
		{"metadata[plan]x=free", []string{b}},
		{"metadata[]=x&unknown=1", []string{d, c, b, a}},
		{"active=true&cancel_at_period_end=false", []string{d, c, b, a}},
		{"active=false", nil},
		{"customer_cancellation_reason=other", nil},
	} {
		got := listPolar(t, s, tc.query)
		sameIDs(t, tc.query, got.ids(), tc.want)
		if got.Pagination.TotalCount != len(tc.want) {
			t.Errorf("%s: total_count %d", tc.query, got.Pagination.TotalCount)
		}
	}
}

func TestPolarListItemsAreTheCreatedObjects(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	body := createPolarRaw(t, s, rawCreates[subkit.Polar].body)
	got := mustGet(t, s, subkit.Polar, "/v1/subscriptions/")
	if want := `{"items":[` + body + `],"pagination":{"total_count":1,"max_page":1}}`; got.body != want {
		t.Errorf("list\n got %s\nwant %s", got.body, want)
	}
	if ct := got.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	one := mustGet(t, s, subkit.Polar, "/v1/subscriptions/"+idOf(t, body))
	if one.body != body {
		t.Errorf("get\n got %s\nwant %s", one.body, body)
	}
	// Any UUID form Pydantic reads names the same subscription.
	id := idOf(t, body)
	for _, form := range []string{strings.ToUpper(id), "{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", "")} {
		if got := mustGet(t, s, subkit.Polar, "/v1/subscriptions/"+form); got.body != body {
			t.Errorf("%s: %s", form, got.body)
		}
	}
	// The SDK's own type decodes an item.
	var sub subkit.Subscription
	if err := json.Unmarshal([]byte(one.body), &sub); err != nil || sub.ID != id {
		t.Errorf("decode: %v %+v", err, sub.ID)
	}
}

func TestPolarListPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	expectAnswer(t, get(t, s.URL()+"/v1/subscriptions/", lookupHeaders[subkit.Polar]), 200,
		`{"items":[],"pagination":{"total_count":0,"max_page":0}}`)
	var ids []string // oldest first
	for range 25 {
		ids = append(ids, idOf(t, createPolarRaw(t, s, rawCreates[subkit.Polar].body)))
	}
	newest := make([]string, len(ids))
	for i, id := range ids {
		newest[len(ids)-1-i] = id
	}
	for _, tc := range []struct {
		query    string
		from, to int
		maxPage  int
	}{
		{"", 0, 10, 3}, // limit 10 by default
		{"page=1", 0, 10, 3},
		{"page=2", 10, 20, 3},
		{"page=3", 20, 25, 3},
		{"page=4", 25, 25, 3},
		{"page=99999999999999999999999", 25, 25, 3},
		{"limit=7&page=4", 21, 25, 4},
		{"limit=25", 0, 25, 1},
		{"limit=1&page=25", 24, 25, 25},
		{"limit=500", 0, 25, 1}, // lowered to 100, not refused
		{"limit=100000000000000000000", 0, 25, 1},
		{"limit=+4&page=2.00", 4, 8, 7}, // Pydantic's lax integers
		{"limit=1_0&page=%203%20", 20, 25, 3},
		{"page=1&page=2", 10, 20, 3}, // the last value of a scalar
	} {
		got := listPolar(t, s, tc.query)
		sameIDs(t, tc.query, got.ids(), newest[tc.from:tc.to])
		if got.Pagination.TotalCount != 25 || got.Pagination.MaxPage != tc.maxPage {
			t.Errorf("%s: pagination %+v", tc.query, got.Pagination)
		}
	}
	// Paging on while page < max_page visits every subscription once.
	var all []string
	for page := 1; ; page++ {
		got := listPolar(t, s, fmt.Sprintf("limit=4&page=%d", page))
		all = append(all, got.ids()...)
		if page >= got.Pagination.MaxPage {
			break
		}
	}
	sameIDs(t, "all pages", all, newest)
}

func TestPolarListSorting(t *testing.T) {
	t.Parallel()
	clock := newSteppingClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := newServer(t, WithClock(clock.Now))
	yearly := s.AddPolarProduct(PolarProduct{Name: "B yearly", RecurringInterval: "year"})
	daily := s.AddPolarProduct(PolarProduct{Name: "A daily", RecurringInterval: "day"})
	zed := s.AddPolarCustomer(PolarCustomer{Email: "zed@example.com"})
	amy := s.AddPolarCustomer(PolarCustomer{Email: "amy@example.com"})
	create := func(product, customer string) string {
		clock.Advance(time.Minute)
		return idOf(t, createPolarRaw(t, s, `{"product_id":"`+product+`","customer_id":"`+customer+`"}`))
	}
	first := create(yearly, zed)
	second := create(daily, amy)
	third := create(yearly, amy)
	for _, tc := range []struct {
		sorting string
		want    []string
	}{
		{"", []string{third, second, first}},
		{"sorting=-started_at", []string{third, second, first}},
		{"sorting=started_at", []string{first, second, third}},
		{"sorting=product", []string{second, first, third}},  // by name; ties in creation order
		{"sorting=-product", []string{third, first, second}}, // ties newest first
		{"sorting=customer&sorting=-started_at", []string{third, second, first}},
		{"sorting=current_period_end", []string{second, first, third}},
		{"sorting=-current_period_end&sorting=started_at", []string{third, first, second}},
		{"sorting=amount&sorting=started_at", []string{first, second, third}},
		{"sorting=-status", []string{third, second, first}},
		{"sorting=discount", []string{first, second, third}},
		// Polar's sort properties include the ends, null for all here.
		{"sorting=ended_at", []string{first, second, third}},
		{"sorting=-ends_at", []string{third, second, first}},
	} {
		sameIDs(t, tc.sorting, listPolar(t, s, tc.sorting).ids(), tc.want)
	}
	// created_at is not one of Polar's sort properties.
	got := get(t, s.URL()+"/v1/subscriptions/?sorting=-created_at", lookupHeaders[subkit.Polar])
	if got.status != 422 || !strings.Contains(got.body, `"loc":["query","sorting",0]`) || !strings.Contains(got.body, `"input":"-created_at"`) {
		t.Errorf("sorting=-created_at: %d %s", got.status, got.body)
	}
}

func TestPolarLookupAuthAndErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	id := idOf(t, createPolarRaw(t, s, rawCreates[subkit.Polar].body))
	for _, path := range []string{"/v1/subscriptions/", "/v1/subscriptions/" + id, "/v1/subscriptions/nope", "/v1/subscriptions/?page=0"} {
		expectAnswer(t, get(t, s.URL()+path, nil), 401, `{"error":"Unauthorized","detail":"Unauthorized"}`)
		got := get(t, s.URL()+path, map[string]string{"Authorization": "Bearer polar_oat_wrong"})
		expectAnswer(t, got, 401, `{"error": "invalid_token", "error_description": "`+polarInvalidTokenDescription+`"}`)
		if got.header.Get("WWW-Authenticate") != `Bearer realm="polar", error="invalid_token", error_description="`+polarInvalidTokenDescription+`"` {
			t.Errorf("%s: WWW-Authenticate %q", path, got.header.Get("WWW-Authenticate"))
		}
		expectAnswer(t, get(t, s.URL()+path, map[string]string{"Authorization": "Bearer " + PolarToken, "Polar-Version": "1999-01"}),
			404, `{"detail":"Not Found"}`)
	}
	// A token added with AddCredential reads too.
	s.AddCredential(subkit.Polar, "polar_pat_reader")
	if got := get(t, s.URL()+"/v1/subscriptions/"+id, map[string]string{"Authorization": "Bearer polar_pat_reader"}); got.status != 200 {
		t.Errorf("second token: %d", got.status)
	}
	h := lookupHeaders[subkit.Polar]
	expectAnswer(t, get(t, s.URL()+"/v1/subscriptions/4a5d2a8e-1f3b-4c6d-8e9f-0a1b2c3d4e5f", h), 404,
		`{"error":"ResourceNotFound","detail":"Not found"}`)
	expectAnswer(t, get(t, s.URL()+"/v1/subscriptions/a/b", h), 404, `{"detail":"Not Found"}`)
	expectAnswer(t, get(t, s.URL()+"/v1/subscriptions/"+id+"%2Fx", h), 404, `{"detail":"Not Found"}`)
	// Starlette's redirect_slashes, both ways, keeping the query.
	got := get(t, s.URL()+"/v1/subscriptions?customer_id="+customerID, h)
	if got.status != 307 || got.header.Get("Location") != s.URL()+"/v1/subscriptions/?customer_id="+customerID {
		t.Errorf("no slash: %d %v", got.status, got.header)
	}
	got = get(t, s.URL()+"/v1/subscriptions/"+id+"/", h)
	if got.status != 307 || got.header.Get("Location") != s.URL()+"/v1/subscriptions/"+id {
		t.Errorf("slash: %d %v", got.status, got.header)
	}
	// FastAPI routes no HEAD: 405, Allow GET, no body.
	req, _ := http.NewRequest(http.MethodHead, s.URL()+"/v1/subscriptions/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+PolarToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 405 || len(b) != 0 || resp.Header.Get("Allow") != "GET" {
		t.Errorf("HEAD: %d %v %q", resp.StatusCode, resp.Header, b)
	}
	// Look-ups are recorded like creates, and create nothing.
	reqs := s.Requests(subkit.Polar)
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodHead || last.Status != 405 || len(last.Created) != 0 {
		t.Errorf("recorded %+v", last)
	}
	mustHold(t, s, subkit.Polar, 1)
}

// The SDK's creates and the fake's look-ups agree on what the metadata
// holds: what CreateForCustomer stores, a list filter finds again.
func TestPolarListFindsSDKCreates(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	got, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	if err != nil {
		t.Fatal(err)
	}
	l := listPolar(t, s, "customer_id="+customerID+"&product_id="+productID+
		"&metadata%5Bplan%5D=pro&metadata%5Bseats%5D=3&metadata%5Bvip%5D=true&metadata%5Bratio%5D=0.75&limit=10")
	sameIDs(t, "SDK create", l.ids(), []string{got.ID})
}
