package subkit

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"sort"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
)

// SubscriptionListParams filter a Polar subscription list. Every field is
// optional; nil params list everything. Values of one field are ORed (any of
// these products), fields are ANDed.
type SubscriptionListParams struct {
	// ProductIDs, CustomerIDs (version 4 UUIDs) and ExternalCustomerIDs
	// filter by product and customer.
	ProductIDs, CustomerIDs, ExternalCustomerIDs []string
	// Statuses filters by status.
	Statuses []SubscriptionStatus
	// Metadata keeps subscriptions whose metadata holds each key with the
	// value as text (3 matches an integer 3).
	Metadata map[string]string
	// PageSize is how many subscriptions a page fetches, 1–100; 0 means 100.
	// It changes the number of requests, not what the sequence yields.
	PageSize int
}

// polarListQuery is the wire form of a list request; metadata[…] keys are
// added on top, go-querystring having no deepObject style.
type polarListQuery struct {
	ProductID          []string             `url:"product_id,omitempty"`
	CustomerID         []string             `url:"customer_id,omitempty"`
	ExternalCustomerID []string             `url:"external_customer_id,omitempty"`
	Status             []SubscriptionStatus `url:"status,omitempty"`
	Page               int                  `url:"page"`
	Limit              int                  `url:"limit"`
}

type polarPage struct {
	Items      []*Subscription `json:"items"`
	Pagination struct {
		TotalCount int `json:"total_count"`
		MaxPage    int `json:"max_page"`
	} `json:"pagination"`
}

// Get returns the Polar subscription id (a version 4 UUID); ErrNotFound if
// Polar has none by that ID. Failures of any kind are retried within the
// policy, since a read cannot duplicate anything.
func (s *SubscriptionsService) Get(ctx context.Context, id string, opts ...CallOption) (*Subscription, error) {
	cs := collectCallOptions(Polar, opts)
	var v validate.Problems
	v.UUID4("id", id)
	if err := invalid(Polar, v); err != nil {
		return nil, err
	}
	out := new(Subscription)
	err := s.client.do(ctx, &request{api: Polar, method: http.MethodGet, path: polarSubscriptionsPath + url.PathEscape(id)},
		out, cs)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// List returns Polar's subscriptions that match p, newest first, fetching
// pages as the loop consumes them: breaking out of the loop fetches no
// further page. An error (invalid params included) is yielded once and ends
// the sequence.
//
//	for sub, err := range client.Subscriptions.List(ctx, &subkit.SubscriptionListParams{CustomerIDs: []string{id}}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(sub.ID, sub.Status)
//	}
func (s *SubscriptionsService) List(ctx context.Context, p *SubscriptionListParams) iter.Seq2[*Subscription, error] {
	if p == nil {
		p = &SubscriptionListParams{}
	}
	if err := validateList(p); err != nil {
		return failed[Subscription](err)
	}
	fetch := func(ctx context.Context, page int) ([]*Subscription, int, bool, error) {
		items, maxPage, _, err := s.listPage(ctx, p, page, callSettings{})
		return items, page + 1, page < maxPage, err
	}
	return paginate(ctx, 1, fetch, func(page int) error { return fmt.Errorf("subkit: polar: page %d repeats", page) })
}

func (s *SubscriptionsService) listPage(ctx context.Context, p *SubscriptionListParams, page int, cs callSettings) ([]*Subscription, int, ResponseInfo, error) {
	limit := p.PageSize
	if limit == 0 {
		limit = 100
	}
	q, err := query.Values(polarListQuery{ProductID: p.ProductIDs, CustomerID: p.CustomerIDs,
		ExternalCustomerID: p.ExternalCustomerIDs, Status: p.Statuses, Page: page, Limit: limit})
	if err != nil {
		return nil, 0, ResponseInfo{}, err
	}
	keys := make([]string, 0, len(p.Metadata))
	for k := range p.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Add("metadata["+k+"]", p.Metadata[k])
	}
	var info ResponseInfo
	cs.info = &info
	var out polarPage
	err = s.client.do(ctx, &request{api: Polar, method: http.MethodGet, path: polarSubscriptionsPath, query: q.Encode()}, &out, cs)
	return out.Items, out.Pagination.MaxPage, info, err
}

func validateList(p *SubscriptionListParams) error {
	var v validate.Problems
	for i, id := range p.ProductIDs {
		v.UUID4(fmt.Sprintf("product_id[%d]", i), id)
	}
	for i, id := range p.CustomerIDs {
		v.UUID4(fmt.Sprintf("customer_id[%d]", i), id)
	}
	for i, id := range p.ExternalCustomerIDs {
		v.Text(fmt.Sprintf("external_customer_id[%d]", i), id, 1, 0)
	}
	for i, st := range p.Statuses {
		v.Text(fmt.Sprintf("status[%d]", i), string(st), 1, 0)
	}
	for k, val := range p.Metadata {
		v.Text("metadata", k, 1, 40)
		v.Text("metadata."+k, val, 1, 0)
	}
	if p.PageSize < 0 || p.PageSize > 100 {
		v.Add("limit", validate.CodeInvalid, "must be between 1 and 100 (0 for 100), got %d", p.PageSize)
	}
	return invalid(Polar, v)
}

// polarFinder finds a keyed Polar create by its customer, product and the key
// in its metadata, and fills out with it.
func (s *SubscriptionsService) polarFinder(body *polarCreateBody, key string, out *Subscription) finder {
	p := &SubscriptionListParams{ProductIDs: []string{body.ProductID}, Metadata: map[string]string{reservedMetadataKey: key}, PageSize: 10}
	if body.CustomerID != "" {
		p.CustomerIDs = []string{body.CustomerID}
	} else {
		p.ExternalCustomerIDs = []string{body.ExternalCustomerID}
	}
	return func(ctx context.Context) (bool, ResponseInfo, error) {
		items, _, info, err := s.listPage(ctx, p, 1, callSettings{})
		if err != nil || len(items) == 0 {
			return false, info, err
		}
		// Newest first; a key is used once, so there is one. Should there be
		// more, the oldest is the one the first call created.
		*out = *items[len(items)-1]
		return true, info, nil
	}
}
