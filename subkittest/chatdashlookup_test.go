package subkittest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// connectCreateRaw creates a ChatDash schedule on account starting at start
// (Unix seconds) and returns the answered body.
func connectCreateRaw(t *testing.T, s *Server, account string, start int64) string {
	t.Helper()
	rc := rawCreates[subkit.ChatDash]
	body := strings.Replace(rc.body, "1700000000", fmt.Sprint(start), 1)
	got := post(t, s.URL()+connectPath+account+"/subscriptions", rc.header, body)
	if got.status != 200 {
		t.Fatalf("create: %d %s", got.status, got.body)
	}
	return got.body
}

type connectList struct {
	Subscriptions []json.RawMessage `json:"subscriptions"`
	HasMore       bool              `json:"has_more"`
	NextCursor    *string           `json:"next_cursor"`
}

func listConnect(t *testing.T, s *Server, account, query string) (connectList, []string) {
	t.Helper()
	got := mustGet(t, s, subkit.ChatDash, connectPath+account+"/subscriptions?"+query)
	if ct := got.header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var l connectList
	if err := json.Unmarshal([]byte(got.body), &l); err != nil {
		t.Fatalf("decoding %s: %v", got.body, err)
	}
	var ids []string
	for _, raw := range l.Subscriptions {
		ids = append(ids, idOf(t, string(raw)))
	}
	return l, ids
}

func TestChatDashListStatusesAndCursor(t *testing.T) {
	t.Parallel()
	now := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	s := newServer(t, WithClock(func() time.Time { return now }))
	s.AddChatDashAccount("acct_other")
	past, future := now.Add(-24*time.Hour).Unix(), now.Add(30*24*time.Hour).Unix()
	var active []string // newest first
	bodies := map[string]string{}
	for range 7 {
		b := connectCreateRaw(t, s, accountID, past)
		active = append([]string{idOf(t, b)}, active...)
		bodies[idOf(t, b)] = b
	}
	scheduled := idOf(t, connectCreateRaw(t, s, accountID, future))
	other := idOf(t, connectCreateRaw(t, s, "acct_other", past))

	// The default status is active; items are the created objects, newest first.
	l, ids := listConnect(t, s, accountID, "")
	sameIDs(t, "default", ids, active)
	if l.HasMore || l.NextCursor != nil || string(l.Subscriptions[0]) != bodies[active[0]] {
		t.Errorf("default: %+v", l)
	}
	got := mustGet(t, s, subkit.ChatDash, connectPath+accountID+"/subscriptions?status=scheduled")
	if !strings.HasSuffix(got.body, `],"has_more":false,"next_cursor":null}`) || !strings.Contains(got.body, `"status":"not_started"`) {
		t.Errorf("scheduled: %s", got.body)
	}
	_, ids = listConnect(t, s, accountID, "status=scheduled")
	sameIDs(t, "scheduled", ids, []string{scheduled})
	for _, st := range []string{"trialing", "incomplete", "incomplete_expired", "past_due", "canceled", "unpaid", "paused"} {
		if l, _ := listConnect(t, s, accountID, "status="+st); len(l.Subscriptions) != 0 {
			t.Errorf("%s: %d", st, len(l.Subscriptions))
		}
	}
	_, ids = listConnect(t, s, "acct_other", "status=active")
	sameIDs(t, "other account", ids, []string{other})
	s.AddChatDashAccount("acct_empty")
	expectAnswer(t, get(t, s.URL()+connectPath+"acct_empty/subscriptions", lookupHeaders[subkit.ChatDash]), 200,
		`{"subscriptions":[],"has_more":false,"next_cursor":null}`)
	expectAnswer(t, get(t, s.URL()+connectPath+"acct_unknown/subscriptions", lookupHeaders[subkit.ChatDash]), 404,
		`{"message":"Connected account not found"}`)

	// Three pages of 3, 3 and 1.
	var pages [][]string
	cursor := ""
	for {
		q := "limit=3"
		if cursor != "" {
			q += "&starting_after=" + cursor
		}
		l, ids := listConnect(t, s, accountID, q)
		pages = append(pages, ids)
		if !l.HasMore {
			if l.NextCursor != nil {
				t.Errorf("last page has next_cursor %q", *l.NextCursor)
			}
			break
		}
		if l.NextCursor == nil || *l.NextCursor != ids[len(ids)-1] {
			t.Fatalf("page %d: next_cursor %v, ids %v", len(pages), l.NextCursor, ids)
		}
		cursor = *l.NextCursor
	}
	if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
		t.Fatalf("pages %v", pages)
	}
	sameIDs(t, "all pages", append(append(pages[0], pages[1]...), pages[2]...), active)
	// An exact fit has no further page.
	if l, _ := listConnect(t, s, accountID, "limit=7"); l.HasMore || l.NextCursor != nil {
		t.Errorf("limit=7: %+v", l)
	}
	// A cursor of another status still marks a place.
	_, ids = listConnect(t, s, accountID, "starting_after="+scheduled)
	sameIDs(t, "after the scheduled one", ids, active)
	_, ids = listConnect(t, s, accountID, "starting_after="+active[5]+"&limit=100")
	sameIDs(t, "after the sixth", ids, active[6:])
}

func TestChatDashListRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	connectCreateRaw(t, s, accountID, 1700000000)
	h := lookupHeaders[subkit.ChatDash]
	url := s.URL() + connectPath + accountID + "/subscriptions"
	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "limit=1.5", "limit=-1"} {
		expectAnswer(t, get(t, url+"?"+q, h), 400, `{"message":"Invalid limit: must be an integer between 1 and 100"}`)
	}
	expectAnswer(t, get(t, url+"?status=ended", h), 400,
		`{"message":"Invalid status: must be one of scheduled, trialing, active, incomplete, incomplete_expired, past_due, canceled, unpaid, paused"}`)
	expectAnswer(t, get(t, url+"?starting_after=sub_nope", h), 400, `{"message":"Invalid starting_after: no subscription sub_nope on this account"}`)
	expectAnswer(t, get(t, url, nil), 401, `{"message":"Unauthorized: missing API key"}`)
	expectAnswer(t, get(t, url, map[string]string{"Authorization": "Bearer " + AgencyKey}), 401, `{"message":"Unauthorized: invalid API key"}`)
	// Empty values take the defaults.
	if l, _ := listConnect(t, s, accountID, "status=&limit=&starting_after="); len(l.Subscriptions) != 1 {
		t.Errorf("defaults: %+v", l)
	}
	s.AddChatDashAccount(accountID)
	expectAnswer(t, get(t, s.URL()+connectPath+"acct_unknown/subscriptions", h), 404, `{"message":"Connected account not found"}`)
	expectAnswer(t, get(t, s.URL()+connectPath+"acct_unknown/subscriptions/sub_x", h), 404, `{"message":"Connected account not found"}`)
}

func TestChatDashGetSubscription(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddChatDashAccount("acct_other")
	created := connectCreateRaw(t, s, accountID, 1700000000)
	id := idOf(t, created)
	got := mustGet(t, s, subkit.ChatDash, connectPath+accountID+"/subscriptions/"+id)
	var c struct {
		Customer json.RawMessage `json:"customer"`
	}
	if err := json.Unmarshal([]byte(created), &c); err != nil {
		t.Fatal(err)
	}
	var cust struct{ ID string }
	_ = json.Unmarshal(c.Customer, &cust)
	// The create's object, customer as a bare ID, then pricing and totals.
	want := strings.Replace(created, `"customer":`+string(c.Customer), `"customer":"`+cust.ID+`"`, 1)
	want = strings.TrimSuffix(want, "}") + `,"pricing":{"amount":"0.00","overage":"0.00","usageLimit":0},"totalPrice":0,"totalUsage":0}`
	if got.body != want {
		t.Errorf("get\n got %s\nwant %s", got.body, want)
	}
	var cs subkit.ConnectSubscription
	if err := json.Unmarshal([]byte(got.body), &cs); err != nil || cs.ID != id || cs.Customer.ID != cust.ID {
		t.Errorf("decode: %v %+v", err, cs)
	}
	h := lookupHeaders[subkit.ChatDash]
	expectAnswer(t, get(t, s.URL()+connectPath+accountID+"/subscriptions/sub_sched_unknown", h), 404, `{"message":"Subscription not found"}`)
	expectAnswer(t, get(t, s.URL()+connectPath+"acct_other/subscriptions/"+id, h), 404, `{"message":"Subscription not found"}`)
	expectAnswer(t, get(t, s.URL()+connectPath+accountID+"/subscriptions/"+id, nil), 401, `{"message":"Unauthorized: missing API key"}`)
}
