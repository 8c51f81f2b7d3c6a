package subkittest

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/subkit-go/subkit"
)

// Subscription is a subscription the server holds, as any API's.
type Subscription struct {
	API subkit.API
	// ID is the subscription's ID in its API's format: sub_sched_… for
	// ChatDash, 24 hex characters for Chargeflow, a UUID for Polar.
	ID string
	// RequestID is the ID (X-Request-Id) of the request that created it.
	RequestID string
	// CreatedAt is when the server applied the create.
	CreatedAt time.Time
	// Body is the JSON object the server answered the create with.
	Body json.RawMessage
}

// Decode unmarshals the answered JSON into v, for example a
// *subkit.Subscription, *subkit.DisputeSubscription or
// *subkit.ConnectSubscription.
func (s Subscription) Decode(v any) error { return json.Unmarshal(s.Body, v) }

// PolarSubscription is a subscription the Polar fake holds.
type PolarSubscription struct {
	Subscription
	// ProductID and CustomerID in canonical form (lowercase, hyphenated).
	ProductID, CustomerID string
	// ExternalCustomerID is the external ID the create named, "" when it
	// named the customer by CustomerID.
	ExternalCustomerID string
	// Metadata as the server stored it: strings, bools, and json.Number for
	// integers and floats.
	Metadata map[string]any
}

// ChargeflowSubscription is the subscription a Chargeflow dispute holds.
type ChargeflowSubscription struct {
	Subscription
	// DisputeID (lowercase), SourceID and AccountID ("" when absent) as
	// created.
	DisputeID, SourceID, AccountID string
	// Replaced is the ID of the subscription this one replaced on its
	// dispute, "" if it was the dispute's first.
	Replaced string
}

// ChatDashSubscription is a subscription schedule the ChatDash fake holds.
type ChatDashSubscription struct {
	Subscription
	AccountID, ClientID, ProductID string
	AgentIDs                       []string
	// CustomerID is the Stripe customer (cus_…) the schedule bills.
	CustomerID string
}

// stored is one created subscription. Exactly one of the typed parts is set.
type stored struct {
	sub        Subscription
	polar      *PolarSubscription
	chargeflow *ChargeflowSubscription
	chatdash   *ChatDashSubscription
	// replacedBy is set when a later create replaced it (Chargeflow).
	replacedBy string
}

func (st *stored) clone() *stored {
	c := *st
	c.sub.Body = slices.Clone(st.sub.Body)
	if st.polar != nil {
		p := *st.polar
		p.Subscription = c.sub
		c.polar = &p
	}
	if st.chargeflow != nil {
		p := *st.chargeflow
		p.Subscription = c.sub
		c.chargeflow = &p
	}
	if st.chatdash != nil {
		p := *st.chatdash
		p.Subscription = c.sub
		p.AgentIDs = slices.Clone(st.chatdash.AgentIDs)
		c.chatdash = &p
	}
	return &c
}

// current returns copies of the subscriptions of api the server holds now
// (a replaced Chargeflow subscription is no longer held), oldest first.
// It runs with the lock held.
func (s *Server) current(api subkit.API) []*stored {
	var out []*stored
	for _, st := range s.subs {
		if st.sub.API == api && st.replacedBy == "" {
			out = append(out, st.clone())
		}
	}
	return out
}

// Subscriptions returns the subscriptions the server holds for api, oldest
// first. A Chargeflow subscription that a later create replaced on its
// dispute is not held any more.
func (s *Server) Subscriptions(api subkit.API) []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, st := range s.current(api) {
		out = append(out, st.sub)
	}
	return out
}

// PolarSubscriptions returns the Polar subscriptions the server holds,
// oldest first.
func (s *Server) PolarSubscriptions() []PolarSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PolarSubscription
	for _, st := range s.current(subkit.Polar) {
		out = append(out, *st.polar)
	}
	return out
}

// ChargeflowSubscriptions returns the Chargeflow subscriptions the server
// holds, one per dispute at most, oldest first.
func (s *Server) ChargeflowSubscriptions() []ChargeflowSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ChargeflowSubscription
	for _, st := range s.current(subkit.Chargeflow) {
		out = append(out, *st.chargeflow)
	}
	return out
}

// ChatDashSubscriptions returns the ChatDash subscription schedules the
// server holds, oldest first.
func (s *Server) ChatDashSubscriptions() []ChatDashSubscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ChatDashSubscription
	for _, st := range s.current(subkit.ChatDash) {
		out = append(out, *st.chatdash)
	}
	return out
}

// CreatedBy returns the subscriptions that the request with ID requestID (its
// X-Request-Id) created: none or one, including one that was since replaced.
// A test can tell with it whether one call created more than one
// subscription across its attempts, using Requests to list the attempts.
func (s *Server) CreatedBy(requestID string) []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, st := range s.subs {
		if st.sub.RequestID == requestID {
			out = append(out, st.clone().sub)
		}
	}
	return out
}
