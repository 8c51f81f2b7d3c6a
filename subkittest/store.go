package subkittest

import (
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/subkit-go/subkit"
)

// PolarSubscription is a subscription the Polar fake holds.
type PolarSubscription struct {
	// ID is the subscription's UUID.
	ID string
	// RequestID is the ID of the request that created it (Request.ID).
	RequestID string
	// CreatedAt is when the server applied the create.
	CreatedAt time.Time
	// Body is the JSON object the create answered, which a test can
	// unmarshal into a subkit.Subscription.
	Body json.RawMessage
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
	// ID is the subscription's ID, 24 lowercase hex characters.
	ID string
	// RequestID is the ID of the request that created it (Request.ID).
	RequestID string
	// CreatedAt is when the server applied the create.
	CreatedAt time.Time
	// Body is the JSON object the create answered, which a test can
	// unmarshal into a subkit.DisputeSubscription.
	Body json.RawMessage
	// DisputeID (lowercase), SourceID and AccountID ("" when absent) as
	// created.
	DisputeID, SourceID, AccountID string
	// Replaced is the ID of the subscription this one replaced on its
	// dispute, "" if it was the dispute's first.
	Replaced string
}

// ChatDashSubscription is a subscription schedule the ChatDash fake holds.
type ChatDashSubscription struct {
	// ID is the schedule's ID (sub_sched_…).
	ID string
	// RequestID is the ID of the request that created it (Request.ID).
	RequestID string
	// CreatedAt is when the server applied the create.
	CreatedAt time.Time
	// Body is the JSON object the create answered, which a test can
	// unmarshal into a subkit.ConnectSubscription.
	Body json.RawMessage
	// AccountID is the connected account the create's path named;
	// ClientID, ProductID and AgentIDs are as the create's body sent them.
	AccountID, ClientID, ProductID string
	AgentIDs                       []string
	// CustomerID is the Stripe customer (cus_…) the schedule bills.
	CustomerID string
}

// stored is one created subscription: what the look-ups read (its ID and
// the answered JSON) and the typed record the accessors return, of which
// exactly one is set.
type stored struct {
	api        subkit.API
	id         string
	body       json.RawMessage
	polar      *PolarSubscription
	chargeflow *ChargeflowSubscription
	chatdash   *ChatDashSubscription
	// replacedBy is set when a later create replaced it (Chargeflow).
	replacedBy string
	// appliedAt is when the create was applied; look-ups see it from
	// visibleAt on (see WithReadLag).
	appliedAt, visibleAt time.Time
}

func (st *stored) clone() *stored {
	c := *st
	c.body = slices.Clone(st.body)
	if st.polar != nil {
		p := *st.polar
		p.Body, p.Metadata = c.body, maps.Clone(st.polar.Metadata)
		c.polar = &p
	}
	if st.chargeflow != nil {
		p := *st.chargeflow
		p.Body = c.body
		c.chargeflow = &p
	}
	if st.chatdash != nil {
		p := *st.chatdash
		p.Body, p.AgentIDs = c.body, slices.Clone(st.chatdash.AgentIDs)
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
		if st.api == api && st.replacedBy == "" {
			out = append(out, st.clone())
		}
	}
	return out
}

// held returns the typed records of the subscriptions of api the server
// holds now, oldest first.
func held[T any](s *Server, api subkit.API, typed func(*stored) *T) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []T
	for _, st := range s.current(api) {
		out = append(out, *typed(st))
	}
	return out
}

// PolarSubscriptions returns copies of the Polar subscriptions the server
// holds, oldest first.
func (s *Server) PolarSubscriptions() []PolarSubscription {
	return held(s, subkit.Polar, func(st *stored) *PolarSubscription { return st.polar })
}

// ChargeflowSubscriptions returns copies of the Chargeflow subscriptions the
// server holds, one per dispute at most, oldest first: a subscription that
// a later create replaced on its dispute is not held any more (the
// request that created it still lists it in Request.Created).
func (s *Server) ChargeflowSubscriptions() []ChargeflowSubscription {
	return held(s, subkit.Chargeflow, func(st *stored) *ChargeflowSubscription { return st.chargeflow })
}

// ChatDashSubscriptions returns copies of the ChatDash subscription
// schedules the server holds, oldest first.
func (s *Server) ChatDashSubscriptions() []ChatDashSubscription {
	return held(s, subkit.ChatDash, func(st *stored) *ChatDashSubscription { return st.chatdash })
}
