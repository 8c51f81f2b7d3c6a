package subkittest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

func TestPolarSeededProductsAndCustomers(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 2, 29-1, 12, 0, 0, 0, time.UTC) // 2026-02-28
	s := newEmptyServer(t, WithClock(func() time.Time { return start }))
	free := s.AddPolarProduct(PolarProduct{ID: strings.ToUpper(productID), Name: "Starter", RecurringInterval: "year"})
	paid := s.AddPolarProduct(PolarProduct{Name: "Pro", PriceAmount: 2000})
	once := s.AddPolarProduct(PolarProduct{NotRecurring: true})
	cust := s.AddPolarCustomer(PolarCustomer{ID: customerID, ExternalID: "usr_1337", Email: "jane@example.com", Name: "Jane"})
	if free != productID || cust != customerID {
		t.Fatalf("IDs %s %s", free, cust)
	}
	c := newClient(t, s)
	ctx := context.Background()

	got, err := c.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{ProductID: free, ExternalCustomerID: "usr_1337"})
	if err != nil {
		t.Fatal(err)
	}
	held := s.PolarSubscriptions()
	if len(held) != 1 || held[0].ID != got.ID || held[0].CustomerID != customerID {
		t.Fatalf("held %+v", held)
	}
	body := decodeObject(t, held[0].Body)
	customer, product := body["customer"].(map[string]any), body["product"].(map[string]any)
	if body["recurring_interval"] != "year" || body["current_period_end"] != "2027-02-28T12:00:00Z" ||
		customer["email"] != "jane@example.com" || customer["name"] != "Jane" || customer["external_id"] != "usr_1337" ||
		product["name"] != "Starter" {
		t.Errorf("answer %s", held[0].Body)
	}

	rc := rawCreates[subkit.Polar]
	url := s.URL() + rc.path
	unknown := "5d0c1c3e-2c44-4a36-9d0f-6c5f4d1b2a90"
	// The product is checked first, and its problem ends the request: one
	// error, not the customer's too.
	expectAnswer(t, post(t, url, rc.header, `{"product_id":"{`+strings.ToUpper(unknown)+`}","customer_id":"`+unknown+`"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[`+
			`{"type":"value_error","loc":["body","product_id"],"msg":"Product does not exist.","input":"`+unknown+`"}]}`)
	expectAnswer(t, post(t, url, rc.header, `{"product_id":"`+free+`","customer_id":"`+unknown+`"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[`+
			`{"type":"value_error","loc":["body","customer_id"],"msg":"Customer does not exist.","input":"`+unknown+`"}]}`)
	expectAnswer(t, post(t, url, rc.header, `{"product_id":"`+paid+`","external_customer_id":"usr_1337"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"Product is not free. The customer should go through a checkout to create a paid subscription.","input":"`+paid+`"}]}`)
	expectAnswer(t, post(t, url, rc.header, `{"product_id":"`+once+`","external_customer_id":"nobody"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[`+
			`{"type":"value_error","loc":["body","product_id"],"msg":"Product is not a recurring product.","input":"`+once+`"}]}`)
	// External IDs match exactly.
	expectAnswer(t, post(t, url, rc.header, `{"product_id":"`+free+`","external_customer_id":"USR_1337"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[`+
			`{"type":"value_error","loc":["body","external_customer_id"],"msg":"Customer does not exist.","input":"USR_1337"}]}`)

	_, err = c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: paid, CustomerID: customerID})
	if !errors.Is(err, subkit.ErrRejected) {
		t.Fatalf("paid product: %v", err)
	}
	if ae := apiError(t, err); ae.StatusCode != 422 || ae.Code != "PolarRequestValidationError" || len(ae.Fields) != 1 ||
		ae.Fields[0].Field != "product_id" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Polar, 1)
}

func TestChargeflowSeededDisputes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddChargeflowDispute(ChargeflowDispute{ID: strings.ToUpper(disputeID), AccountID: "65f0c1d2e3a4b5c6d7e8f9bb", ExtAccountID: "merchant-4411"})
	rc := rawCreates[subkit.Chargeflow]
	got := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got.status != 201 {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	body := decodeObject(t, []byte(got.body))
	if body["ext_account_id"] != "merchant-4411" || body["account_id"] != "65f0c1d2e3a4b5c6d7e8f9bb" {
		t.Errorf("answer %s", got.body)
	}
	other := post(t, s.URL()+"/public/2025-04-01/disputes/65f0c1d2e3a4b5c6d7e8f902/subscription", rc.header, rc.body)
	expectAnswer(t, other, 404, `{"message":"Dispute not found","requestId":"`+other.header.Get("X-Request-Id")+`"}`)

	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForDispute(context.Background(), "65f0c1d2e3a4b5c6d7e8f902", disputeParams())
	if !errors.Is(err, subkit.ErrNotFound) {
		t.Fatalf("error %v", err)
	}
	if ae := apiError(t, err); ae.Message != "Dispute not found" || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Chargeflow, 1)
}

