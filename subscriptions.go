package subkit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/subkit-go/subkit/internal/validate"
)

// UsageMetric is the usage ChatDash bills a Connect subscription by. The type
// is open: only "minutes" is confirmed by the API reference, and any
// non-empty value is sent as given.
type UsageMetric string

// Known usage metrics.
const (
	MetricMinutes UsageMetric = "minutes"
)

// ConnectSubscriptionParams are the fields of a ChatDash Connect subscription,
// sent inside the request's "data" object.
type ConnectSubscriptionParams struct {
	// ClientID is the ChatDash client (required). The client must have an
	// admin member, or the server refuses.
	ClientID string
	// AgentIDs are the ChatDash agents billed (required, at least one).
	AgentIDs []string
	// SelectedProduct is the Stripe product on the connected account (required).
	SelectedProduct ConnectProduct
	// CouponID is a Stripe coupon ID; "" (the default) applies none.
	CouponID string
	// TaxSettings switches Stripe automatic tax.
	TaxSettings ConnectTaxSettings
}

// ConnectProduct is the product a Connect subscription bills.
type ConnectProduct struct {
	// ProductID is the Stripe product ID, prod_… (required).
	ProductID string
	// StartDate is when billing starts (required); sent as Unix seconds, so
	// anything below a second is dropped.
	StartDate time.Time
	// Pricing says what usage is billed.
	Pricing ConnectPricing
}

// ConnectPricing says what usage a Connect subscription bills.
type ConnectPricing struct {
	// Metrics is the usage metric (required, non-empty).
	Metrics UsageMetric
}

// ConnectTaxSettings switches Stripe automatic tax for the subscription.
type ConnectTaxSettings struct {
	Enabled bool
	// Country and PostalCode are sent only when set. Whether the create
	// endpoint reads them is unconfirmed (the update endpoint does).
	Country, PostalCode string
}

// connectCreateBody is the wire form: everything inside "data".
type connectCreateBody struct {
	Data connectCreateData `json:"data"`
}

type connectCreateData struct {
	ClientID        string         `json:"clientId"`
	AgentIDs        []string       `json:"agentIds"`
	SelectedProduct connectProduct `json:"selectedProduct"`
	CouponID        string         `json:"couponId"`
	TaxSettings     connectTaxWire `json:"taxSettings"`
}

type connectProduct struct {
	ProductID string             `json:"productId"`
	StartDate int64              `json:"startDate"`
	Pricing   connectPricingWire `json:"pricing"`
}

type connectPricingWire struct {
	Metrics UsageMetric `json:"metrics"`
}

