package subkit

// Polar: the deliveries of an organization's webhook endpoints, and asking
// for an event again, so that a receiver that was down catches up.
// API reference: https://polar.sh/docs/api-reference/webhooks

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
)

// Polar's webhook paths.
const (
	polarWebhookDeliveriesPath = "/v1/webhooks/deliveries"
	polarWebhookEventsPath     = "/v1/webhooks/events/"
)

// WebhooksService calls Polar's webhook endpoints: the deliveries made to
// the organization's endpoints, and their redelivery. Its calls need
// WithOrganizationToken with the webhooks:read scope (ListDeliveries) or
// webhooks:write (Redeliver, CatchUp). Get it from Client.Webhooks.
type WebhooksService struct {
	client *Client
}

// WebhookDeliveryListParams filter ListDeliveries; every field is
// optional, and nil params mean no filter.
type WebhookDeliveryListParams struct {
	// EndpointIDs keeps the deliveries to these endpoints (version 4
	// UUIDs; repeated endpoint_id).
	EndpointIDs []string
	// Start and End keep the deliveries made strictly after Start and
	// strictly before End, on Polar's clock (start_timestamp,
	// end_timestamp); a zero time sets no bound.
	Start, End time.Time
	// Succeeded, when set, keeps the deliveries that succeeded (a 2xx
	// within 10 s), or those that did not.
	Succeeded *bool
	// HTTPCodeClass keeps the deliveries answered with a status of one
	// class: "2xx", "3xx", "4xx" or "5xx"; "" keeps all, those that got no
	// answer included.
	HTTPCodeClass string
	// EventTypes keeps the deliveries of events of these types, e.g.
	// "subscription.created" (repeated event_type).
	EventTypes []string
	// PageSize is the number of deliveries a request fetches, 1–100; 0
	// means 100.
	PageSize int
}

// WebhookDelivery is one attempt Polar made to deliver an event to an
// endpoint.
type WebhookDelivery struct {
	// ID is the delivery's UUID.
	ID string `json:"id"`
	// CreatedAt is when the attempt was made, on Polar's clock.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the delivery last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Succeeded reports whether the endpoint answered a 2xx within 10 s.
	Succeeded bool `json:"succeeded"`
	// HTTPCode is the status the endpoint answered; nil when it could not
	// be reached or did not answer in time.
	HTTPCode *int `json:"http_code"`
	// Response is the start of the endpoint's answer (at most 2048
	// characters), or the error that met the attempt; nil if neither.
	Response *string `json:"response"`
	// Event is the event the attempt delivered, as it stands now.
	Event WebhookEvent `json:"webhook_event"`
}

// WebhookEvent is an event Polar made for one endpoint: one webhook-id,
// delivered until an attempt succeeds.
type WebhookEvent struct {
	// ID is the event's UUID: the webhook-id header of its deliveries,
	// and what Redeliver takes.
	ID string `json:"id"`
	// CreatedAt is when Polar made the event.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the event last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// LastHTTPCode is the status of the last attempt; nil before any, or
	// when the endpoint could not be reached.
	LastHTTPCode *int `json:"last_http_code"`
	// Succeeded is true once an attempt succeeded, false once Polar gave
	// the event up (10 attempts failed), nil while it is still trying.
	Succeeded *bool `json:"succeeded"`
	// Skipped reports that an attempt was skipped because the endpoint was
	// disabled.
	Skipped bool `json:"skipped"`
	// Payload is the body the deliveries carry; nil once archived.
	Payload *string `json:"payload"`
	// Type is the event's type, e.g. "subscription.created".
	Type string `json:"type"`
	// IsArchived reports that Polar archived the event (after 90 days): its
	// payload is gone and it can no longer be redelivered.
	IsArchived bool `json:"is_archived"`
}

// webhookDeliveryQuery is the query of ListDeliveries, without paging.
type webhookDeliveryQuery struct {
	EndpointID    []string `url:"endpoint_id,omitempty"`
	Start         string   `url:"start_timestamp,omitempty"`
	End           string   `url:"end_timestamp,omitempty"`
	Succeeded     *bool    `url:"succeeded,omitempty"`
	HTTPCodeClass string   `url:"http_code_class,omitempty"`
	EventType     []string `url:"event_type,omitempty"`
}

// polarTime writes a time as Polar's query parameters take it: RFC 3339
// in UTC, to the microsecond Polar keeps.
func polarTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.999999Z07:00")
}

