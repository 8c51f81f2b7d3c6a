package subkit

// ChatDash: an agency creates a Stripe Connect subscription for one of its
// clients, and finds subscriptions again. API reference:
// https://docs.chat-dash.com (Stripe Connect)

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
	"github.com/subkit-go/subkit/internal/wire"
)

// SubscriptionsService creates (and finds) subscriptions on the three APIs:
// ChatDash in this file, Chargeflow in disputes.go, Polar in customers.go.
// Reach it as Client.Subscriptions.
type SubscriptionsService struct {
	client *Client
}

// Format prints only the service's name, for every verb: the client it
// belongs to holds credentials.
func (s SubscriptionsService) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte("subkit.SubscriptionsService"))
}

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
	// Enabled switches Stripe automatic tax on; the connected account must
	// have Stripe Tax set up, or the server refuses.
	Enabled bool
	// Country and PostalCode are sent only when set. Whether the create
	// endpoint reads them is unconfirmed (the update endpoint does).
	Country, PostalCode string
}

// connectBody is a create's body: the params themselves, which write their
// own wire form (everything inside "data", start date in Unix seconds) —
// the one place that knows it; subscriptions_internal_test.go holds the
// tagged struct it is checked against, byte for byte, as json.Marshal would
// write it.
type connectBody struct{ p ConnectSubscriptionParams }

// encodeJSON writes the body without reflection (internal/wire).
func (b *connectBody) encodeJSON() []byte {
	p := &b.p
	o := wire.NewObject(256)
	o.Begin("data")
	o.String("clientId", p.ClientID)
	o.Strings("agentIds", p.AgentIDs)
	o.Begin("selectedProduct")
	o.String("productId", p.SelectedProduct.ProductID)
	o.Int("startDate", p.SelectedProduct.StartDate.Unix())
	o.Begin("pricing")
	o.String("metrics", string(p.SelectedProduct.Pricing.Metrics))
	o.End()
	o.End()
	o.String("couponId", p.CouponID)
	o.Begin("taxSettings")
	o.Bool("enabled", p.TaxSettings.Enabled)
	o.StringOmitEmpty("country", p.TaxSettings.Country)
	o.StringOmitEmpty("postalCode", p.TaxSettings.PostalCode)
	o.End()
	o.End()
	return o.Bytes()
}

// CreateConnect creates a Stripe Connect subscription (a subscription
// schedule) on the connected account accountID (acct_…) for one of the
// agency's clients. It needs WithAgencyKey.
//
// ChatDash stores nothing a create could be found by, so an ambiguous failure
// is never retried unless the policy sets RetryAmbiguous: it returns an error
// matching ErrOutcomeUnknown, and FindConnect with the same params says
// whether it happened. For the same reason WithIdempotencyKey is refused with
// ErrInvalidParams, and RetryPolicy.Reconcile leaves these calls as they are.
//
// ChatDash API: POST /v1/public/stripe/connect/accounts/{accountId}/subscriptions
// (https://docs.chat-dash.com, Stripe Connect › Create Subscription)
func (s *SubscriptionsService) CreateConnect(ctx context.Context, accountID string, p *ConnectSubscriptionParams, opts ...CallOption) (*ConnectSubscription, error) {
	cs := collectCallOptions(opts)
	if err := validateConnect(accountID, p, cs.hasKey); err != nil {
		return finish[ConnectSubscription](cs, ResponseInfo{API: ChatDash}, nil, err)
	}
	body := &connectBody{p: *p} // a copy: the caller's params are theirs to change
	body.p.AgentIDs = slices.Clone(p.AgentIDs)
	out := new(ConnectSubscription)
	info, err := s.client.do(ctx, &request{api: ChatDash, method: http.MethodPost, create: true, body: body,
		path: connectPath(accountID)}, out)
	return finish(cs, info, out, err)
}