func TestChatDashSeededClients(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddChatDashAccount(accountID)
	s.AddChatDashClient(ChatDashClient{ID: "client-ok", AdminEmail: "boss@example.com",
		Agents: map[string]string{"a1": "Sales Bot", "a2": "Support Bot"}})
	s.AddChatDashClient(ChatDashClient{ID: "client-no-admin", NoAdmin: true})
	s.AddChatDashProduct(ChatDashProduct{ID: "prod_1", Name: "Voice Minutes", PriceIDs: []string{"price_1"}})
	c := newClient(t, s)
	ctx := context.Background()
	params := func(client string, agents ...string) *subkit.ConnectSubscriptionParams {
		p := connectParams()
		p.ClientID, p.AgentIDs, p.SelectedProduct.ProductID = client, agents, "prod_1"
		return p
	}

	got, err := c.Subscriptions.CreateConnect(ctx, accountID, params("client-ok", "a2", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Agents != "Support Bot, Sales Bot" || got.Customer.Email != "boss@example.com" || got.Product.Name != "Voice Minutes" ||
		len(got.PriceIDs) != 1 || got.PriceIDs[0] != "price_1" {
		t.Errorf("caller got %+v", got)
	}

	refusals := []struct {
		account string
		params  *subkit.ConnectSubscriptionParams
		status  int
		message string
	}{
		{accountID, params("client-no-admin", "a1"), 400, "Client has no admin member"},
		{accountID, params("client-unknown", "a1"), 404, "Client not found"},
		{accountID, params("client-ok", "a3"), 404, "Agent not found: a3"},
		{"acct_other", params("client-ok", "a1"), 404, "Connected account not found"},
	}
	for _, r := range refusals {
		_, err := c.Subscriptions.CreateConnect(ctx, r.account, r.params)
		ae := apiError(t, err)
		if ae.StatusCode != r.status || ae.Message != r.message || errors.Is(err, subkit.ErrOutcomeUnknown) {
			t.Errorf("%s: %+v", r.message, ae)
		}
	}
	p := params("client-ok", "a1")
	p.SelectedProduct.ProductID = "prod_unknown"
	if _, err := c.Subscriptions.CreateConnect(ctx, accountID, p); apiError(t, err).Message != "Product not found" {
		t.Errorf("unknown product: %v", err)
	}
	mustHold(t, s, subkit.ChatDash, 1)
}

func TestSeedingPanicsOnBadIDs(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	for name, f := range map[string]func(){
		"product":  func() { s.AddPolarProduct(PolarProduct{ID: "nope"}) },
		"interval": func() { s.AddPolarProduct(PolarProduct{RecurringInterval: "fortnight"}) },
		"customer": func() { s.AddPolarCustomer(PolarCustomer{ID: "nope"}) },
		"dispute":  func() { s.AddChargeflowDispute(ChargeflowDispute{ID: "nope"}) },
		"client":   func() { s.AddChatDashClient(ChatDashClient{}) },
		"account":  func() { s.AddChatDashAccount("") },
		"cd prod":  func() { s.AddChatDashProduct(ChatDashProduct{}) },
		"api":      func() { s.InjectFault("stripe", 1, CloseBeforeHandling()) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// A fresh server knows nothing: every create and look-up naming an object
// is refused with the real API's error until the object is registered.
func TestNothingExistsUntilRegistered(t *testing.T) {
	t.Parallel()
	s := newEmptyServer(t)
	for api, want := range map[subkit.API]struct {
		status int
		body   string
	}{
		subkit.Polar: {422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],` +
			`"msg":"Product does not exist.","input":"` + productID + `"}]}`},
		subkit.ChatDash: {404, `{"message":"Connected account not found"}`},
	} {
		rc := rawCreates[api]
		expectAnswer(t, post(t, s.URL()+rc.path, rc.header, rc.body), want.status, want.body)
	}
	cf := rawCreates[subkit.Chargeflow]
	got := post(t, s.URL()+cf.path, cf.header, cf.body)
	expectAnswer(t, got, 404, `{"message":"Dispute not found","requestId":"`+got.header.Get("X-Request-Id")+`"}`)
	got = get(t, s.URL()+lookupPaths[subkit.Chargeflow], lookupHeaders[subkit.Chargeflow])
	expectAnswer(t, got, 404, `{"message":"Dispute not found","requestId":"`+got.header.Get("X-Request-Id")+`"}`)
	expectAnswer(t, get(t, s.URL()+lookupPaths[subkit.ChatDash], lookupHeaders[subkit.ChatDash]), 404,
		`{"message":"Connected account not found"}`)

	// Polar: with the product, the customer; by ID and by external ID.
	s.AddPolarProduct(PolarProduct{ID: productID})
	pr := rawCreates[subkit.Polar]
	expectAnswer(t, post(t, s.URL()+pr.path, pr.header, pr.body), 422,
		`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","customer_id"],"msg":"Customer does not exist.","input":"`+customerID+`"}]}`)
	expectAnswer(t, post(t, s.URL()+pr.path, pr.header, `{"product_id":"`+productID+`","external_customer_id":"usr_42"}`), 422,
		`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","external_customer_id"],"msg":"Customer does not exist.","input":"usr_42"}]}`)
	// ChatDash: with the account, the client, then the product.
	s.AddChatDashAccount(accountID)
	cd := rawCreates[subkit.ChatDash]
	expectAnswer(t, post(t, s.URL()+cd.path, cd.header, cd.body), 404, `{"message":"Client not found"}`)
	s.AddChatDashClient(ChatDashClient{ID: clientID})
	expectAnswer(t, post(t, s.URL()+cd.path, cd.header, cd.body), 404, `{"message":"Product not found"}`)
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		mustHold(t, s, api, 0)
	}
}

// WithImplicitResources takes every well-formed ID for an existing object,
// until one object of its kind is registered.
func TestWithImplicitResources(t *testing.T) {
	t.Parallel()
	s := newEmptyServer(t, WithImplicitResources())
	c := newClient(t, s)
	ctx := context.Background()
	for _, cr := range creates {
		if _, err := cr.create(ctx, c, &subkit.ResponseInfo{}); err != nil {
			t.Errorf("%s: %v", cr.api, err)
		}
	}
	// The same implicit customer answers for the same external ID.
	p := &subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_implicit"}
	a, err1 := c.Subscriptions.CreateForExternalCustomer(ctx, p)
	b, err2 := c.Subscriptions.CreateForExternalCustomer(ctx, p)
	if err1 != nil || err2 != nil || a.CustomerID != b.CustomerID {
		t.Errorf("implicit external customer: %v %v %v", a, err1, err2)
	}
	if !lookupFinds(t, s, subkit.Chargeflow, mustHold(t, s, subkit.Chargeflow, 1)[0].ID) {
		t.Errorf("the implicit dispute's look-up does not find its subscription")
	}
	// Registering one dispute makes disputes strict again.
	s.AddChargeflowDispute(ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f9ff"})
	if _, err := c.Subscriptions.CreateForDispute(ctx, disputeID, disputeParams()); !errors.Is(err, subkit.ErrNotFound) {
		t.Errorf("unregistered dispute after seeding: %v", err)
	}
}
