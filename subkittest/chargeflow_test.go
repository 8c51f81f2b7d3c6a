package subkittest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

func TestChargeflowCreateThroughSDK(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	var info subkit.ResponseInfo
	got, err := c.Subscriptions.CreateForDispute(context.Background(), strings.ToUpper(disputeID), disputeParams(), subkit.WithResponseInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	held := s.ChargeflowSubscriptions()
	if len(held) != 1 {
		t.Fatalf("the server holds %d subscriptions", len(held))
	}
	h := held[0]
	if got.ID != h.ID || len(h.ID) != 24 || !hex24.MatchString(h.ID) || h.DisputeID != disputeID ||
		h.SourceID != "sub_1PqRsTuVwXyZ" || h.AccountID != "65f0c1d2e3a4b5c6d7e8f9aa" || h.Replaced != "" {
		t.Errorf("caller got %q; server holds %+v", got.ID, h)
	}
	if info.StatusCode != 201 || info.RequestID != h.RequestID || info.Outcome != subkit.OutcomeCreated {
		t.Errorf("response info %+v", info)
	}
	// Every field is echoed; the server's defaults fill the rest.
	p := disputeParams()
	if got.SourceID != p.SourceID || got.AccountID != p.AccountID || got.Frequency != subkit.FrequencyMonth ||
		got.FrequencyCount != 3 || got.CollectionMethod != subkit.CollectionSendInvoice ||
		got.CancellationReason != subkit.ReasonTooExpensive || got.PlanName != "Pro Quarterly" ||
		got.PricingModel != subkit.PricingFixedPrice || got.Status != subkit.DisputeSubscriptionActive {
		t.Errorf("caller got %+v", got)
	}
	if got.CreatedAt == nil || !got.CreatedAt.Equal(p.CreatedAt) || got.TrialEnd == nil || !got.TrialEnd.Equal(p.TrialEnd) ||
		got.EndDate != nil || got.UpdatedAt != nil {
		t.Errorf("dates %v %v %v %v", got.CreatedAt, got.TrialEnd, got.EndDate, got.UpdatedAt)
	}
	body := decodeObject(t, h.Body)
	if body["created_at"] != "2024-05-01T09:30:00Z" || body["end_date"] != nil || body["ext_account_id"] != nil {
		t.Errorf("body %s", h.Body)
	}
}

func TestChargeflowCreateRaw(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Chargeflow]
	got := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got.status != 201 {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	body := decodeObject(t, []byte(got.body))
	sameKeys(t, "chargeflow-create-subscription.json", body)
	for k, want := range map[string]any{"collection_method": "automatically", "pricing_model": "fixed_price",
		"status": "active", "account_id": nil, "plan_name": nil, "cancellation_reason": nil, "frequency_count": 1.0} {
		if body[k] != want {
			t.Errorf("%s = %#v, want %#v", k, body[k], want)
		}
	}
	held := mustHold(t, s, subkit.Chargeflow, 1)
	var ds subkit.DisputeSubscription
	if err := json.Unmarshal(held[0].Body, &ds); err != nil || ds.ID != body["id"] {
		t.Errorf("decoding Body: %v %+v", err, ds)
	}
}

func TestChargeflowRefusesCredentials(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Chargeflow]
	url := s.URL() + rc.path
	expectAnswer(t, post(t, url, headers(rc.header, "X-Api-Key", ""), rc.body), 401, `{"message":"Unauthorized"}`)
	expectAnswer(t, post(t, url, headers(rc.header, "X-Api-Key", "wrong"), rc.body), 403, `{"message":"Forbidden"}`)
	// The key goes in x-api-key, not Authorization.
	expectAnswer(t, post(t, url, headers(rc.header, "X-Api-Key", "", "Authorization", ChargeflowKey), rc.body), 401, `{"message":"Unauthorized"}`)

	c := newClient(t, s, subkit.WithChargeflowKey("wrong"))
	_, err := c.Subscriptions.CreateForDispute(context.Background(), disputeID, disputeParams())
	if !errors.Is(err, subkit.ErrForbidden) || errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("error %v", err)
	}
	if ae := apiError(t, err); ae.Message != "Forbidden" || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Chargeflow, 0)
}