// ListDeliveries returns the deliveries to the organization's webhook
// endpoints that match p, newest first, fetching pages as the loop consumes
// them; see List for how the sequence behaves (an error, invalid params
// included, is yielded once and ends it). Pages are offsets into a list
// ordered by time: a delivery made during the loop may shift the pages, so
// bound End to a moment already past to read a window exactly.
//
// Polar API: GET /v1/webhooks/deliveries (https://polar.sh/docs/api-reference/webhooks/deliveries/list)
func (w *WebhooksService) ListDeliveries(ctx context.Context, p *WebhookDeliveryListParams, opts ...CallOption) iter.Seq2[*WebhookDelivery, error] {
	cs := collectCallOptions(opts)
	if p == nil {
		p = &WebhookDeliveryListParams{}
	}
	if err := validateDeliveryList(p); err != nil {
		return failed[WebhookDelivery](Polar, cs, err)
	}
	q, err := query.Values(webhookDeliveryQuery{EndpointID: canonicalUUIDs(p.EndpointIDs), Start: polarTime(p.Start),
		End: polarTime(p.End), Succeeded: p.Succeeded, HTTPCodeClass: p.HTTPCodeClass, EventType: p.EventTypes})
	if err != nil {
		return failed[WebhookDelivery](Polar, cs, err)
	}
	limit := strconv.Itoa(pageLimit(p.PageSize))
	fetch := func(ctx context.Context, page int) ([]*WebhookDelivery, int, bool, ResponseInfo, error) {
		q.Set("page", strconv.Itoa(page))
		q.Set("limit", limit)
		var out polarItems[WebhookDelivery]
		info, err := w.client.do(ctx, &request{api: Polar, method: http.MethodGet, path: polarWebhookDeliveriesPath, query: q.Encode()}, &out)
		return out.Items, page + 1, page < out.Pagination.MaxPage && len(out.Items) > 0, info, err
	}
	return paginate(ctx, Polar, cs, 1, fetch, func(page int) error { return fmt.Errorf("subkit: polar: page %d repeats", page) })
}

func validateDeliveryList(p *WebhookDeliveryListParams) error {
	var v validate.Problems
	for i, id := range p.EndpointIDs {
		v.UUID4(fmt.Sprintf("endpoint_id[%d]", i), id)
	}
	for i, typ := range p.EventTypes {
		v.Text(fmt.Sprintf("event_type[%d]", i), typ, 1, 0)
	}
	v.OneOf("http_code_class", p.HTTPCodeClass, false, "2xx", "3xx", "4xx", "5xx")
	if !p.Start.IsZero() && !p.End.IsZero() && !p.Start.Before(p.End) {
		v.Add("end_timestamp", validate.CodeInvalid, "must be after start_timestamp (%s), got %s", polarTime(p.Start), polarTime(p.End))
	}
	checkPageSize(&v, p.PageSize)
	return invalid(Polar, v)
}

// polarItems is a page of one of Polar's lists.
type polarItems[T any] struct {
	Items      []*T `json:"items"`
	Pagination struct {
		TotalCount int `json:"total_count"`
		MaxPage    int `json:"max_page"`
	} `json:"pagination"`
}

// UnmarshalJSON refuses a page with a null item: see noNullItem.
func (p *polarItems[T]) UnmarshalJSON(b []byte) error {
	type plain polarItems[T]
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	return noNullItem("items", p.Items)
}

// Redeliver asks Polar to send the event eventID (a version 4 UUID: a
// webhook-id) to its endpoint again, now, even if it was delivered
// before; Polar answers 202 and sends it in the background, with its
// retries. Nothing is sent while the endpoint is disabled (enable it
// first), and an archived event cannot be redelivered. It fails with
// ErrNotFound for an event the organization does not have.
//
// A redelivery sent twice only delivers the event twice, which a receiver
// de-duplicates (webhook.WithDedupe), so failures of any kind are retried
// as a look-up's are.
//
// Polar API: POST /v1/webhooks/events/{id}/redeliver (https://polar.sh/docs/api-reference/webhooks/events/redeliver)
func (w *WebhooksService) Redeliver(ctx context.Context, eventID string, opts ...CallOption) error {
	cs := collectCallOptions(opts)
	var v validate.Problems
	v.UUID4("id", eventID)
	if err := invalid(Polar, v); err != nil {
		_, err = finish[struct{}](cs, ResponseInfo{API: Polar}, nil, err)
		return err
	}
	info, err := w.client.do(ctx, &request{api: Polar, method: http.MethodPost,
		path: polarWebhookEventsPath + url.PathEscape(validate.CanonicalUUID(eventID)) + "/redeliver"}, nil)
	_, err = finish[struct{}](cs, info, nil, err)
	return err
}

