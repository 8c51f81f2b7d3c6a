package subkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
)

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
func (s *SubscriptionsService) GetForDispute(ctx context.Context, disputeID string, opts ...CallOption) (*DisputeSubscription, error) {
	subs, _, err := s.disputeSubscriptions(ctx, disputeID, collectCallOptions(Chargeflow, opts))
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, fmt.Errorf("subkit: chargeflow: dispute %s holds no subscription: %w", disputeID, ErrNotFound)
	}
	return subs[0], nil
}

func (s *SubscriptionsService) disputeSubscriptions(ctx context.Context, disputeID string, cs callSettings) ([]*DisputeSubscription, ResponseInfo, error) {
	var v validate.Problems
	v.Hex24("disputeId", disputeID, true)
	if err := invalid(Chargeflow, v); err != nil {
		return nil, ResponseInfo{API: Chargeflow}, err
	}
	q, err := query.Values(disputeQuery{Expand: "subscription"})
	if err != nil {
		return nil, ResponseInfo{API: Chargeflow}, err
	}
	var info ResponseInfo
	caller := cs.info
	cs.info = &info
	defer func() {
		if caller != nil {
			*caller = info
		}
	}()
	var d disputeExpansion
	if err := s.client.do(ctx, &request{api: Chargeflow, method: http.MethodGet, query: q.Encode(),
		path: "/public/2025-04-01/disputes/" + url.PathEscape(disputeID)}, &d, cs); err != nil {
		return nil, info, err
	}
	subs, err := d.subscriptions()
	if err != nil {
		return nil, info, &APIError{API: Chargeflow, StatusCode: info.StatusCode, RequestID: info.RequestID,
			Attempts: info.Attempts, Message: "the dispute's subscription could not be read", readOnly: true, cause: err}
	}
	return subs, info, nil
}

// disputeFinder finds a keyed Chargeflow create: the dispute holds a
// subscription with the create's source_id.
func (s *SubscriptionsService) disputeFinder(disputeID, sourceID string, out *DisputeSubscription) finder {
	return func(ctx context.Context) (bool, ResponseInfo, error) {
		subs, info, err := s.disputeSubscriptions(ctx, disputeID, callSettings{})
		if err != nil {
			return false, info, err
		}
		for _, sub := range subs {
			if sub.SourceID == sourceID {
				*out = *sub
				return true, info, nil
			}
		}
		return false, info, nil
	}
}
