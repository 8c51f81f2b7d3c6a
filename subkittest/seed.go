package subkittest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// WithImplicitResources makes the server take every well-formed ID for
// something that exists: a Polar product (free, monthly) or customer, a
// Chargeflow dispute, a ChatDash account, client (with an admin member) or
// product. No real API does this; it saves seeding in tests that do not
// care which objects exist. Registering one object of a kind
// (AddPolarProduct, …) makes that kind strict again: unknown ones are
// refused with the real API's error. Without this option nothing exists
// until it is registered.
func WithImplicitResources() ServerOption {
	return func(s *Server) { s.implicit = true }
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
	// Deleted makes a soft-deleted customer, which Polar refuses as
	// "Customer does not exist.".
	Deleted bool
}

// AddPolarCustomer registers a Polar customer and returns its ID in
// canonical form. A create naming a customer (by ID, or by external ID,
// matched exactly) that was not registered is refused with 422 "Customer
// does not exist." (unless WithImplicitResources is on and no customer is
// registered). It panics if the ID is not a UUID.
func (s *Server) AddPolarCustomer(c PolarCustomer) string {
	id := canonicalUUID(c.ID, "AddPolarCustomer")
	cust := &polarCustomer{id: id, externalID: c.ExternalID, email: c.Email, name: c.Name, deleted: c.Deleted,
		typ: "individual", createdAt: s.now()}
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

// AddChargeflowDispute registers a Chargeflow dispute. A create or look-up
// for a dispute that was not registered is refused with 404
// {"message":"Dispute not found"} (unless WithImplicitResources is on and no
// dispute is registered). It panics if the ID is not 24 hex characters.
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

// AddChatDashClient registers a ChatDash client. A create for a client that
// was not registered is refused with 404 {"message":"Client not found"}
// (unless WithImplicitResources is on and no client is registered). It
// panics if the ID is empty.
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
// agency. A create or look-up on an account that was not registered is
// refused with 404 {"message":"Connected account not found"} (unless
// WithImplicitResources is on and no account is registered). It panics if
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

// AddChatDashProduct registers a Stripe product. A create for a product
// that was not registered is refused with 404 {"message":"Product not
// found"} (unless WithImplicitResources is on and no product is
// registered). It panics if the ID is empty.
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