// WebhookCatchUpParams say which events CatchUp sends again.
type WebhookCatchUpParams struct {
	// Since is the start of the window: failed deliveries made after it
	// count (required). Polar gives up an event about 17–34 minutes after
	// it was made, so start the window that long before the receiver went
	// down.
	Since time.Time
	// Until is the end of the window; zero means when CatchUp starts.
	Until time.Time
	// EndpointIDs keeps the deliveries to these endpoints; none means
	// every endpoint of the organization.
	EndpointIDs []string
	// EventTypes keeps the events of these types; none means all.
	EventTypes []string
	// DryRun lists what would be redelivered without asking for it.
	DryRun bool
}

// WebhookCatchUpResult is what CatchUp found and did.
type WebhookCatchUpResult struct {
	// FailedDeliveries is the number of failed deliveries in the window.
	FailedDeliveries int
	// Events are the events those deliveries belong to, oldest first.
	Events []WebhookEvent
	// Redelivered are the IDs of the events asked to be sent again, in the
	// order asked (with DryRun, those that would have been).
	Redelivered []string
	// Delivered are the IDs of events whose deliveries failed but a later
	// one succeeded: nothing to do.
	Delivered []string
	// Archived are the IDs of events Polar archived: they cannot be sent
	// again.
	Archived []string
	// Failed maps the ID of each event whose redelivery failed to why.
	Failed map[string]error
}

// CatchUp sends again every event that was never delivered among those
// whose deliveries failed in a window: what a receiver down for longer
// than Polar's retries (about 17–34 minutes) needs, since Polar then gives
// the event up. It lists the window's failed deliveries in full first,
// then redelivers each event not delivered since (still being retried, or
// given up), oldest first, so that listing and redelivering never
// disturb each other. Events the receiver got after all are delivered
// again too; a receiver de-duplicating by webhook-id (webhook.WithDedupe)
// ignores them.
//
// What it cannot find: events made while the endpoint was disabled (Polar
// makes none for a disabled endpoint), and events that never had an
// attempt. Re-enable a disabled endpoint before catching up, or the
// redeliveries are skipped.
//
// It returns the result so far and an error when the listing fails, the
// context ends, or some redeliveries failed (those are in Failed).
func (w *WebhooksService) CatchUp(ctx context.Context, p *WebhookCatchUpParams) (*WebhookCatchUpResult, error) {
	res := &WebhookCatchUpResult{}
	if p == nil || p.Since.IsZero() {
		var v validate.Problems
		v.Add("since", validate.CodeRequired, "is required: the start of the window to catch up")
		return res, invalid(Polar, v)
	}
	until := p.Until
	if until.IsZero() {
		until = time.Now()
	}
	failed := false
	events := map[string]*WebhookEvent{}
	for d, err := range w.ListDeliveries(ctx, &WebhookDeliveryListParams{EndpointIDs: p.EndpointIDs, Start: p.Since, End: until,
		Succeeded: &failed, EventTypes: p.EventTypes}) {
		if err != nil {
			return res, fmt.Errorf("subkit: catching up: listing the failed deliveries: %w", err)
		}
		res.FailedDeliveries++
		if _, ok := events[d.Event.ID]; !ok {
			events[d.Event.ID] = &d.Event
		}
	}
	for _, ev := range events {
		res.Events = append(res.Events, *ev)
	}
	slices.SortFunc(res.Events, func(a, b WebhookEvent) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	var errs []error
	for _, ev := range res.Events {
		switch {
		case ev.Succeeded != nil && *ev.Succeeded:
			res.Delivered = append(res.Delivered, ev.ID)
			continue
		case ev.IsArchived:
			res.Archived = append(res.Archived, ev.ID)
			continue
		case p.DryRun:
			res.Redelivered = append(res.Redelivered, ev.ID)
			continue
		}
		if err := w.Redeliver(ctx, ev.ID); err != nil {
			if res.Failed == nil {
				res.Failed = map[string]error{}
			}
			res.Failed[ev.ID] = err
			errs = append(errs, fmt.Errorf("event %s: %w", ev.ID, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		res.Redelivered = append(res.Redelivered, ev.ID)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("subkit: catching up: %d of %d redeliveries failed: %w", len(errs), len(res.Events)-len(res.Delivered)-len(res.Archived), errors.Join(errs...))
	}
	return res, nil
}