type connectTaxWire struct {
	Enabled    bool   `json:"enabled"`
	Country    string `json:"country,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
}

// CreateConnect creates a Stripe Connect subscription (a subscription
// schedule) on the connected account accountID (acct_…) for one of the
// agency's clients. It needs WithAgencyKey.
//
// ChatDash stores nothing a create could be found by, so an ambiguous failure
// is never retried unless the policy sets RetryAmbiguous; it returns an error
// matching ErrOutcomeUnknown, and ListConnect shows whether it happened.
//
// ChatDash stores nothing a create could be found by either, so
// WithIdempotencyKey is refused with ErrInvalidParams, and
// RetryPolicy.Reconcile leaves these calls as they are.
func (s *SubscriptionsService) CreateConnect(ctx context.Context, accountID string, p *ConnectSubscriptionParams, opts ...CallOption) (*ConnectSubscription, error) {
	cs := collectCallOptions(ChatDash, opts)
	if err := validateConnect(accountID, p, cs.hasKey); err != nil {
		return nil, err
	}
	body := &connectCreateBody{Data: connectCreateData{
		ClientID: p.ClientID,
		AgentIDs: p.AgentIDs,
		SelectedProduct: connectProduct{
			ProductID: p.SelectedProduct.ProductID,
			StartDate: p.SelectedProduct.StartDate.Unix(),
			Pricing:   connectPricingWire(p.SelectedProduct.Pricing),
		},
		CouponID:    p.CouponID,
		TaxSettings: connectTaxWire(p.TaxSettings),
	}}
	out := new(ConnectSubscription)
	err := s.client.do(ctx, &request{
		api: ChatDash, method: http.MethodPost, create: true, body: body,
		path: connectPath(accountID),
	}, out, cs)
	if err != nil {
		return nil, err
	}
	return out, nil
}

func validateConnect(accountID string, p *ConnectSubscriptionParams, keyed bool) error {
	var v validate.Problems
	v.PathID("accountId", accountID)
	if keyed {
		v.Add("idempotency_key", "unsupported",
			"ChatDash stores nothing a create can be found by, so it cannot be made idempotent; check with ListConnect instead")
	}
	if p == nil {
		v.Add("data", validate.CodeRequired, "params are required")
		return invalid(ChatDash, v)
	}
	v.Text("data.clientId", p.ClientID, 1, 0)
	if len(p.AgentIDs) == 0 {
		v.Add("data.agentIds", validate.CodeRequired, "at least one agent ID is required")
	}
	for i, id := range p.AgentIDs {
		if !validate.TextOK(id, 1, 0) { // format the path only for a bad ID
			v.Text(fmt.Sprintf("data.agentIds[%d]", i), id, 1, 0)
		}
	}
	v.Text("data.selectedProduct.productId", p.SelectedProduct.ProductID, 1, 0)
	v.Time("data.selectedProduct.startDate", p.SelectedProduct.StartDate, true)
	v.Text("data.selectedProduct.pricing.metrics", string(p.SelectedProduct.Pricing.Metrics), 1, 0)
	v.Text("data.couponId", p.CouponID, 0, 0)
	v.Text("data.taxSettings.country", p.TaxSettings.Country, 0, 0)
	v.Text("data.taxSettings.postalCode", p.TaxSettings.PostalCode, 0, 0)
	return invalid(ChatDash, v)
}

// ConnectSubscription is ChatDash's summary of a Stripe subscription or
// subscription schedule. Times are decoded from Unix seconds; a time that may
// be null is a pointer, nil when null or absent.
type ConnectSubscription struct {
	// ID is sub_sched_… for a schedule, sub_… for a subscription.
	ID string
	// Type is "schedule" from a create, "subscription" elsewhere.
	Type string
	// Status is the Stripe status: for a schedule not_started, active,
	// completed, released or canceled; subscription statuses elsewhere.
	Status string
	// Customer is the Stripe customer; Email is "" when the answer gave only
	// the ID.
	Customer           ConnectCustomer
	CurrentPeriodStart *time.Time
	CurrentPeriodEnd   *time.Time
	StartDate          *time.Time
	Created            time.Time
	// CollectionMethod is charge_automatically or send_invoice.
	CollectionMethod  string
	CancelAtPeriodEnd bool
	CanceledAt        *time.Time
	Product           ConnectProductSummary
	AutomaticTax      bool
	// Coupon is the coupon ID, "" when none.
	Coupon   string
	PriceIDs []string
	// Agents are the agents' display names joined with commas, as ChatDash
	// sends them.
	Agents                   string
	CancelAtPeriodEndDisplay *string
	// Pricing, TotalPrice (smallest currency unit) and TotalUsage come with
	// GetConnect only; nil elsewhere.
	Pricing    *ConnectPricingSummary
	TotalPrice *int64
	TotalUsage *float64
}

// ConnectPricingSummary is the pricing GetConnect reports. Amounts are
// decimal strings as ChatDash sends them ("10.00").
type ConnectPricingSummary struct {
	Amount     string  `json:"amount"`
	Overage    string  `json:"overage"`
	UsageLimit float64 `json:"usageLimit"`
}

// ConnectCustomer is the Stripe customer of a Connect subscription.
type ConnectCustomer struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

// UnmarshalJSON accepts the customer as an object or as a bare ID string, as
// ChatDash's create and get endpoints differ.
func (c *ConnectCustomer) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		c.Email = ""
		return json.Unmarshal(b, &c.ID)
	}
	type plain ConnectCustomer
	return json.Unmarshal(b, (*plain)(c))
}

// ConnectProductSummary is the Stripe product of a Connect subscription.
type ConnectProductSummary struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// connectSubscriptionWire is the wire form, with Unix-second times.
type connectSubscriptionWire struct {
	ID                       string                 `json:"id"`
	Type                     string                 `json:"type"`
	Status                   string                 `json:"status"`
	Customer                 ConnectCustomer        `json:"customer"`
	CurrentPeriodStart       *int64                 `json:"current_period_start"`
	CurrentPeriodEnd         *int64                 `json:"current_period_end"`
	StartDate                *int64                 `json:"startDate"`
	Created                  int64                  `json:"created"`
	CollectionMethod         string                 `json:"collection_method"`
	CancelAtPeriodEnd        bool                   `json:"cancel_at_period_end"`
	CanceledAt               *int64                 `json:"canceled_at"`
	Product                  ConnectProductSummary  `json:"product"`
	AutomaticTax             bool                   `json:"automatic_tax"`
	Coupon                   string                 `json:"coupon"`
	PriceIDs                 []string               `json:"priceIds"`
	Agents                   string                 `json:"agents"`
	CancelAtPeriodEndDisplay *string                `json:"cancelAtPeriodEndDisplay"`
	Pricing                  *ConnectPricingSummary `json:"pricing"`
	TotalPrice               *int64                 `json:"totalPrice"`
	TotalUsage               *float64               `json:"totalUsage"`
}

// UnmarshalJSON decodes ChatDash's answer, turning Unix seconds into times.
func (cs *ConnectSubscription) UnmarshalJSON(b []byte) error {
	var w connectSubscriptionWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*cs = ConnectSubscription{
		ID: w.ID, Type: w.Type, Status: w.Status, Customer: w.Customer,
		CurrentPeriodStart: unixPtr(w.CurrentPeriodStart), CurrentPeriodEnd: unixPtr(w.CurrentPeriodEnd),
		StartDate: unixPtr(w.StartDate), CollectionMethod: w.CollectionMethod,
		CancelAtPeriodEnd: w.CancelAtPeriodEnd, CanceledAt: unixPtr(w.CanceledAt), Product: w.Product,
		AutomaticTax: w.AutomaticTax, Coupon: w.Coupon, PriceIDs: w.PriceIDs, Agents: w.Agents,
		CancelAtPeriodEndDisplay: w.CancelAtPeriodEndDisplay,
		Pricing:                  w.Pricing, TotalPrice: w.TotalPrice, TotalUsage: w.TotalUsage,
	}
	if w.Created != 0 {
		cs.Created = time.Unix(w.Created, 0).UTC()
	}
	return nil
}

func unixPtr(secs *int64) *time.Time {
	if secs == nil {
		return nil
	}
	t := time.Unix(*secs, 0).UTC()
	return &t
}
