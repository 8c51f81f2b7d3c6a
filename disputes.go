package subkit

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/subkit-go/subkit/internal/validate"
)

// Frequency is how often a Chargeflow subscription renews, with
// FrequencyCount: month and 3 renew every three months. The list is closed.
type Frequency string

// The frequencies Chargeflow accepts.
const (
	FrequencyDay   Frequency = "day"
	FrequencyWeek  Frequency = "week"
	FrequencyMonth Frequency = "month"
	FrequencyYear  Frequency = "year"
)

// CollectionMethod is how a Chargeflow subscription is collected. The list is
// closed; "" leaves the server's default (automatically).
type CollectionMethod string

// The collection methods Chargeflow accepts.
const (
	CollectionAutomatically              CollectionMethod = "automatically"
	CollectionAutomaticallyWithReminders CollectionMethod = "automatically_with_reminders"
	CollectionSendInvoice                CollectionMethod = "send_invoice"
)

// CancellationReason is why a Chargeflow subscription was cancelled. The list
// is closed.
type CancellationReason string

// The cancellation reasons Chargeflow accepts.
const (
	ReasonTooExpensive    CancellationReason = "too_expensive"
	ReasonLowQuality      CancellationReason = "low_quality"
	ReasonUnused          CancellationReason = "unused"
	ReasonTooComplex      CancellationReason = "too_complex"
	ReasonMissingFeatures CancellationReason = "missing_features"
)

// PricingModel is a Chargeflow subscription's pricing model. The type is open:
// Chargeflow has not published the full list, so any value is sent as given.
type PricingModel string

// Known pricing models.
const (
	PricingFixedPrice PricingModel = "fixed_price"
)

// DisputeSubscriptionStatus is a Chargeflow subscription's status. The type is
// open: Chargeflow has not published the full list.
type DisputeSubscriptionStatus string

// Known statuses.
const (
	DisputeSubscriptionActive DisputeSubscriptionStatus = "active"
)

// DisputeSubscriptionParams describe the subscription behind a disputed
// charge. Zero values are not sent: the server applies its defaults.
type DisputeSubscriptionParams struct {
	// SourceID is the subscription's ID in the system it came from
	// (required, 1–128 characters).
	SourceID string
	// AccountID is the Chargeflow account, 24 hex characters; required for
	// platform users.
	AccountID string
	// CreatedAt and StartDate are required.
	CreatedAt, StartDate time.Time
	// Frequency (required) and FrequencyCount (required, ≥ 1) say how often
	// the subscription renews.
	Frequency      Frequency
	FrequencyCount int
	// CollectionMethod defaults to automatically on the server.
	CollectionMethod                                                     CollectionMethod
	UpdatedAt, EndDate, CancellationDate, TrialStart, TrialEnd, RenewsAt time.Time
	CancellationReason                                                   CancellationReason
	PlanName                                                             string
	// PricingModel defaults to fixed_price on the server.
	PricingModel PricingModel
	// Status defaults to active on the server.
	Status DisputeSubscriptionStatus
}

// disputeCreateBody is the wire form: flat, snake_case, optional keys omitted.
type disputeCreateBody struct {
	SourceID           string                    `json:"source_id"`
	AccountID          string                    `json:"account_id,omitempty"`
	CreatedAt          string                    `json:"created_at"`
	StartDate          string                    `json:"start_date"`
	Frequency          Frequency                 `json:"frequency"`
	FrequencyCount     int                       `json:"frequency_count"`
	CollectionMethod   CollectionMethod          `json:"collection_method,omitempty"`
	UpdatedAt          string                    `json:"updated_at,omitempty"`
	EndDate            string                    `json:"end_date,omitempty"`
	CancellationDate   string                    `json:"cancellation_date,omitempty"`
	CancellationReason CancellationReason        `json:"cancellation_reason,omitempty"`
	TrialStart         string                    `json:"trial_start,omitempty"`
	TrialEnd           string                    `json:"trial_end,omitempty"`
	RenewsAt           string                    `json:"renews_at,omitempty"`
	PlanName           string                    `json:"plan_name,omitempty"`
	PricingModel       PricingModel              `json:"pricing_model,omitempty"`
	Status             DisputeSubscriptionStatus `json:"status,omitempty"`
}