func validateConnect(accountID string, p *ConnectSubscriptionParams, keyed bool) error {
	var v validate.Problems
	v.PathID("accountId", accountID)
	if keyed {
		v.Add("idempotency_key", "unsupported",
			"ChatDash stores nothing a create can be found by, so it cannot be made idempotent; check with FindConnect instead")
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
	// Customer is the Stripe customer; Email is "" when the response gave
	// only the ID.
	Customer ConnectCustomer
	// CurrentPeriodStart and CurrentPeriodEnd bound the current billing
	// period; nil before it starts.
	CurrentPeriodStart *time.Time
	CurrentPeriodEnd   *time.Time
	// StartDate is when billing starts; nil when the response omits it.
	StartDate *time.Time
	// Created is when Stripe created the subscription or schedule.
	Created time.Time
	// CollectionMethod is charge_automatically or send_invoice.
	CollectionMethod string
	// CancelAtPeriodEnd reports whether it ends with the current period.
	CancelAtPeriodEnd bool
	// CanceledAt is when it was canceled; nil if it was not.
	CanceledAt *time.Time
	// Product is the Stripe product billed.
	Product ConnectProductSummary
	// AutomaticTax reports whether Stripe automatic tax is on.
	AutomaticTax bool
	// Coupon is the coupon ID, "" when none.
	Coupon string
	// PriceIDs are the Stripe prices (price_…) billed.
	PriceIDs []string
	// Agents are the agents' display names joined with commas, as ChatDash
	// sends them.
	Agents string
	// CancelAtPeriodEndDisplay is ChatDash's display text for a pending
	// cancellation; nil when none.
	CancelAtPeriodEndDisplay *string
	// Pricing, TotalPrice (smallest currency unit) and TotalUsage come with
	// GetConnect only; nil elsewhere.
	Pricing    *ConnectPricingSummary
	TotalPrice *int64
	TotalUsage *float64
}

// ConnectPricingSummary is the pricing GetConnect reports.
type ConnectPricingSummary struct {
	// Amount and Overage are decimal strings as ChatDash sends them ("10.00").
	Amount  string `json:"amount"`
	Overage string `json:"overage"`
	// UsageLimit is the usage included before overage is billed.
	UsageLimit float64 `json:"usageLimit"`
}

// ConnectCustomer is the Stripe customer of a Connect subscription.
type ConnectCustomer struct {
	// ID is the Stripe customer ID, cus_….
	ID string `json:"id"`
	// Email is the customer's e-mail; "" when the response gave only the ID.
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
	// ID is the Stripe product ID, prod_….
	ID string `json:"id"`
	// Name is the product's display name.
	Name string `json:"name"`
}

// connectSubscriptionWire is the wire form, with Unix-second times.
// subkittest writes the same shape from its own struct on purpose: the fake
// checks the SDK independently instead of agreeing with it by construction.
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

// UnmarshalJSON decodes ChatDash's response, turning Unix seconds into times.
func (sub *ConnectSubscription) UnmarshalJSON(b []byte) error {
	var w connectSubscriptionWire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*sub = ConnectSubscription{
		ID: w.ID, Type: w.Type, Status: w.Status, Customer: w.Customer,
		CurrentPeriodStart: unixPtr(w.CurrentPeriodStart), CurrentPeriodEnd: unixPtr(w.CurrentPeriodEnd),
		StartDate: unixPtr(w.StartDate), CollectionMethod: w.CollectionMethod,
		CancelAtPeriodEnd: w.CancelAtPeriodEnd, CanceledAt: unixPtr(w.CanceledAt), Product: w.Product,
		AutomaticTax: w.AutomaticTax, Coupon: w.Coupon, PriceIDs: w.PriceIDs, Agents: w.Agents,
		CancelAtPeriodEndDisplay: w.CancelAtPeriodEndDisplay,
		Pricing:                  w.Pricing, TotalPrice: w.TotalPrice, TotalUsage: w.TotalUsage,
	}
	if w.Created != 0 {
		sub.Created = time.Unix(w.Created, 0).UTC()
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

// missingID reports a response without the subscription's ID: see decodeSuccess.
func (sub *ConnectSubscription) missingID() bool { return sub.ID == "" }

// ConnectListStatus filters ListConnect. The type is open: ChatDash may add
// statuses, and any non-empty value is sent as given.
type ConnectListStatus string

// The statuses ChatDash documents for its list filter.
const (
	ConnectListScheduled         ConnectListStatus = "scheduled" // schedules not started yet
	ConnectListTrialing          ConnectListStatus = "trialing"
	ConnectListActive            ConnectListStatus = "active" // the server's default
	ConnectListIncomplete        ConnectListStatus = "incomplete"
	ConnectListIncompleteExpired ConnectListStatus = "incomplete_expired"
	ConnectListPastDue           ConnectListStatus = "past_due"
	ConnectListCanceled          ConnectListStatus = "canceled"
	ConnectListUnpaid            ConnectListStatus = "unpaid"
	ConnectListPaused            ConnectListStatus = "paused"
)

// ConnectListStatuses returns every status ChatDash documents for its list
// filter, for ConnectListParams.Statuses: all of an account's subscriptions.
func ConnectListStatuses() []ConnectListStatus {
	return []ConnectListStatus{ConnectListScheduled, ConnectListTrialing, ConnectListActive, ConnectListIncomplete,
		ConnectListIncompleteExpired, ConnectListPastDue, ConnectListCanceled, ConnectListUnpaid, ConnectListPaused}
}

// connectFreshStatuses are the statuses a subscription can have right after
// CreateConnect: a schedule not started yet (start date in the future), or a
// subscription Stripe started at once (start date now or past), trialing,
// active, or incomplete when its first payment needs action. A function, so
// that no caller can change the list for the others.
func connectFreshStatuses() []ConnectListStatus {
	return []ConnectListStatus{ConnectListScheduled, ConnectListTrialing, ConnectListActive, ConnectListIncomplete}
}

// ConnectListParams filter ListConnect. nil params list what ChatDash lists
// by default: active subscriptions only — not schedules that have not
// started (ConnectListScheduled), nor trialing, canceled, … ones.
type ConnectListParams struct {
	// Status keeps subscriptions in that status; "" means the server's
	// default, active. Ignored when Statuses is set.
	Status ConnectListStatus
	// Statuses lists each of these statuses in turn (one listing per
	// status, in this order); ConnectListStatuses() lists every status.
	Statuses []ConnectListStatus
	// PageSize is how many subscriptions a page fetches: 0 or more than 100
	// means 100.
	PageSize int
}

type connectListQuery struct {
	Status        ConnectListStatus `url:"status,omitempty"`
	Limit         int               `url:"limit"`
	StartingAfter string            `url:"starting_after,omitempty"`
}

type connectPage struct {
	Subscriptions []*ConnectSubscription `json:"subscriptions"`
	HasMore       bool                   `json:"has_more"`
	NextCursor    *string                `json:"next_cursor"`
}

// UnmarshalJSON refuses a page with a null item: see noNullItem.
func (p *connectPage) UnmarshalJSON(b []byte) error {
	type plain connectPage
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	return noNullItem("subscriptions", p.Subscriptions)
}

// connectPath is the path of the connected account's subscriptions.
func connectPath(accountID string) string {
	return "/v1/public/stripe/connect/accounts/" + url.PathEscape(accountID) + "/subscriptions"
}

// GetConnect returns one subscription of the connected account accountID.
// ChatDash's response here gives the customer as a bare ID (Customer.Email is
// "") and adds Pricing, TotalPrice and TotalUsage. ErrNotFound if there is no
// such subscription.
//
// ChatDash API: GET /v1/public/stripe/connect/accounts/{accountId}/subscriptions/{subscriptionId}
// (https://docs.chat-dash.com, Stripe Connect)
func (s *SubscriptionsService) GetConnect(ctx context.Context, accountID, subscriptionID string, opts ...CallOption) (*ConnectSubscription, error) {
	cs := collectCallOptions(opts)
	var v validate.Problems
	v.PathID("accountId", accountID)
	v.PathID("subscriptionId", subscriptionID)
	if err := invalid(ChatDash, v); err != nil {
		return finish[ConnectSubscription](cs, ResponseInfo{API: ChatDash}, nil, err)
	}
	out := new(ConnectSubscription)
	info, err := s.client.do(ctx, &request{api: ChatDash, method: http.MethodGet,
		path: connectPath(accountID) + "/" + url.PathEscape(subscriptionID)}, out)
	return finish(cs, info, out, err)
}

// ListConnect returns the subscriptions of the connected account accountID
// that p selects — with nil params, the active ones only (see
// ConnectListParams) — fetching pages (cursor paging) as the loop consumes
// them: breaking out of the loop fetches no further page. An error is yielded
// once and ends the sequence. WithResponseInfo is written when the loop ends.
//
// To find out whether a create whose outcome is unknown happened, use
// FindConnect.
//
// ChatDash API: GET /v1/public/stripe/connect/accounts/{accountId}/subscriptions
// (https://docs.chat-dash.com, Stripe Connect)
func (s *SubscriptionsService) ListConnect(ctx context.Context, accountID string, p *ConnectListParams, opts ...CallOption) iter.Seq2[*ConnectSubscription, error] {
	cs := collectCallOptions(opts)
	if p == nil {
		p = &ConnectListParams{}
	}
	var v validate.Problems
	v.PathID("accountId", accountID)
	checkPageSize(&v, p.PageSize)
	statuses := p.Statuses
	if len(statuses) == 0 {
		statuses = []ConnectListStatus{p.Status}
		v.Text("status", string(p.Status), 0, 0)
	}
	for i, st := range p.Statuses {
		v.Text(fmt.Sprintf("statuses[%d]", i), string(st), 1, 0)
	}
	if err := invalid(ChatDash, v); err != nil {
		return failed[ConnectSubscription](ChatDash, cs, err)
	}
	return paginate(ctx, ChatDash, cs, connectCursor{}, s.connectPages(accountID, statuses, pageLimit(p.PageSize)),
		func(c connectCursor) error {
			return fmt.Errorf("subkit: chatdash: the cursor %q repeats", c.after)
		})
}

// connectCursor is where a listing of several statuses stands: the status
// being listed, and the cursor within it.
type connectCursor struct {
	status int
	after  string
}

// connectPages fetches the pages of one status after the other.
func (s *SubscriptionsService) connectPages(accountID string, statuses []ConnectListStatus, limit int) pageFunc[ConnectSubscription, connectCursor] {
	return func(ctx context.Context, c connectCursor) ([]*ConnectSubscription, connectCursor, bool, ResponseInfo, error) {
		q, err := query.Values(connectListQuery{Status: statuses[c.status], Limit: limit, StartingAfter: c.after})
		if err != nil {
			return nil, c, false, ResponseInfo{API: ChatDash}, err
		}
		var page connectPage
		info, err := s.client.do(ctx, &request{api: ChatDash, method: http.MethodGet, path: connectPath(accountID), query: q.Encode()}, &page)
		if err != nil {
			return nil, c, false, info, err
		}
		next := ""
		if page.NextCursor != nil {
			next = *page.NextCursor
		}
		if next == "" && page.HasMore && len(page.Subscriptions) > 0 {
			// No cursor given: the last item's ID is Stripe's cursor.
			next = page.Subscriptions[len(page.Subscriptions)-1].ID
		}
		if page.HasMore && next != "" && len(page.Subscriptions) > 0 {
			return page.Subscriptions, connectCursor{status: c.status, after: next}, true, info, nil
		}
		// This status is done: on to the next one, if any.
		more := c.status+1 < len(statuses)
		return page.Subscriptions, connectCursor{status: c.status + 1}, more, info, nil
	}
}

// FindConnect looks for the subscription that CreateConnect(ctx, accountID, p)
// made, after a create whose outcome is unknown (ErrOutcomeUnknown). It lists
// the account's subscriptions in every status a fresh create can have
// (scheduled, trialing, active, incomplete) and keeps those with p's product
// and start date (to the second). It returns:
//
//   - the one match;
//   - an error matching ErrNotFound when there is none: the create was not
//     applied, provided the server has finished it (wait a few seconds after
//     the failure before looking);
//   - an *AmbiguousMatchError (ErrAmbiguousMatch) listing the candidates when
//     several subscriptions match — nothing in a ChatDash subscription names
//     the client it was made for, so two clients on the same product and
//     start date cannot be told apart — or when a subscription of that
//     product does not say its start date.
//
// ChatDash API: GET /v1/public/stripe/connect/accounts/{accountId}/subscriptions?status=…,
// one listing per status (https://docs.chat-dash.com, Stripe Connect)
func (s *SubscriptionsService) FindConnect(ctx context.Context, accountID string, p *ConnectSubscriptionParams, opts ...CallOption) (*ConnectSubscription, error) {
	cs := collectCallOptions(opts)
	if err := validateConnect(accountID, p, false); err != nil {
		return finish[ConnectSubscription](cs, ResponseInfo{API: ChatDash}, nil, err)
	}
	var info ResponseInfo
	var matches []*ConnectSubscription
	start := p.SelectedProduct.StartDate.Unix()
	for sub, err := range s.ListConnect(ctx, accountID, &ConnectListParams{Statuses: connectFreshStatuses()}, WithResponseInfo(&info)) {
		if err != nil {
			return finish[ConnectSubscription](cs, info, nil, err)
		}
		if sub.Product.ID != p.SelectedProduct.ProductID || (sub.StartDate != nil && sub.StartDate.Unix() != start) {
			continue
		}
		matches = append(matches, sub)
	}
	switch {
	case len(matches) == 0:
		return finish[ConnectSubscription](cs, info, nil, fmt.Errorf("subkit: chatdash: no subscription of product %s starting at %s on account %s: %w",
			p.SelectedProduct.ProductID, p.SelectedProduct.StartDate.UTC().Format(time.RFC3339), accountID, ErrNotFound))
	case len(matches) > 1 || matches[0].StartDate == nil:
		return finish[ConnectSubscription](cs, info, nil, &AmbiguousMatchError{API: ChatDash, Candidates: matches})
	}
	return finish(cs, info, matches[0], nil)
}

// AmbiguousMatchError is FindConnect's answer when it cannot tell which
// subscription, if any, the create made. It matches ErrAmbiguousMatch.
type AmbiguousMatchError struct {
	API API
	// Candidates are the subscriptions that could be the create's.
	Candidates []*ConnectSubscription
}

// Error names the candidates.
func (e *AmbiguousMatchError) Error() string {
	ids := make([]string, len(e.Candidates))
	for i, c := range e.Candidates {
		ids[i] = c.ID
	}
	return fmt.Sprintf("subkit: %s: %d subscriptions could be the create's, and nothing tells them apart: %s",
		e.API, len(e.Candidates), strings.Join(ids, ", "))
}

// Is reports whether target is ErrAmbiguousMatch.
func (e *AmbiguousMatchError) Is(target error) bool { return target == ErrAmbiguousMatch }
