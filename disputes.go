package subkit

// Chargeflow: record the subscription behind a disputed charge, and find it
// again. API reference: https://docs.chargeflow.io (Merchants API, version 2025-04-01)

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
	"github.com/subkit-go/subkit/internal/wire"
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
// charge, as the merchant's billing system knows it. Zero values are not sent
// (never as null): the server applies its defaults. Times are sent in UTC as
// RFC 3339 with the fraction of a second given (how much of the fraction
// Chargeflow keeps is not published); a time whose year in UTC is outside
// 1–9999 is refused with ErrInvalidParams.
type DisputeSubscriptionParams struct {
	// SourceID is the subscription's ID in the system it came from
	// (required, 1–128 characters). With the dispute it identifies the
	// create: see CreateForDispute.
	SourceID string
	// AccountID is the Chargeflow account, 24 hex characters; required for
	// platform users, "" otherwise.
	AccountID string
	// CreatedAt is when the subscription was created in the source system
	// (required).
	CreatedAt time.Time
	// StartDate is when the subscription started (required).
	StartDate time.Time
	// Frequency (required) and FrequencyCount (required, ≥ 1) say how often
	// the subscription renews: FrequencyMonth and 3 renew every three months.
	Frequency      Frequency
	FrequencyCount int
	// CollectionMethod is how payments are collected; "" leaves the server's
	// default, CollectionAutomatically.
	CollectionMethod CollectionMethod
	// UpdatedAt is when the subscription last changed in the source system.
	UpdatedAt time.Time
	// EndDate is when the subscription ended or will end: the end of the
	// service, whatever the reason.
	EndDate time.Time
	// CancellationDate is when the customer asked to cancel, which may be
	// before EndDate (a cancellation at the end of the period).
	CancellationDate time.Time
	// CancellationReason is why the customer cancelled; "" for none.
	// Chargeflow publishes no rule tying it to CancellationDate or EndDate,
	// so the SDK enforces none: send the dates the source system has.
	CancellationReason CancellationReason
	// TrialStart and TrialEnd bound a free trial, if there was one.
	TrialStart, TrialEnd time.Time
	// RenewsAt is when the subscription next renews.
	RenewsAt time.Time
	// PlanName is the plan's display name in the source system.
	PlanName string
	// PricingModel defaults to PricingFixedPrice on the server.
	PricingModel PricingModel
	// Status defaults to DisputeSubscriptionActive on the server.
	Status DisputeSubscriptionStatus
}

// disputeBody is a create's body: the params themselves, which write their
// own wire form (flat, snake_case, optional keys omitted) — the one place
// that knows it; disputes_internal_test.go holds the tagged struct it is
// checked against, byte for byte, as json.Marshal would write it.
type disputeBody struct{ p DisputeSubscriptionParams }