// rfc3339 writes a time as Chargeflow and Polar read it, in UTC; a zero time
// is "" so that omitempty drops it.
func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// CreateForDispute records the subscription behind the disputed charge
// disputeID (24 hex characters), so that the dispute can be won. It needs
// WithChargeflowKey. A dispute holds one subscription.
//
// Keyed (WithIdempotencyKey, or RetryPolicy.Reconcile), the create is found
// again by its dispute and SourceID: nothing extra is sent, and two keys for
// the same dispute and SourceID replay each other.
func (s *SubscriptionsService) CreateForDispute(ctx context.Context, disputeID string, p *DisputeSubscriptionParams, opts ...CallOption) (*DisputeSubscription, error) {
	cs := collectCallOptions(Chargeflow, opts)
	key, keyed := s.client.idempotencyKey(cs)
	if err := validateDispute(disputeID, p, key, keyed); err != nil {
		return nil, err
	}
	body := &disputeCreateBody{
		SourceID: p.SourceID, AccountID: p.AccountID,
		CreatedAt: rfc3339(p.CreatedAt), StartDate: rfc3339(p.StartDate),
		Frequency: p.Frequency, FrequencyCount: p.FrequencyCount, CollectionMethod: p.CollectionMethod,
		UpdatedAt: rfc3339(p.UpdatedAt), EndDate: rfc3339(p.EndDate), CancellationDate: rfc3339(p.CancellationDate),
		CancellationReason: p.CancellationReason, TrialStart: rfc3339(p.TrialStart), TrialEnd: rfc3339(p.TrialEnd),
		RenewsAt: rfc3339(p.RenewsAt), PlanName: p.PlanName, PricingModel: p.PricingModel, Status: p.Status,
	}
	out := new(DisputeSubscription)
	r := &request{
		api: Chargeflow, method: http.MethodPost, create: true, body: body,
		path: "/public/2025-04-01/disputes/" + url.PathEscape(disputeID) + "/subscription",
	}
	if keyed {
		r.find, r.replay = s.disputeFinder(disputeID, p.SourceID, out), cs.hasKey
	}
	if err := s.client.do(ctx, r, out, cs); err != nil {
		return nil, err
	}
	return out, nil
}

func validateDispute(disputeID string, p *DisputeSubscriptionParams, key string, keyed bool) error {
	var v validate.Problems
	v.Hex24("disputeId", disputeID, true)
	if keyed {
		v.Text("idempotency_key", key, 1, 500)
	}
	if p == nil {
		v.Add("", validate.CodeRequired, "params are required")
		return invalid(Chargeflow, v)
	}
	v.Text("source_id", p.SourceID, 1, 128)
	v.Hex24("account_id", p.AccountID, false)
	v.Time("created_at", p.CreatedAt, true)
	v.Time("start_date", p.StartDate, true)
	v.OneOf("frequency", string(p.Frequency), true, "day", "week", "month", "year")
	if p.FrequencyCount < 1 {
		v.Add("frequency_count", validate.CodeRequired, "must be at least 1, got %d", p.FrequencyCount)
	}
	v.OneOf("collection_method", string(p.CollectionMethod), false,
		"automatically", "automatically_with_reminders", "send_invoice")
	v.OneOf("cancellation_reason", string(p.CancellationReason), false,
		"too_expensive", "low_quality", "unused", "too_complex", "missing_features")
	for _, t := range []struct {
		field string
		t     time.Time
	}{{"updated_at", p.UpdatedAt}, {"end_date", p.EndDate}, {"cancellation_date", p.CancellationDate},
		{"trial_start", p.TrialStart}, {"trial_end", p.TrialEnd}, {"renews_at", p.RenewsAt}} {
		v.Time(t.field, t.t, false)
	}
	v.Text("plan_name", p.PlanName, 0, 0)
	v.Text("pricing_model", string(p.PricingModel), 0, 0)
	v.Text("status", string(p.Status), 0, 0)
	return invalid(Chargeflow, v)
}

// DisputeSubscription is the subscription Chargeflow holds for a dispute.
// Dates the server may send as null are pointers, nil when null or absent.
type DisputeSubscription struct {
	// ID is Chargeflow's own ID for the subscription.
	ID       string `json:"id"`
	SourceID string `json:"source_id"`
	// AccountID is the Chargeflow account; ExtAccountID the platform's own
	// merchant ID (read-only).
	AccountID          string                    `json:"account_id"`
	ExtAccountID       string                    `json:"ext_account_id"`
	CreatedAt          *time.Time                `json:"created_at"`
	UpdatedAt          *time.Time                `json:"updated_at"`
	StartDate          *time.Time                `json:"start_date"`
	EndDate            *time.Time                `json:"end_date"`
	CancellationDate   *time.Time                `json:"cancellation_date"`
	Frequency          Frequency                 `json:"frequency"`
	FrequencyCount     int                       `json:"frequency_count"`
	CancellationReason CancellationReason        `json:"cancellation_reason"`
	CollectionMethod   CollectionMethod          `json:"collection_method"`
	TrialStart         *time.Time                `json:"trial_start"`
	TrialEnd           *time.Time                `json:"trial_end"`
	RenewsAt           *time.Time                `json:"renews_at"`
	PlanName           string                    `json:"plan_name"`
	PricingModel       PricingModel              `json:"pricing_model"`
	Status             DisputeSubscriptionStatus `json:"status"`
}
