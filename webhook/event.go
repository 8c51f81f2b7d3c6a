package webhook

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// Event is one webhook event, verified.
type Event struct {
	// ID is the webhook-id header: the event's ID, the same on every
	// delivery of the event, retries and redeliveries included. It is what
	// the Handler de-duplicates by, and what a redelivery names
	// (subkit.WebhooksService.Redeliver).
	ID string
	// Type is the payload's "type", e.g. SubscriptionCreated. Types this
	// package names no constant for are passed through as sent.
	Type string
	// Timestamp is the payload's "timestamp": when Polar made the event,
	// not when this delivery was sent.
	Timestamp time.Time
	// Data is the payload's "data" as sent: for a subscription.* event the
	// whole subscription as the API returns it (see Subscription), for
	// another type that type's object.
	Data json.RawMessage
}

// IsSubscription reports whether the event is about a subscription
// (its type starts with "subscription.").
func (e *Event) IsSubscription() bool { return strings.HasPrefix(e.Type, subscriptionPrefix) }

// Subscription decodes Data as the subscription a subscription.* event
// carries: the same subkit.Subscription the API's create, Get and List
// return, every shape of price, discount and customer included, as it stood
// when the event was made. It returns an error that Is ErrNotSubscription
// for another type, and one that Is ErrMalformed when Data is not a
// subscription with an ID. Each call decodes afresh.
func (e *Event) Subscription() (*subkit.Subscription, error) {
	if !e.IsSubscription() {
		return nil, failure(ErrNotSubscription, "the event is of type %q", e.Type)
	}
	sub := new(subkit.Subscription)
	if err := json.Unmarshal(e.Data, sub); err != nil {
		return nil, failure(ErrMalformed, "data is not a subscription: %v", err)
	}
	if sub.ID == "" {
		return nil, failure(ErrMalformed, `data is a subscription without "id"`)
	}
	return sub, nil
}

// payload is Polar's webhook body: {"type", "timestamp", "data"}.
type payload struct {
	Type      *string         `json:"type"`
	Timestamp *string         `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// decodeEvent reads a verified body as Polar's payload. Every key must be
// there: "type" a non-empty string, "timestamp" an RFC 3339 time, "data" a
// JSON object. Unknown keys are ignored.
func decodeEvent(id string, body []byte) (*Event, error) {
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, failure(ErrMalformed, "the body is not a JSON object of Polar's payload: %v", err)
	}
	switch {
	case p.Type == nil || *p.Type == "":
		return nil, failure(ErrMalformed, `the payload has no "type"`)
	case p.Timestamp == nil:
		return nil, failure(ErrMalformed, `the payload has no "timestamp"`)
	case len(p.Data) == 0 || p.Data[0] != '{':
		return nil, failure(ErrMalformed, `the payload's "data" is not an object`)
	}
	at, err := time.Parse(time.RFC3339Nano, *p.Timestamp)
	if err != nil {
		return nil, failure(ErrMalformed, `the payload's "timestamp" is not an RFC 3339 time`)
	}
	return &Event{ID: id, Type: *p.Type, Timestamp: at, Data: bytes.Clone(p.Data)}, nil
}
