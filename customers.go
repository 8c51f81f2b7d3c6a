package subkit

// Polar: subscribe an existing customer to a free recurring product, and find
// subscriptions again. API reference: https://polar.sh/docs/api-reference/subscriptions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/go-querystring/query"

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
//
// Polar API: POST /v1/subscriptions/ (https://polar.sh/docs/api-reference/subscriptions/create)
func (s *SubscriptionsService) CreateForCustomer(ctx context.Context, p *CustomerSubscriptionParams, opts ...CallOption) (*Subscription, error) {
	var body *polarCreateBody
	if p != nil {
		body = &polarCreateBody{ProductID: p.ProductID, CustomerID: p.CustomerID, Metadata: p.Metadata}
	}
	return s.createPolar(ctx, body, false, opts)
}

// CreateForExternalCustomer subscribes the customer whose external ID is
// p.ExternalCustomerID to the free recurring product p.ProductID. It needs
// WithOrganizationToken with the subscriptions:write scope.
//
// Polar API: POST /v1/subscriptions/ (https://polar.sh/docs/api-reference/subscriptions/create)
func (s *SubscriptionsService) CreateForExternalCustomer(ctx context.Context, p *ExternalCustomerSubscriptionParams, opts ...CallOption) (*Subscription, error) {
	var body *polarCreateBody
	if p != nil {
		body = &polarCreateBody{ProductID: p.ProductID, ExternalCustomerID: p.ExternalCustomerID, Metadata: p.Metadata}
	}
	return s.createPolar(ctx, body, true, opts)
}

// createPolar validates body (nil: no params) for its shape, external or
// not, puts the key into the metadata of a keyed create, and sends. UUIDs are
// sent in canonical form.
func (s *SubscriptionsService) createPolar(ctx context.Context, body *polarCreateBody, external bool, opts []CallOption) (*Subscription, error) {
	cs := collectCallOptions(opts)
	var v validate.Problems
	if body == nil {
		v.Add("", validate.CodeRequired, "params are required")
		return finish[Subscription](cs, ResponseInfo{API: Polar}, nil, invalid(Polar, v))
	}
	v.UUID4("product_id", body.ProductID)
	body.ProductID = validate.CanonicalUUID(body.ProductID)
	if external {
		v.Text("external_customer_id", body.ExternalCustomerID, 1, 0)
	} else {
		v.UUID4("customer_id", body.CustomerID)
		body.CustomerID = validate.CanonicalUUID(body.CustomerID)
	}
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
		return finish[Subscription](cs, ResponseInfo{API: Polar}, nil, err)
	}
	out := new(Subscription)
	r := &request{api: Polar, method: http.MethodPost, path: polarSubscriptionsPath, create: true, body: body}
	var k *keyedCreate
	if keyed {
		// A copy: the caller's map is not ours to change.
		md := make(Metadata, len(body.Metadata)+1)
		for k, val := range body.Metadata {
			md[k] = val
		}
		md[reservedMetadataKey] = key
		withKey := *body
		withKey.Metadata = md
		r.body = &withKey
		k = &keyedCreate{key: key, callerKey: cs.hasKey, find: s.polarFinder(&withKey, key, out)}
		if cs.hasLooked {
			looked := cs.looked
			k.looked = func() match { return withKey.find(key, looked, out) }
		}
	}
	info, err := s.client.create(ctx, r, k, out)
	return finish(cs, info, out, err)
}

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
	// value as text (3 matches an integer 3). A key may not contain "]":
	// Polar's filter key ends at the first one, so it would silently filter
	// on another key.
	Metadata map[string]string
	// PageSize is how many subscriptions a page fetches: 0 or more than 100
	// means 100. It changes the number of requests, not what the sequence
	// yields.
	PageSize int
}

// polarListQuery is the wire form of a list request; metadata[…] keys are
// added on top, go-querystring having no deepObject style.
type polarListQuery struct {
	ProductID          []string             `url:"product_id,omitempty"`
	CustomerID         []string             `url:"customer_id,omitempty"`
	ExternalCustomerID []string             `url:"external_customer_id,omitempty"`
	Status             []SubscriptionStatus `url:"status,omitempty"`
}

type polarPage struct {
	Items      []*Subscription `json:"items"`
	Pagination struct {
		TotalCount int `json:"total_count"`
		MaxPage    int `json:"max_page"`
	} `json:"pagination"`
}

// UnmarshalJSON refuses a page with a null item: see noNullItem.
func (p *polarPage) UnmarshalJSON(b []byte) error {
	type plain polarPage
	if err := json.Unmarshal(b, (*plain)(p)); err != nil {
		return err
	}
	return noNullItem("items", p.Items)
}

