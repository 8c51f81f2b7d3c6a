package subkit

import (
	"context"
	"net/http"

	"github.com/subkit-go/subkit/internal/validate"
)

// CustomerSubscriptionParams subscribe a Polar customer, by Polar's own
// customer ID, to a free recurring product.
type CustomerSubscriptionParams struct {
	// ProductID is the product, a version 4 UUID (required). Only free
	// recurring products can be subscribed to this way.
	ProductID string
	// CustomerID is Polar's customer ID, a version 4 UUID (required).
	CustomerID string
	// Metadata is stored on the subscription: at most 50 pairs, keys of 1–40
	// characters, values that are strings of 1–500 characters, integers,
	// finite floats or bools. nil sends none.
	Metadata Metadata
}

// ExternalCustomerSubscriptionParams subscribe a Polar customer, by your own
// system's ID for it, to a free recurring product.
type ExternalCustomerSubscriptionParams struct {
	// ProductID is the product, a version 4 UUID (required).
	ProductID string
	// ExternalCustomerID is your ID of a customer that already exists in
	// Polar (required, non-empty).
	ExternalCustomerID string
	// Metadata follows the rules of CustomerSubscriptionParams.Metadata.
	Metadata Metadata
}

type polarCreateBody struct {
	ProductID          string   `json:"product_id"`
	CustomerID         string   `json:"customer_id,omitempty"`
	ExternalCustomerID string   `json:"external_customer_id,omitempty"`
	Metadata           Metadata `json:"metadata,omitempty"`
}

const polarSubscriptionsPath = "/v1/subscriptions/"

// CreateForCustomer subscribes the customer p.CustomerID to the free
// recurring product p.ProductID. The subscription is active at once. It needs
// WithOrganizationToken with the subscriptions:write scope.
func (s *SubscriptionsService) CreateForCustomer(ctx context.Context, p *CustomerSubscriptionParams, opts ...CallOption) (*Subscription, error) {
	cs := collectCallOptions(Polar, opts)
	var v validate.Problems
	if p == nil {
		v.Add("", validate.CodeRequired, "params are required")
		return nil, invalid(Polar, v)
	}
	v.UUID4("product_id", p.ProductID)
	v.UUID4("customer_id", p.CustomerID)
	return s.createPolar(ctx, v, &polarCreateBody{ProductID: p.ProductID, CustomerID: p.CustomerID, Metadata: p.Metadata}, cs)
}

// CreateForExternalCustomer subscribes the customer whose external ID is
// p.ExternalCustomerID to the free recurring product p.ProductID. It needs
// WithOrganizationToken with the subscriptions:write scope.
func (s *SubscriptionsService) CreateForExternalCustomer(ctx context.Context, p *ExternalCustomerSubscriptionParams, opts ...CallOption) (*Subscription, error) {
	cs := collectCallOptions(Polar, opts)
	var v validate.Problems
	if p == nil {
		v.Add("", validate.CodeRequired, "params are required")
		return nil, invalid(Polar, v)
	}
	v.UUID4("product_id", p.ProductID)
	v.Text("external_customer_id", p.ExternalCustomerID, 1, 0)
	return s.createPolar(ctx, v, &polarCreateBody{ProductID: p.ProductID, ExternalCustomerID: p.ExternalCustomerID, Metadata: p.Metadata}, cs)
}

// createPolar finishes validation (metadata, and the idempotency key when the
// create is keyed), puts the key into the metadata, and sends.
func (s *SubscriptionsService) createPolar(ctx context.Context, v validate.Problems, body *polarCreateBody, cs callSettings) (*Subscription, error) {
	key, keyed := s.client.idempotencyKey(cs)
	rules := validate.PolarMetadata()
	rules.Reserved = []string{reservedMetadataKey}
	if keyed {
		rules.MaxPairs-- // room for the key
		v.Text("idempotency_key", key, 1, 500)
	}
	if body.Metadata != nil {
		v.Metadata("metadata", body.Metadata, rules)
	}
	if err := invalid(Polar, v); err != nil {
		return nil, err
	}
	out := new(Subscription)
	r := &request{api: Polar, method: http.MethodPost, path: polarSubscriptionsPath, create: true, body: body}
	if keyed {
		// A copy: the caller's map is not ours to change.
		md := make(Metadata, len(body.Metadata)+1)
		for k, val := range body.Metadata {
			md[k] = val
		}
		md[reservedMetadataKey] = key
		keyed := *body
		keyed.Metadata = md
		r.body, r.find, r.replay = &keyed, s.polarFinder(&keyed, key, out), cs.hasKey
	}
	if err := s.client.do(ctx, r, out, cs); err != nil {
		return nil, err
	}
	return out, nil
}