// encodeJSON writes the body without reflection (internal/wire). Times go
// out in RFC 3339, UTC; a zero optional time is left out.
func (b *disputeBody) encodeJSON() []byte {
	p := &b.p
	o := wire.NewObject(512)
	o.String("source_id", p.SourceID)
	o.StringOmitEmpty("account_id", p.AccountID)
	o.String("created_at", rfc3339(p.CreatedAt))
	o.String("start_date", rfc3339(p.StartDate))
	o.String("frequency", string(p.Frequency))
	o.Int("frequency_count", int64(p.FrequencyCount))
	o.StringOmitEmpty("collection_method", string(p.CollectionMethod))
	o.StringOmitEmpty("updated_at", rfc3339(p.UpdatedAt))
	o.StringOmitEmpty("end_date", rfc3339(p.EndDate))
	o.StringOmitEmpty("cancellation_date", rfc3339(p.CancellationDate))
	o.StringOmitEmpty("cancellation_reason", string(p.CancellationReason))
	o.StringOmitEmpty("trial_start", rfc3339(p.TrialStart))
	o.StringOmitEmpty("trial_end", rfc3339(p.TrialEnd))
	o.StringOmitEmpty("renews_at", rfc3339(p.RenewsAt))
	o.StringOmitEmpty("plan_name", p.PlanName)
	o.StringOmitEmpty("pricing_model", string(p.PricingModel))
	o.StringOmitEmpty("status", string(p.Status))
	return o.Bytes()
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
//
// Chargeflow API: POST /public/2025-04-01/disputes/{disputeId}/subscription
// (https://docs.chargeflow.io, Merchants API › Subscription)
func (s *SubscriptionsService) CreateForDispute(ctx context.Context, disputeID string, p *DisputeSubscriptionParams, opts ...CallOption) (*DisputeSubscription, error) {
	cs := collectCallOptions(opts)
	key, keyed := s.client.idempotencyKey(cs)
	if err := validateDispute(disputeID, p, key, keyed); err != nil {
		return finish[DisputeSubscription](cs, ResponseInfo{API: Chargeflow}, nil, err)
	}
	body := &disputeBody{p: *p} // a copy: the caller's params are theirs to change
	out := new(DisputeSubscription)
	r := &request{api: Chargeflow, method: http.MethodPost, create: true, body: body, path: disputePath(disputeID) + "/subscription"}
	var k *keyedCreate
	if keyed {
		k = s.disputeKeyed(disputeID, key, cs, body, out)
	}
	info, err := s.client.create(ctx, r, k, out)
	return finish(cs, info, out, err)
}

// disputePath is the path of the dispute disputeID.
func disputePath(disputeID string) string {
	return "/public/2025-04-01/disputes/" + url.PathEscape(disputeID)
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

// DisputeSubscription is the subscription Chargeflow holds for a dispute:
// the values the create sent, as Chargeflow stored them. Dates the server may
// send as null are pointers, nil when null or absent.
type DisputeSubscription struct {
	// ID is Chargeflow's own ID for the subscription.
	ID string `json:"id"`
	// SourceID is the subscription's ID in the system it came from.
	SourceID string `json:"source_id"`
	// AccountID is the Chargeflow account ("" when none was given).
	AccountID string `json:"account_id"`
	// ExtAccountID is the platform's own ID of the merchant (read-only).
	ExtAccountID string `json:"ext_account_id"`
	// CreatedAt and UpdatedAt are the source system's times the create sent.
	CreatedAt *time.Time `json:"created_at"`
	UpdatedAt *time.Time `json:"updated_at"`
	// StartDate, EndDate and CancellationDate: see DisputeSubscriptionParams.
	StartDate        *time.Time `json:"start_date"`
	EndDate          *time.Time `json:"end_date"`
	CancellationDate *time.Time `json:"cancellation_date"`
	// Frequency and FrequencyCount say how often it renews.
	Frequency      Frequency `json:"frequency"`
	FrequencyCount int       `json:"frequency_count"`
	// CancellationReason is "" when none was given.
	CancellationReason CancellationReason `json:"cancellation_reason"`
	// CollectionMethod is how payments are collected.
	CollectionMethod CollectionMethod `json:"collection_method"`
	// TrialStart and TrialEnd bound a free trial; nil without one.
	TrialStart *time.Time `json:"trial_start"`
	TrialEnd   *time.Time `json:"trial_end"`
	// RenewsAt is when it next renews; nil if not given.
	RenewsAt *time.Time `json:"renews_at"`
	// PlanName is the plan's display name ("" when none was given).
	PlanName string `json:"plan_name"`
	// PricingModel and Status are open: unknown values are kept as sent.
	PricingModel PricingModel              `json:"pricing_model"`
	Status       DisputeSubscriptionStatus `json:"status"`
}

// missingID reports a response without the subscription's ID: see decodeSuccess.
func (s *DisputeSubscription) missingID() bool { return s.ID == "" }

// disputeQuery asks Chargeflow to embed the dispute's subscription.
type disputeQuery struct {
	Expand string `url:"expand"`
}

// disputeExpansion holds what matters of a dispute fetched with
// expand=subscription. Which of the two keys Chargeflow fills is
// unconfirmed, so both are read.
type disputeExpansion struct {
	Subscription  json.RawMessage `json:"subscription"`
	Subscriptions json.RawMessage `json:"subscriptions"`
}

// subscriptions returns the subscriptions the dispute holds. A shape it does
// not recognise is an error rather than "none": for a look-up that decides
// whether to create again, "I cannot tell" must never read as "not there".
func (d *disputeExpansion) subscriptions() ([]*DisputeSubscription, error) {
	var out []*DisputeSubscription
	switch raw := bytes.TrimSpace(d.Subscription); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '{':
		var s DisputeSubscription
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		out = append(out, &s)
	default:
		return nil, errors.New(`"subscription" is neither an object nor null (not expanded?)`)
	}
	switch raw := bytes.TrimSpace(d.Subscriptions); {
	case len(raw) == 0 || string(raw) == "null":
	case raw[0] == '[':
		var list []*DisputeSubscription
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, err
		}
		for _, s := range list {
			if s != nil {
				out = append(out, s)
			}
		}
	default:
		return nil, errors.New(`"subscriptions" is not an array`)
	}
	return out, nil
}

// GetForDispute returns the subscription Chargeflow holds for the dispute
// disputeID (24 hex characters). A dispute without one gives an error that
// matches ErrNotFound (and is not an *APIError: no HTTP error happened); an
// unknown dispute gives Chargeflow's 404, which matches ErrNotFound too.
//
// Chargeflow API: GET /public/2025-04-01/disputes/{disputeId}?expand=subscription
// (https://docs.chargeflow.io, Merchants API › Disputes)
func (s *SubscriptionsService) GetForDispute(ctx context.Context, disputeID string, opts ...CallOption) (*DisputeSubscription, error) {
	cs := collectCallOptions(opts)
	subs, info, err := s.disputeSubscriptions(ctx, disputeID)
	if err == nil && len(subs) == 0 {
		err = fmt.Errorf("subkit: chargeflow: dispute %s holds no subscription: %w", disputeID, ErrNotFound)
	}
	if err != nil {
		return finish[DisputeSubscription](cs, info, nil, err)
	}
	return finish(cs, info, subs[0], nil)
}

