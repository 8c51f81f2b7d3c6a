package subkittest

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

func TestChatDashCreateThroughSDK(t *testing.T) {
	t.Parallel()
	now := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	s := newServer(t, WithClock(func() time.Time { return now }))
	c := newClient(t, s)
	var info subkit.ResponseInfo
	got, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams(), subkit.WithResponseInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	held := s.ChatDashSubscriptions()
	if len(held) != 1 {
		t.Fatalf("the server holds %d subscriptions", len(held))
	}
	h := held[0]
	p := connectParams()
	if got.ID != h.ID || !strings.HasPrefix(h.ID, "sub_sched_") || h.AccountID != accountID || h.ClientID != p.ClientID ||
		h.ProductID != "prod_ABC123XYZ" || strings.Join(h.AgentIDs, ",") != strings.Join(p.AgentIDs, ",") ||
		got.Customer.ID != h.CustomerID || !strings.HasPrefix(h.CustomerID, "cus_") {
		t.Errorf("caller got %+v; server holds %+v", got, h)
	}
	if info.StatusCode != 200 || info.RequestID != h.RequestID {
		t.Errorf("response info %+v", info)
	}
	start := time.Unix(1700000000, 0).UTC()
	if got.Type != "schedule" || got.Status != "not_started" || got.Product.ID != "prod_ABC123XYZ" || got.Product.Name != "Pro Plan" ||
		!got.AutomaticTax || got.Coupon != "SPRING" || got.Agents != "Agent 1, Agent 2" || len(got.PriceIDs) != 2 ||
		got.Customer.Email != "owner@example.com" || got.CollectionMethod != "charge_automatically" || !got.Created.Equal(now) ||
		got.StartDate == nil || !got.StartDate.Equal(start) || got.CurrentPeriodStart == nil || !got.CurrentPeriodStart.Equal(start) ||
		got.CurrentPeriodEnd == nil || !got.CurrentPeriodEnd.Equal(start.AddDate(0, 1, 0)) || got.CanceledAt != nil {
		t.Errorf("caller got %+v", got)
	}
	// The same client on the same account is the same Stripe customer.
	again, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams())
	if err != nil || again.Customer.ID != got.Customer.ID || again.ID == got.ID {
		t.Errorf("second create: %v %+v", err, again)
	}
}

func TestChatDashCreateRaw(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.ChatDash]
	got := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got.status != 200 || got.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	body := decodeObject(t, []byte(got.body))
	sameKeys(t, "chatdash-create-subscription.json", body, "customer", "product")
	for k, want := range map[string]any{"status": "active", "coupon": "", "automatic_tax": false, "agents": "Agent 1",
		"startDate": 1700000000.0, "current_period_start": 1700000000.0, "canceled_at": nil, "cancelAtPeriodEndDisplay": nil} {
		if body[k] != want {
			t.Errorf("%s = %#v, want %#v", k, body[k], want)
		}
	}
	held := mustHold(t, s, subkit.ChatDash, 1)
	var cs subkit.ConnectSubscription
	if err := json.Unmarshal(held[0].Body, &cs); err != nil || cs.ID != body["id"] {
		t.Errorf("decoding Body: %v %+v", err, cs)
	}
}

func TestChatDashRefusesCredentials(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.ChatDash]
	url := s.URL() + rc.path
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", ""), rc.body), 401, `{"message":"Unauthorized: missing API key"}`)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", "CD.wrong"), rc.body), 401, `{"message":"Unauthorized: invalid API key"}`)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", "Bearer "+AgencyKey), rc.body), 401, `{"message":"Unauthorized: invalid API key"}`)

	c := newClient(t, s, subkit.WithAgencyKey("CD.wrong"))
	_, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams())
	if !errors.Is(err, subkit.ErrUnauthorized) || errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("error %v", err)
	}
	if ae := apiError(t, err); ae.Message != "Unauthorized: invalid API key" || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.ChatDash, 0)
}

func TestChatDashRefusesBadBodies(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.ChatDash]
	url := s.URL() + rc.path
	expectAnswer(t, post(t, url, headers(rc.header, "Content-Type", ""), rc.body), 400, `{"message":"Content-Type must be application/json"}`)
	expectAnswer(t, post(t, url, rc.header, `{"data":`), 400, `{"message":"Invalid JSON body"}`)
	expectAnswer(t, post(t, url, rc.header, `{"clientId":"c"}`), 400, `{"message":"data is required and must be an object"}`)
	expectAnswer(t, post(t, url, rc.header, `{"data":{"agentIds":[],"selectedProduct":{"startDate":1700000000000,"pricing":{}},"couponId":null,"taxSettings":{"enabled":"yes"}}}`), 400,
		`{"message":"data.clientId is required and must be a non-empty string; data.agentIds is required and must be a non-empty array; `+
			`data.selectedProduct.productId is required and must be a non-empty string; data.selectedProduct.startDate must be a Unix time in seconds; `+
			`data.selectedProduct.pricing.metrics is required and must be a non-empty string; data.couponId must be a string; data.taxSettings.enabled must be a boolean"}`)
	expectAnswer(t, post(t, s.URL()+"/v1/public/stripe/connect/accounts/"+accountID+"/subscriptions/x/y", rc.header, rc.body), 404, `{"message":"Not Found"}`)
	// One subscription's path is read-only.
	got := post(t, s.URL()+"/v1/public/stripe/connect/accounts/"+accountID+"/subscriptions/x", rc.header, rc.body)
	expectAnswer(t, got, 405, `{"message":"Method Not Allowed"}`)
	if got.header.Get("Allow") != "GET" {
		t.Errorf("Allow %q", got.header.Get("Allow"))
	}
	mustHold(t, s, subkit.ChatDash, 0)
}