// Get returns the Polar subscription id (a version 4 UUID); ErrNotFound if
// Polar has none by that ID. Failures of any kind are retried within the
// policy, since a read cannot duplicate anything.
//
// Polar API: GET /v1/subscriptions/{id} (https://polar.sh/docs/api-reference/subscriptions/get)
func (s *SubscriptionsService) Get(ctx context.Context, id string, opts ...CallOption) (*Subscription, error) {
	cs := collectCallOptions(opts)
	var v validate.Problems
	v.UUID4("id", id)
	if err := invalid(Polar, v); err != nil {
		return finish[Subscription](cs, ResponseInfo{API: Polar}, nil, err)
	}
	out := new(Subscription)
	info, err := s.client.do(ctx, &request{api: Polar, method: http.MethodGet,
		path: polarSubscriptionsPath + url.PathEscape(validate.CanonicalUUID(id))}, out)
	return finish(cs, info, out, err)
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
//
// WithResponseInfo is written when the loop ends (see paginate); the
// sequence is not safe to range over from two goroutines at once.
//
// Polar API: GET /v1/subscriptions/ (https://polar.sh/docs/api-reference/subscriptions/list)
func (s *SubscriptionsService) List(ctx context.Context, p *SubscriptionListParams, opts ...CallOption) iter.Seq2[*Subscription, error] {
	cs := collectCallOptions(opts)
	if p == nil {
		p = &SubscriptionListParams{}
	}
	if err := validateList(p); err != nil {
		return failed[Subscription](Polar, cs, err)
	}
	fetch := func(ctx context.Context, page int) ([]*Subscription, int, bool, ResponseInfo, error) {
		items, maxPage, info, err := s.listPage(ctx, p, page)
		return items, page + 1, page < maxPage && len(items) > 0, info, err
	}
	return paginate(ctx, Polar, cs, 1, fetch, func(page int) error { return fmt.Errorf("subkit: polar: page %d repeats", page) })
}

// listPage fetches one page of a list: its items, the number of the last page,
// and what the call learned.
func (s *SubscriptionsService) listPage(ctx context.Context, p *SubscriptionListParams, page int) ([]*Subscription, int, ResponseInfo, error) {
	q, err := query.Values(polarListQuery{ProductID: canonicalUUIDs(p.ProductIDs), CustomerID: canonicalUUIDs(p.CustomerIDs),
		ExternalCustomerID: p.ExternalCustomerIDs, Status: p.Statuses})
	if err != nil {
		return nil, 0, ResponseInfo{API: Polar}, err
	}
	for k, val := range p.Metadata {
		q.Add("metadata["+k+"]", val)
	}
	return s.listPageOf(ctx, q, page, pageLimit(p.PageSize))
}

// listPageOf fetches page of the list that filters q selects.
func (s *SubscriptionsService) listPageOf(ctx context.Context, q url.Values, page, limit int) ([]*Subscription, int, ResponseInfo, error) {
	q.Set("page", strconv.Itoa(page))
	q.Set("limit", strconv.Itoa(limit))
	var out polarPage
	// Encode sorts by key: the same filters always make the same URL.
	info, err := s.client.do(ctx, &request{api: Polar, method: http.MethodGet, path: polarSubscriptionsPath, query: q.Encode()}, &out)
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
		if v.Text("metadata", k, 1, 40) && strings.Contains(k, "]") {
			v.Add("metadata", validate.CodeInvalid, "the key %q contains \"]\": Polar's filter key ends at the first one", k)
		}
		v.Text("metadata."+k, val, 1, 0)
	}
	checkPageSize(&v, p.PageSize)
	return invalid(Polar, v)
}

// matches reports whether sub is the create body describes, in everything
// Polar shows of it: product, customer and every metadata pair (body's
// metadata carries the key).
func (b *polarCreateBody) matches(sub *Subscription) bool {
	if validate.CanonicalUUID(sub.ProductID) != b.ProductID {
		return false
	}
	if b.CustomerID != "" {
		if validate.CanonicalUUID(sub.CustomerID) != b.CustomerID {
			return false
		}
	} else if sub.Customer.ExternalID == nil || *sub.Customer.ExternalID != b.ExternalCustomerID {
		return false
	}
	return sameMetadata(b.Metadata, sub.Metadata)
}

// sameMetadata compares metadata as JSON values: the caller's int 3 and
// the 3 Polar answers are one value, whatever Go type each decoded to.
func sameMetadata(want, got Metadata) bool {
	if len(want) != len(got) {
		return false
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			return false
		}
		wb, err1 := json.Marshal(w)
		gb, err2 := json.Marshal(g)
		if err1 != nil || err2 != nil || !bytes.Equal(wb, gb) {
			return false
		}
	}
	return true
}

// canonicalUUIDs returns ids (valid UUIDs) in canonical form, allocating only
// when one is not.
func canonicalUUIDs(ids []string) []string {
	for i, id := range ids {
		if c := validate.CanonicalUUID(id); c != id {
			out := slices.Clone(ids)
			for j := i; j < len(out); j++ {
				out[j] = validate.CanonicalUUID(out[j])
			}
			return out
		}
	}
	return ids
}