// disputeSubscriptions fetches the subscriptions the dispute holds.
func (s *SubscriptionsService) disputeSubscriptions(ctx context.Context, disputeID string) ([]*DisputeSubscription, ResponseInfo, error) {
	var v validate.Problems
	v.Hex24("disputeId", disputeID, true)
	if err := invalid(Chargeflow, v); err != nil {
		return nil, ResponseInfo{API: Chargeflow}, err
	}
	q, err := query.Values(disputeQuery{Expand: "subscription"})
	if err != nil {
		return nil, ResponseInfo{API: Chargeflow}, err
	}
	var d disputeExpansion
	info, err := s.client.do(ctx, &request{api: Chargeflow, method: http.MethodGet, path: disputePath(disputeID), query: q.Encode()}, &d)
	if err != nil {
		return nil, info, err
	}
	subs, err := d.subscriptions()
	if err != nil {
		return nil, info, unreadableResponse(Chargeflow, info, false, nil, fmt.Errorf("the dispute's subscription: %w", err))
	}
	return subs, info, nil
}

// disputeKeyed is a keyed Chargeflow create. Chargeflow stores no key: the
// create is found again as the dispute's subscription with its source_id,
// and must show every value the create sent, else the key is in conflict. A
// dispute holds one subscription, so one that already holds another
// create's (another source_id) is refused before anything is sent, unless
// the caller asked to replace it (WithReplaceExisting): a second create
// would silently replace it.
func (s *SubscriptionsService) disputeKeyed(disputeID, key string, cs callSettings, body *disputeBody, out *DisputeSubscription) *keyedCreate {
	var existing *DisputeSubscription
	k := &keyedCreate{key: key, callerKey: cs.hasKey}
	k.find = func(ctx context.Context) (match, ResponseInfo, error) {
		subs, info, err := s.disputeSubscriptions(ctx, disputeID)
		if err != nil {
			return notFound, info, err
		}
		m := notFound
		for _, sub := range subs {
			switch {
			case sub.SourceID != body.p.SourceID:
				if !cs.replace && inPhase(ctx, phaseReplay) {
					existing, m = sub, occupied
				}
			case body.matches(sub):
				*out = *sub
				return found, info, nil
			default:
				m = conflict
			}
		}
		return m, info, nil
	}
	k.occupiedErr = func() error { return &DisputeOccupiedError{DisputeID: disputeID, Existing: existing} }
	return k
}

// matches reports whether sub shows every value the create sent. Values
// the create left out may be the server's defaults and are not compared.
func (b *disputeBody) matches(sub *DisputeSubscription) bool {
	p := &b.p
	sameTime := func(sent time.Time, got *time.Time) bool {
		return sent.IsZero() || got != nil && got.Equal(sent)
	}
	sameText := func(sent, got string) bool { return sent == "" || sent == got }
	return sub.SourceID == p.SourceID && sameText(p.AccountID, sub.AccountID) &&
		sameTime(p.CreatedAt, sub.CreatedAt) && sameTime(p.StartDate, sub.StartDate) &&
		sub.Frequency == p.Frequency && sub.FrequencyCount == p.FrequencyCount &&
		sameText(string(p.CollectionMethod), string(sub.CollectionMethod)) &&
		sameTime(p.UpdatedAt, sub.UpdatedAt) && sameTime(p.EndDate, sub.EndDate) &&
		sameTime(p.CancellationDate, sub.CancellationDate) &&
		sameText(string(p.CancellationReason), string(sub.CancellationReason)) &&
		sameTime(p.TrialStart, sub.TrialStart) && sameTime(p.TrialEnd, sub.TrialEnd) &&
		sameTime(p.RenewsAt, sub.RenewsAt) && sameText(p.PlanName, sub.PlanName) &&
		sameText(string(p.PricingModel), string(sub.PricingModel)) && sameText(string(p.Status), string(sub.Status))
}

// DisputeOccupiedError is a keyed Chargeflow create refused because its
// dispute already holds another create's subscription. It matches
// ErrDisputeHasSubscription and ErrNotSent.
type DisputeOccupiedError struct {
	// DisputeID is the dispute, as the call named it.
	DisputeID string
	// Existing is the subscription the dispute holds.
	Existing *DisputeSubscription
}

// Error names the dispute and the subscription it holds.
func (e *DisputeOccupiedError) Error() string {
	id, src := "", ""
	if e.Existing != nil {
		id, src = e.Existing.ID, e.Existing.SourceID
	}
	return fmt.Sprintf("subkit: chargeflow: dispute %s already holds subscription %s (source_id %q) from another create; "+
		"nothing was sent (WithReplaceExisting replaces it)", e.DisputeID, id, src)
}

// Is reports whether target is ErrDisputeHasSubscription or ErrNotSent.
func (e *DisputeOccupiedError) Is(target error) bool {
	return target == ErrDisputeHasSubscription || target == ErrNotSent
}
