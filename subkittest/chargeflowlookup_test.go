package subkittest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// disputeHead is the dispute object's own keys.
const disputeKeys = "amount,created_at,currency,due_by,id,reason,source,source_id,stage,status"

func TestChargeflowDisputeLookup(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	// A dispute never seen, on a server without seeded disputes: it exists,
	// without a subscription.
	plain := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID)
	d := decodeObject(t, []byte(plain.body))
	if strings.Join(keys(d), ",") != disputeKeys {
		t.Errorf("keys %v", keys(d))
	}
	if d["id"] != disputeID || d["source"] != "stripe" || !strings.HasPrefix(d["source_id"].(string), "dp_") ||
		d["currency"] != "USD" || d["status"] != "needs_response" || d["stage"] != "Chargeback" {
		t.Errorf("dispute %s", plain.body)
	}
	// created_at is the time in the ObjectId; due_by comes later.
	created, err1 := time.Parse(time.RFC3339, d["created_at"].(string))
	due, err2 := time.Parse(time.RFC3339, d["due_by"].(string))
	if err1 != nil || err2 != nil || !created.Equal(time.Unix(0x65f0c1d2, 0)) || !due.After(created) {
		t.Errorf("created_at %v due_by %v", d["created_at"], d["due_by"])
	}
	if amount, ok := d["amount"].(float64); !ok || amount < 10 || amount >= 500 {
		t.Errorf("amount %v", d["amount"])
	}
	if plain.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", plain.header.Get("Content-Type"))
	}
	none := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID+"?expand=subscription")
	if want := strings.TrimSuffix(plain.body, "}") + `,"subscription":null}`; none.body != want {
		t.Errorf("expanded, none:\n got %s\nwant %s", none.body, want)
	}

	// After a create, the expansion is the object the create answered.
	rc := rawCreates[subkit.Chargeflow]
	created1 := post(t, s.URL()+rc.path, rc.header, rc.body)
	for _, q := range []string{"?expand=subscription", "?expand=transaction,subscription", "?expand=order&expand=subscription",
		"?expand%5B%5D=subscription", "?expand=transaction%2C%20subscription"} {
		got := mustGet(t, s, subkit.Chargeflow, disputePath+strings.ToUpper(disputeID)+q)
		if want := strings.TrimSuffix(plain.body, "}") + `,"subscription":` + created1.body + `}`; got.body != want {
			t.Errorf("%s:\n got %s\nwant %s", q, got.body, want)
		}
	}
	// Without the expansion the key is absent; the dispute reads the same.
	for _, q := range []string{"", "?expand=transaction", "?expand=subscriptions"} {
		if got := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID+q); got.body != plain.body {
			t.Errorf("%q: %s", q, got.body)
		}
	}
	// A second create replaces the dispute's subscription.
	second := post(t, s.URL()+rc.path, rc.header, strings.Replace(rc.body, "sub_1PqRsTuVwXyZ", "sub_second", 1))
	var ds struct {
		Subscription subkit.DisputeSubscription `json:"subscription"`
	}
	got := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID+"?expand=subscription")
	if err := json.Unmarshal([]byte(got.body), &ds); err != nil || ds.Subscription.ID != idOf(t, second.body) || ds.Subscription.SourceID != "sub_second" {
		t.Errorf("after a second create: %v %s", err, got.body)
	}
	// The same dispute reads the same on another server.
	if other := mustGet(t, newServer(t), subkit.Chargeflow, disputePath+disputeID); other.body != plain.body {
		t.Errorf("another server: %s", other.body)
	}
}

func TestChargeflowDisputeLookupSeededAndRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	h := lookupHeaders[subkit.Chargeflow]
	fail := func(got rawAnswer, status int, message string) {
		t.Helper()
		expectAnswer(t, got, status, `{"message":"`+message+`","requestId":"`+got.header.Get("X-Request-Id")+`"}`)
	}
	expectAnswer(t, get(t, s.URL()+disputePath+disputeID, nil), 401, `{"message":"Unauthorized"}`)
	expectAnswer(t, get(t, s.URL()+disputePath+disputeID, map[string]string{"X-Api-Key": "wrong"}), 403, `{"message":"Forbidden"}`)
	fail(get(t, s.URL()+disputePath+"xyz", h), 400, "Invalid request: disputeId must match ^[0-9a-fA-F]{24}$")
	fail(get(t, s.URL()+disputePath+disputeID+"/other", h), 404, "Not Found")
	got := post(t, s.URL()+disputePath+disputeID, h, "")
	fail(got, 405, "Method Not Allowed")
	if got.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", got.header.Get("Allow"))
	}

	created := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)
	s.AddChargeflowDispute(ChargeflowDispute{ID: disputeID, Source: "paypal", SourceID: "PP-D-1", Reason: "general",
		Amount: 12.5, Currency: "EUR", Status: "won", Stage: "Inquiry", CreatedAt: created, DueBy: created.AddDate(0, 0, 10)})
	s.AddChargeflowDispute(ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f902"})
	expectAnswer(t, get(t, s.URL()+disputePath+disputeID+"?expand=subscription", h), 200,
		`{"id":"`+disputeID+`","source":"paypal","source_id":"PP-D-1","created_at":"2026-01-02T03:04:05.6Z","reason":"general",`+
			`"due_by":"2026-01-12T03:04:05.6Z","amount":12.5,"currency":"EUR","status":"won","stage":"Inquiry","subscription":null}`)
	// Zero fields are drawn as for an unseeded dispute.
	if got := mustGet(t, s, subkit.Chargeflow, disputePath+"65f0c1d2e3a4b5c6d7e8f902"); !strings.Contains(got.body, `"source":"stripe"`) {
		t.Errorf("seeded without details: %s", got.body)
	}
	// Once disputes are seeded, an unknown one is not found, as for the create.
	fail(get(t, s.URL()+disputePath+"65f0c1d2e3a4b5c6d7e8f903?expand=subscription", h), 404, "Dispute not found")
}

func TestChargeflowSubscriptionsArrayShape(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithChargeflowSubscriptionsArray())
	plain := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID)
	head := strings.TrimSuffix(plain.body, "}")
	if got := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID+"?expand=subscription"); got.body != head+`,"subscriptions":[]}` {
		t.Errorf("none: %s", got.body)
	}
	rc := rawCreates[subkit.Chargeflow]
	created := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID+"?expand=subscription"); got.body != head+`,"subscriptions":[`+created.body+`]}` {
		t.Errorf("one: %s", got.body)
	}
	if got := mustGet(t, s, subkit.Chargeflow, disputePath+disputeID); got.body != plain.body {
		t.Errorf("not expanded: %s", got.body)
	}
}