// polarFinder finds a keyed Polar create by the key in its metadata alone, so
// that the key used for another product or customer shows as a conflict, and
// fills out with it.
func (s *SubscriptionsService) polarFinder(body *polarCreateBody, key string, out *Subscription) finder {
	p := &SubscriptionListParams{Metadata: map[string]string{reservedMetadataKey: key}}
	return func(ctx context.Context) (match, ResponseInfo, error) {
		items, _, info, err := s.listPage(ctx, p, 1)
		if err != nil {
			return notFound, info, err
		}
		return body.find(key, items, out), info, nil
	}
}

// find picks the create body describes among items, filling out with it.
// Only an item that carries the key counts: a server or proxy that ignored
// the filter must not make a stranger's subscription look like this create.
// An item with the key made for another product or customer is a conflict.
func (b *polarCreateBody) find(key string, items []*Subscription, out *Subscription) match {
	m := notFound
	// Newest first; should there be several (a key reused outside the SDK),
	// the oldest is the one the first call created.
	for i := len(items) - 1; i >= 0; i-- {
		sub := items[i]
		if sub == nil || sub.IdempotencyKey() != key {
			continue
		}
		if b.matches(sub) {
			*out = *sub
			return found
		}
		m = conflict
	}
	return m
}

// FindByIdempotencyKeys returns the Polar subscriptions that carry one of
// keys as their idempotency key (made by keyed creates under those keys),
// grouped by key; a key without one is absent from the map. It asks for many
// keys at once — Polar ORs repeated metadata filters — in as few requests as
// the query's length allows (at most 100 keys a request), which is how a
// batch of keyed creates checks its keys: pass each key's slice, even an
// empty one, to that create with WithKeyLookup. WithResponseInfo describes
// the last request, with the attempts of all of them.
//
// Polar API: GET /v1/subscriptions/?metadata[subkit_idempotency_key]=K1&metadata[subkit_idempotency_key]=K2…
// (https://polar.sh/docs/api-reference/subscriptions/list)
func (s *SubscriptionsService) FindByIdempotencyKeys(ctx context.Context, keys []string, opts ...CallOption) (map[string][]*Subscription, error) {
	cs := collectCallOptions(opts)
	var v validate.Problems
	for i, k := range keys {
		v.Text(fmt.Sprintf("keys[%d]", i), k, 1, 500)
	}
	if err := invalid(Polar, v); err != nil {
		_, err = finish[Subscription](cs, ResponseInfo{API: Polar}, nil, err)
		return nil, err
	}
	total := ResponseInfo{API: Polar}
	defer func() { _, _ = finish[Subscription](cs, total, nil, nil) }()
	found := map[string][]*Subscription{}
	for batch := range keyBatches(keys) {
		wanted := make(map[string]bool, len(batch))
		for _, k := range batch {
			wanted[k] = true
		}
		for page := 1; ; page++ {
			items, maxPage, info, err := s.listPageOf(ctx, keyQuery(batch), page, maxPageSize)
			total.StatusCode, total.RequestID = info.StatusCode, info.RequestID
			total.Attempts += info.Attempts
			if err != nil {
				return nil, err
			}
			for _, sub := range items {
				if k := sub.IdempotencyKey(); wanted[k] {
					found[k] = append(found[k], sub)
				}
			}
			if page >= maxPage || len(items) == 0 {
				break
			}
		}
	}
	return found, nil
}

// maxKeyQuery bounds the query string of a batch look-up, well under the
// 8 KiB that servers and proxies commonly accept for a request line.
const maxKeyQuery = 6 << 10

// keyBatches splits keys into batches of at most maxPageSize keys whose
// query fits in maxKeyQuery bytes; repeated keys are asked once.
func keyBatches(keys []string) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		seen := make(map[string]bool, len(keys))
		var batch []string
		size := 0
		for _, k := range keys {
			if seen[k] {
				continue
			}
			seen[k] = true
			n := len(keyFilterName) + 2 + len(url.QueryEscape(k))
			if len(batch) == maxPageSize || (len(batch) > 0 && size+n > maxKeyQuery) {
				if !yield(batch) {
					return
				}
				batch, size = nil, 0
			}
			batch, size = append(batch, k), size+n
		}
		if len(batch) > 0 {
			yield(batch)
		}
	}
}

// keyFilterName is the query key of the idempotency key filter, encoded.
var keyFilterName = url.QueryEscape("metadata[" + reservedMetadataKey + "]")

// keyQuery is the metadata filter of a batch look-up.
func keyQuery(batch []string) url.Values {
	return url.Values{"metadata[" + reservedMetadataKey + "]": batch}
}