func TestChargeflowRefusesBadBodies(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Chargeflow]
	url := s.URL() + rc.path
	fail := func(got rawAnswer, status int, message string) {
		t.Helper()
		expectAnswer(t, got, status, `{"message":"`+message+`","requestId":"`+got.header.Get("X-Request-Id")+`"}`)
	}
	fail(post(t, s.URL()+"/public/2025-04-01/disputes/xyz/subscription", rc.header, rc.body), 400,
		"Invalid request: disputeId must match ^[0-9a-fA-F]{24}$")
	fail(post(t, url, headers(rc.header, "Content-Type", "text/plain"), rc.body), 400,
		"Invalid request body: Content-Type must be application/json")
	fail(post(t, url, rc.header, `{"source_id":`), 400, "Invalid request body: expected a JSON object")
	fail(post(t, url, rc.header, `[]`), 400, "Invalid request body: expected a JSON object")
	fail(post(t, url, rc.header, `{}`), 400, "Invalid request body: source_id is required; created_at is required; "+
		"start_date is required; frequency is required; frequency_count is required")
	fail(post(t, url, rc.header, `{"source_id":"`+strings.Repeat("é", 129)+`","account_id":"nope","created_at":"2024-05-01",`+
		`"start_date":"2024-05-01T09:30:00+02:00","updated_at":null,"frequency":"monthly","frequency_count":0,`+
		`"collection_method":"manual","cancellation_reason":"bored","plan_name":7,"status":""}`), 400,
		"Invalid request body: source_id must be 1 to 128 characters, got 129; account_id must match ^[0-9a-fA-F]{24}$; "+
			"created_at must be an RFC 3339 date-time; frequency must be one of day, week, month, year; "+
			"frequency_count must be at least 1; collection_method must be one of automatically, automatically_with_reminders, send_invoice; "+
			"cancellation_reason must be one of too_expensive, low_quality, unused, too_complex, missing_features; "+
			"plan_name must be a string; status must not be empty")
	fail(post(t, url, rc.header, strings.Replace(rc.body, `"frequency_count":1`, `"frequency_count":1.5`, 1)), 400,
		"Invalid request body: frequency_count must be an integer")
	fail(post(t, url, rc.header, strings.Replace(rc.body, `"frequency_count":1`, `"frequency_count":"1"`, 1)), 400,
		"Invalid request body: frequency_count must be an integer")
	fail(post(t, url, rc.header, strings.Replace(rc.body, `"frequency":"month"`, `"frequency":"month","collection_method":null`, 1)), 400,
		"Invalid request body: collection_method must not be null")
	fail(post(t, s.URL()+"/public/2025-04-01/disputes", rc.header, rc.body), 404, "Not Found")
	fail(post(t, s.URL()+"/public/2024-01-01/disputes/"+disputeID+"/subscription", rc.header, rc.body), 404, "Not Found")
	mustHold(t, s, subkit.Chargeflow, 0)

	// An integral float and nulls for nullable keys are accepted.
	got := post(t, url, rc.header, strings.Replace(rc.body, `"frequency_count":1`,
		`"frequency_count":2.0,"end_date":null,"plan_name":null,"cancellation_reason":null,"extra":{"ignored":true}`, 1))
	if got.status != 201 || !strings.Contains(got.body, `"frequency_count":2,`) {
		t.Errorf("answer %d %s", got.status, got.body)
	}
}

func TestChargeflowSecondCreateReplacesTheDisputesSubscription(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	ctx := context.Background()
	first, err := c.Subscriptions.CreateForDispute(ctx, disputeID, disputeParams())
	if err != nil {
		t.Fatal(err)
	}
	p := disputeParams()
	p.SourceID, p.StartDate = "sub_other", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	var info subkit.ResponseInfo
	second, err := c.Subscriptions.CreateForDispute(ctx, disputeID, p, subkit.WithResponseInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	if info.StatusCode != 201 || second.ID == first.ID || second.SourceID != "sub_other" {
		t.Errorf("second create: %+v %+v", info, second)
	}
	held := s.ChargeflowSubscriptions()
	if len(held) != 1 || held[0].ID != second.ID || held[0].Replaced != first.ID {
		t.Fatalf("held %+v", held)
	}
	// Another dispute holds its own.
	s.AddChargeflowDispute(ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f902"})
	if _, err := c.Subscriptions.CreateForDispute(ctx, "65f0c1d2e3a4b5c6d7e8f902", disputeParams()); err != nil {
		t.Fatal(err)
	}
	mustHold(t, s, subkit.Chargeflow, 2)
	reqs := s.Requests(subkit.Chargeflow)
	// The first request still lists the subscription it created.
	if len(reqs) != 3 || !slices.Equal(reqs[0].Created, []string{first.ID}) {
		t.Errorf("requests %d; the first created %v", len(reqs), reqs[0].Created)
	}
}
