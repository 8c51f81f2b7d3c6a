package subkittest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// PolarProduct is a product to register with AddPolarProduct. Zero fields
// take the defaults of a free monthly product.
type PolarProduct struct {
	// ID is the product's UUID; "" draws a version 4 UUID.
	ID string
	// Name defaults to "Free".
	Name string
	// RecurringInterval is day, week, month (the default) or year;
	// RecurringIntervalCount defaults to 1. A subscription's period ends
	// this far after it starts.
	RecurringInterval      string
	RecurringIntervalCount int
	// PriceAmount is the price in the smallest currency unit: 0 (the
	// default) makes the product free. Polar subscribes customers only to
	// free products through the API, so a create for a paid product is
	// refused with 422 PolarRequestValidationError.
	PriceAmount int
	// Currency defaults to "usd".
	Currency string
	// NotRecurring makes a one-time product, which creates are refused for.
	NotRecurring bool
}

// AddPolarProduct registers a Polar product and returns its ID in canonical
// form. From then on, a create for a product that was not registered is
// refused with 422 "Product does not exist.". It panics if the ID is not a
// UUID or the interval unknown.
func (s *Server) AddPolarProduct(p PolarProduct) string {
	id := canonicalUUID(p.ID, "AddPolarProduct")
	prod := &polarProduct{id: id, name: p.Name, interval: p.RecurringInterval, count: p.RecurringIntervalCount,
		amount: p.PriceAmount, currency: p.Currency, notRecurring: p.NotRecurring, priceID: newUUID4(), createdAt: s.now()}
	if prod.name == "" {
		prod.name = "Free"
	}
	if prod.interval == "" {
		prod.interval = "month"
	}
	if !slices.Contains([]string{"day", "week", "month", "year"}, prod.interval) {
		panic(fmt.Sprintf("subkittest: AddPolarProduct: unknown recurring interval %q", p.RecurringInterval))
	}
	if prod.count < 1 {
		prod.count = 1
	}
	if prod.currency == "" {
		prod.currency = "usd"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polar.products[id] = prod
	return id
}

// PolarCustomer is a customer to register with AddPolarCustomer.
type PolarCustomer struct {
	// ID is the customer's UUID; "" draws a version 4 UUID.
	ID string
	// ExternalID is the customer's ID in the caller's system, which the
	// external-customer create names it by; "" for none.
	ExternalID string
	// Email defaults to customer-<first 8 characters of ID>@example.com.
	Email string
	// Name is shown as the customer's name; "" answers null.
	Name string
}

// AddPolarCustomer registers a Polar customer and returns its ID in
// canonical form. From then on, a create naming a customer (by ID or by
// external ID) that was not registered is refused with 422 "Customer does
// not exist.". It panics if the ID is not a UUID.
func (s *Server) AddPolarCustomer(c PolarCustomer) string {
	id := canonicalUUID(c.ID, "AddPolarCustomer")
	cust := &polarCustomer{id: id, externalID: c.ExternalID, email: c.Email, name: c.Name, createdAt: s.now()}
	if cust.email == "" {
		cust.email = "customer-" + id[:8] + "@example.com"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polar.customers[id] = cust
	if c.ExternalID != "" {
		s.polar.byExtID[c.ExternalID] = cust
	}
	return id
}

func canonicalUUID(id, fn string) string {
	if id == "" {
		return newUUID4()
	}
	b, problem := parseUUID(id)
	if problem != "" {
		panic(fmt.Sprintf("subkittest: %s: %q is not a UUID: %s", fn, id, problem))
	}
	return formatUUID(b)
}

// ChargeflowDispute is a dispute to register with AddChargeflowDispute.
type ChargeflowDispute struct {
	// ID is the dispute's ID, 24 hex characters (either case).
	ID string
	// AccountID is answered as account_id when the create does not name
	// one; ExtAccountID is answered as ext_account_id. "" answers null.
	AccountID, ExtAccountID string
	// The dispute's own details, answered by the dispute look-up
	// (GET /disputes/{disputeId}). A zero field is drawn from the ID, the
	// same for a dispute in every answer: source "stripe", a dp_… source_id,
	// created_at the time in the ObjectId, due_by 7 to 20 days later, a
	// reason, an amount between 10.00 and 499.99, currency "USD", status
	// "needs_response", stage "Chargeback".
	Source, SourceID, Reason, Currency, Status, Stage string
	Amount                                            float64
	CreatedAt, DueBy                                  time.Time
}

// AddChargeflowDispute registers a Chargeflow dispute. From then on, a
// create for a dispute that was not registered is refused with 404
// {"message":"Dispute not found"}. It panics if the ID is not 24 hex
// characters.
func (s *Server) AddChargeflowDispute(d ChargeflowDispute) {
	if !hex24.MatchString(d.ID) {
		panic(fmt.Sprintf("subkittest: AddChargeflowDispute: %q is not 24 hex characters", d.ID))
	}
	d.ID = strings.ToLower(d.ID)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cf.disputes[d.ID] = &d
}

// ChatDashClient is an agency client to register with AddChatDashClient.
type ChatDashClient struct {
	// ID is the client's ID (a 24-hex ObjectId in ChatDash's examples; any
	// non-empty string here).
	ID string
	// NoAdmin makes a client without an admin member: ChatDash refuses to
	// create its subscriptions, with 400 {"message":"Client has no admin member"}.
	NoAdmin bool
	// AdminEmail is answered as the Stripe customer's email; the default is
	// owner@example.com.
	AdminEmail string
	// Agents maps the client's agent IDs to their display names. When it is
	// not empty, a create naming another agent is refused with 404
	// {"message":"Agent not found: <id>"}; answers join the names with ", ".
	// Without it, agents are named "Agent 1", "Agent 2", … in request order.
	Agents map[string]string
}

// AddChatDashClient registers a ChatDash client. From then on, a create for
// a client that was not registered is refused with 404
// {"message":"Client not found"}. It panics if the ID is empty.
func (s *Server) AddChatDashClient(c ChatDashClient) {
	if c.ID == "" {
		panic("subkittest: AddChatDashClient: the ID is empty")
	}
	c.Agents = maps.Clone(c.Agents)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cd.clients[c.ID] = &c
}

// AddChatDashAccount registers a Stripe connected account (acct_…) of the
// agency. From then on, a create on an account that was not registered is
// refused with 404 {"message":"Connected account not found"}. It panics if
// accountID is empty.
func (s *Server) AddChatDashAccount(accountID string) {
	if accountID == "" {
		panic("subkittest: AddChatDashAccount: the ID is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cd.accounts[accountID] = true
}

// ChatDashProduct is a Stripe product to register with AddChatDashProduct.
type ChatDashProduct struct {
	// ID is the Stripe product ID (prod_…).
	ID string
	// Name is answered as product.name; the default is "Pro Plan".
	Name string
	// PriceIDs are answered as priceIds; the default is two price_… IDs
	// drawn at registration.
	PriceIDs []string
}

// AddChatDashProduct registers a Stripe product. From then on, a create
// for a product that was not registered is refused with 404
// {"message":"Product not found"}. It panics if the ID is empty.
func (s *Server) AddChatDashProduct(p ChatDashProduct) {
	if p.ID == "" {
		panic("subkittest: AddChatDashProduct: the ID is empty")
	}
	if p.Name == "" {
		p.Name = "Pro Plan"
	}
	p.PriceIDs = slices.Clone(p.PriceIDs)
	if len(p.PriceIDs) == 0 {
		p.PriceIDs = []string{newStripeID("price_", 24), newStripeID("price_", 24)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cd.products[p.ID] = &p
}
