package subkittest

import (
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// Polar's webhook paths the fake serves (server/polar/webhook/endpoints.py).
const (
	polarWebhookDeliveriesPath = "/v1/webhooks/deliveries"
	polarWebhookEventsPath     = "/v1/webhooks/events/"
	polarRedeliverSuffix       = "/redeliver"
)

// polarWebhookEventTypes are Polar's WebhookEventType values
// (server/polar/models/webhook_endpoint.py), which event_type takes.
var polarWebhookEventTypes = []string{
	"checkout.created", "checkout.updated", "checkout.expired",
	"customer.created", "customer.updated", "customer.deleted", "customer.state_changed",
	"customer_seat.assigned", "customer_seat.claimed", "customer_seat.revoked",
	"member.created", "member.updated", "member.deleted",
	"order.created", "order.updated", "order.paid", "order.refunded",
	"subscription.created", "subscription.updated", "subscription.active", "subscription.canceled",
	"subscription.uncanceled", "subscription.cycled", "subscription.revoked", "subscription.past_due",
	"subscription.paused", "subscription.resumed",
	"refund.created", "refund.updated", "product.created", "product.updated",
	"discount.created", "discount.updated", "discount.deleted",
	"benefit.created", "benefit.updated",
	"benefit_grant.created", "benefit_grant.cycled", "benefit_grant.updated", "benefit_grant.revoked",
	"organization.updated",
}

var polarHTTPCodeClasses = []string{"2xx", "3xx", "4xx", "5xx"}

// webhookRoute serves Polar's webhook paths: GET /v1/webhooks/deliveries
// and POST /v1/webhooks/events/{id}/redeliver. ok is false for another
// path, which the subscription routes then serve.
func (h polarHandler) webhookRoute(x *exchange, cred *credential) (o *outcome, ok bool) {
	r := x.r
	notAllowed := func(allow string) *outcome {
		o := h.json(http.StatusMethodNotAllowed, polarDetail("Method Not Allowed"))
		o.header.Set("Allow", allow)
		return o
	}
	switch path := r.URL.Path; {
	case path == polarWebhookDeliveriesPath:
		if r.Method != http.MethodGet {
			return notAllowed(http.MethodGet), true
		}
		return h.listDeliveries(x, cred), true
	case path == polarWebhookDeliveriesPath+"/":
		o := answer(http.StatusTemporaryRedirect, "", nil)
		u := "http://" + r.Host + polarWebhookDeliveriesPath
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		o.header.Set("Location", u)
		return o, true
	case strings.HasPrefix(path, polarWebhookEventsPath) && strings.HasSuffix(path, polarRedeliverSuffix):
		id := strings.TrimSuffix(strings.TrimPrefix(path, polarWebhookEventsPath), polarRedeliverSuffix)
		if id == "" || strings.Contains(id, "/") {
			return nil, false
		}
		if r.Method != http.MethodPost {
			return notAllowed(http.MethodPost), true
		}
		return h.redeliver(cred, id), true
	}
	return nil, false
}

// redeliver serves POST /v1/webhooks/events/{id}/redeliver: 202, and the
// event is sent again in the background, even if it was delivered
// (server/polar/webhook/service.py, redeliver_event).
func (h polarHandler) redeliver(cred *credential, rawID string) *outcome {
	if o := h.authorize(cred, ScopeWebhooksWrite); o != nil {
		return o
	}
	id, e := validateUUID4(rawID, locOf("path", "id"))
	if e != nil {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", []pydError{*e}))
	}
	hs := &h.s.hooks
	hs.mu.Lock()
	defer hs.mu.Unlock()
	ev := hs.byID[id]
	if ev == nil {
		return h.json(http.StatusNotFound, polarNamedError("ResourceNotFound", "Not found"))
	}
	hs.startSend(h.s, ev, true)
	// FastAPI writes the endpoint's None as JSON.
	return answer(http.StatusAccepted, h.contentType(), []byte("null"))
}

// deliveryQuery is a deliveries list request, validated.
type deliveryQuery struct {
	page, limit  *big.Int
	endpointIDs  []string
	start, end   *time.Time
	succeeded    *bool
	search       *string
	codeClass    string
	eventTypes   []string
	hasEndpoints bool
}

// parseDeliveryQuery validates the list's query in the order the endpoint
// declares its parameters. Its errors follow Pydantic's types and
// locations; their messages are Pydantic's for the integers, UUIDs and
// enums, and close to them for times.
func parseDeliveryQuery(q query) (*deliveryQuery, []pydError) {
	var errs []pydError
	dq := &deliveryQuery{}
	dq.page, dq.limit, errs = polarPaging(q)
	if vs := q.all("endpoint_id"); len(vs) > 0 {
		dq.hasEndpoints = true
		for i, v := range vs {
			id, e := validateUUID4(v, locOf("query", "endpoint_id", labelUUIDSeq, i))
			if e != nil {
				errs = append(errs, *e)
				continue
			}
			dq.endpointIDs = append(dq.endpointIDs, id)
		}
	}
	awareTime := func(key string) *time.Time {
		v, ok := q.last(key)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			if _, naive := time.Parse("2006-01-02T15:04:05.999999999", v); naive == nil {
				errs = append(errs, pydError{typ: "timezone_aware", loc: locOf("query", key), msg: "Input should have timezone info", input: v})
			} else {
				errs = append(errs, pydError{typ: "datetime_from_date_parsing", loc: locOf("query", key),
					msg: "Input should be a valid datetime or date, invalid character in year", input: v,
					ctx: pyjson.NewObject().Set("error", "invalid character in year")})
			}
			return nil
		}
		return &t
	}
	dq.start = awareTime("start_timestamp")
	dq.end = awareTime("end_timestamp")
	if v, ok := q.last("succeeded"); ok {
		b, ok := parsePyBool(v)
		if !ok {
			errs = append(errs, pydError{typ: "bool_parsing", loc: locOf("query", "succeeded"),
				msg: "Input should be a valid boolean, unable to interpret input", input: v})
		} else {
			dq.succeeded = &b
		}
	}
	if v, ok := q.last("query"); ok {
		dq.search = &v
	}
	if v, ok := q.last("http_code_class"); ok {
		if !slices.Contains(polarHTTPCodeClasses, v) {
			expected := pyEnumExpected(polarHTTPCodeClasses)
			errs = append(errs, pydError{typ: "literal_error", loc: locOf("query", "http_code_class"), msg: "Input should be " + expected,
				input: v, ctx: pyjson.NewObject().Set("expected", expected)})
		} else {
			dq.codeClass = v
		}
	}
	for i, v := range q.all("event_type") {
		if !slices.Contains(polarWebhookEventTypes, v) {
			errs = append(errs, enumError(locOf("query", "event_type", labelEnumSeq("WebhookEventType"), i), v, polarWebhookEventTypes))
			continue
		}
		dq.eventTypes = append(dq.eventTypes, v)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return dq, nil
}

// matches reports whether delivery d passes the query's filters
// (server/polar/webhook/service.py, list_deliveries).
func (dq *deliveryQuery) matches(d *webhookDelivery) bool {
	switch {
	case dq.hasEndpoints && !slices.Contains(dq.endpointIDs, d.event.endpoint.id):
		return false
	case dq.start != nil && !d.createdAt.After(*dq.start):
		return false
	case dq.end != nil && !d.createdAt.Before(*dq.end):
		return false
	case dq.succeeded != nil && d.succeeded != *dq.succeeded:
		return false
	case len(dq.eventTypes) > 0 && !slices.Contains(dq.eventTypes, d.event.typ):
		return false
	}
	if dq.codeClass != "" {
		lo := int(dq.codeClass[0]-'0') * 100
		if d.httpCode == nil || *d.httpCode < lo || *d.httpCode >= lo+100 {
			return false
		}
	}
	if dq.search != nil {
		s := strings.ToLower(*dq.search)
		code := ""
		if d.httpCode != nil {
			code = strconv.Itoa(*d.httpCode)
		}
		if !strings.Contains(d.id, s) && !strings.Contains(d.event.id, s) && !strings.Contains(code, s) {
			return false
		}
	}
	return true
}

// webhookDeliveryJSON and webhookEventJSON are Polar's WebhookDelivery and
// WebhookEvent schemas, keys in its order (server/polar/webhook/schemas.py).
type webhookDeliveryJSON struct {
	CreatedAt    string           `json:"created_at"`
	ModifiedAt   *string          `json:"modified_at"`
	ID           string           `json:"id"`
	Succeeded    bool             `json:"succeeded"`
	HTTPCode     *int             `json:"http_code"`
	Response     *string          `json:"response"`
	WebhookEvent webhookEventJSON `json:"webhook_event"`
}

type webhookEventJSON struct {
	CreatedAt    string  `json:"created_at"`
	ModifiedAt   *string `json:"modified_at"`
	ID           string  `json:"id"`
	LastHTTPCode *int    `json:"last_http_code"`
	Succeeded    *bool   `json:"succeeded"`
	Skipped      bool    `json:"skipped"`
	Payload      *string `json:"payload"`
	Type         string  `json:"type"`
	IsArchived   bool    `json:"is_archived"`
}

// json writes d as Polar's list does. It runs with the webhook lock held.
func (d *webhookDelivery) json() webhookDeliveryJSON {
	ev := d.event
	out := webhookDeliveryJSON{CreatedAt: pyTime(d.createdAt), ID: d.id, Succeeded: d.succeeded, HTTPCode: d.httpCode,
		WebhookEvent: webhookEventJSON{CreatedAt: pyTime(ev.createdAt), ID: ev.id, LastHTTPCode: ev.lastHTTPCode,
			Succeeded: ev.succeeded, Skipped: ev.skipped, Payload: ptrTo(string(ev.payload)), Type: ev.typ}}
	if d.response != "" {
		out.Response = ptrTo(d.response)
	}
	if ev.modifiedAt != nil {
		out.WebhookEvent.ModifiedAt = ptrTo(pyTime(*ev.modifiedAt))
	}
	return out
}

// listDeliveries serves GET /v1/webhooks/deliveries: every delivery to the
// organization's endpoints matching the filters, newest first, paged as
// Polar's lists are.
func (h polarHandler) listDeliveries(x *exchange, cred *credential) *outcome {
	if o := h.authorize(cred, ScopeWebhooksRead, ScopeWebhooksWrite); o != nil {
		return o
	}
	dq, errs := parseDeliveryQuery(parseQuery(x.r.URL.RawQuery))
	if len(errs) > 0 {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", errs))
	}
	hs := &h.s.hooks
	hs.mu.Lock()
	var rows [][]byte
	for i := len(hs.deliveries) - 1; i >= 0; i-- { // newest first
		if d := hs.deliveries[i]; dq.matches(d) {
			rows = append(rows, mustJSON(d.json()))
		}
	}
	hs.mu.Unlock()
	return answer(http.StatusOK, h.contentType(), polarListBody(rows, dq.page, dq.limit))
}
