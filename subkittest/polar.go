package subkittest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// Polar's paths.
const (
	polarSubscriptionsPath = "/v1/subscriptions/"
)

// polarVersions are the Polar-Version values the fake knows; another value
// gets the 404 Polar answers for an unknown version.
var polarVersions = map[string]bool{"2026-04": true, "2026-07": true, "2026-10": true}

// polarHandler serves Polar (FastAPI) in the order the real server works:
// the authentication middleware (an unknown token is refused on every path),
// the rate limit, routing (a missing trailing slash is redirected), reading
// the JSON body, the endpoint's authentication requirement, the schema, then
// the service's checks of product and customer.
type polarHandler struct{ s *Server }

func (polarHandler) contentType() string { return "application/json" }

// polarRoute is what a Polar path names.
type polarRoute int

const (
	polarNoRoute        polarRoute = iota
	polarCollection                // /v1/subscriptions/
	polarCollectionBare            // /v1/subscriptions, redirected
	polarItem                      // /v1/subscriptions/{id}
	polarItemSlash                 // /v1/subscriptions/{id}/, redirected
)

// route reads a path as Starlette routes it: on the percent-decoded path,
// {id} being one segment without "/".
func (polarHandler) route(r *http.Request) (polarRoute, string) {
	path := r.URL.Path
	switch path {
	case polarSubscriptionsPath:
		return polarCollection, ""
	case strings.TrimSuffix(polarSubscriptionsPath, "/"):
		return polarCollectionBare, ""
	}
	rest, ok := strings.CutPrefix(path, polarSubscriptionsPath)
	if !ok {
		return polarNoRoute, ""
	}
	if id, slash := strings.CutSuffix(rest, "/"); slash && id != "" && !strings.Contains(id, "/") {
		return polarItemSlash, id
	}
	if strings.Contains(rest, "/") {
		return polarNoRoute, ""
	}
	return polarItem, rest
}

func isGet(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }

func (h polarHandler) op(r *http.Request) Op {
	switch route, _ := h.route(r); {
	case route == polarCollection && r.Method == http.MethodPost:
		return OpCreate
	case (route == polarCollection || route == polarItem) && isGet(r):
		return OpLookup
	}
	return ""
}

func (polarHandler) tooManyRequests(retryAfter string) *outcome {
	o := answer(http.StatusTooManyRequests, "", nil)
	if retryAfter != "" {
		o.header.Set("Retry-After", retryAfter)
	}
	return o
}

func (h polarHandler) json(status int, v *pyjson.Object) *outcome {
	b, err := pyjson.Marshal(v)
	if err != nil {
		return polarServerError()
	}
	return answer(status, h.contentType(), b)
}

func polarServerError() *outcome {
	return answer(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("Internal Server Error"))
}

func polarDetail(detail string) *pyjson.Object { return pyjson.NewObject().Set("detail", detail) }

func polarNamedError(name, detail string) *pyjson.Object {
	return pyjson.NewObject().Set("error", name).Set("detail", detail)
}

// The OAuth 2 description of an invalid bearer token (RFC 6750).
const polarInvalidTokenDescription = "The access token provided is expired, revoked, malformed, or invalid for other reasons."

// bearer returns the token of an "Authorization: Bearer <token>" header as
// Polar reads it: scheme in any case, a non-empty ASCII value; "" otherwise.
func bearer(r *http.Request) string {
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "bearer") || value == "" {
		return ""
	}
	for i := 0; i < len(value); i++ {
		if value[i] >= 0x80 {
			return ""
		}
	}
	return value
}

func (h polarHandler) serve(x *exchange) *outcome {
	r := x.r
	token := bearer(r)
	if token != "" && !x.known(token) {
		o := h.json(http.StatusUnauthorized, pyjson.NewObject().Set("error", "invalid_token").Set("error_description", polarInvalidTokenDescription))
		o.header.Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+polarInvalidTokenDescription+`"`)
		return o
	}
	if o := x.rateLimited(); o != nil {
		return o
	}
	if v := r.Header.Get("Polar-Version"); v != "" && !polarVersions[v] {
		return h.json(http.StatusNotFound, polarDetail("Not Found"))
	}
	notAllowed := func(allow string) *outcome {
		o := h.json(http.StatusMethodNotAllowed, polarDetail("Method Not Allowed"))
		o.header.Set("Allow", allow)
		return o
	}
	route, id := h.route(r)
	switch route {
	case polarCollection:
		switch {
		case r.Method == http.MethodPost:
			return h.create(x, token)
		case isGet(r):
			return h.list(x, token)
		}
		return notAllowed("GET, POST")
	case polarItem:
		if !isGet(r) {
			return notAllowed("GET")
		}
		return h.get(x, token, id)
	case polarCollectionBare, polarItemSlash:
		// Starlette's redirect_slashes: the same URL with the slash added
		// or removed.
		path := r.URL.EscapedPath()
		if route == polarCollectionBare {
			path += "/"
		} else {
			path = strings.TrimSuffix(path, "/")
		}
		u := "http://" + r.Host + path
		if r.URL.RawQuery != "" {
			u += "?" + r.URL.RawQuery
		}
		o := answer(http.StatusTemporaryRedirect, "", nil)
		o.header.Set("Location", u)
		return o
	}
	return h.json(http.StatusNotFound, polarDetail("Not Found"))
}

// readBody reads a request body as FastAPI does for a JSON body parameter:
// no body (or JSON null) is a missing body; a body is parsed as JSON when the
// Content-Type is absent or application/json or application/*+json, and is
// otherwise passed on as text, which no model accepts.
func readPolarBody(r *http.Request, body []byte) (v pyjson.Value, present bool, o *outcome) {
	if len(body) == 0 {
		return nil, false, nil
	}
	isJSON := true
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		isJSON = err == nil && strings.HasPrefix(mt, "application/") &&
			(mt == "application/json" || strings.HasSuffix(mt, "+json"))
	}
	if !isJSON {
		return strings.ToValidUTF8(string(body), "\uFFFD"), true, nil
	}
	v, err := pyjson.Parse(body)
	if se, ok := err.(*pyjson.SyntaxError); ok {
		e := pydError{typ: "json_invalid", loc: locOf("body", se.Pos), msg: "JSON decode error",
			input: pyjson.NewObject(), ctx: pyjson.NewObject().Set("error", se.Msg)}
		return nil, false, polarHandler{}.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", []pydError{e}))
	}
	if err != nil {
		return nil, false, polarHandler{}.json(http.StatusBadRequest, polarDetail("There was an error parsing the body"))
	}
	return v, v != nil, nil
}

func validationErrorBody(name string, errs []pydError) *pyjson.Object {
	detail := make([]pyjson.Value, len(errs))
	for i, e := range errs {
		detail[i] = e.value()
	}
	return pyjson.NewObject().Set("error", name).Set("detail", detail)
}

func (h polarHandler) create(x *exchange, token string) *outcome {
	body, present, o := readPolarBody(x.r, x.body)
	if o != nil {
		return o
	}
	if token == "" {
		return h.json(http.StatusUnauthorized, polarNamedError("Unauthorized", "Unauthorized"))
	}
	pc, errs := validatePolarCreate(body, present)
	if len(errs) > 0 {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", errs))
	}

	s := h.s
	s.mu.Lock()
	product, customer, errs := s.polar.resolve(pc, s.now())
	s.mu.Unlock()
	if len(errs) > 0 {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("PolarRequestValidationError", errs))
	}

	now := s.now().UTC().Truncate(time.Microsecond)
	sub := h.subscription(pc, product, customer, now)
	b, err := encodeJSON(sub)
	if err != nil {
		// A float Python reads as infinity: Polar cannot store or answer it.
		return polarServerError()
	}
	o = answer(http.StatusCreated, h.contentType(), b)
	reqID := x.rec.ID
	o.apply = func() []string {
		md := map[string]any{}
		for _, k := range pc.metadata.Keys {
			switch v := pc.metadata.Values[k].(type) {
			case pyjson.Number:
				md[k] = json.Number(v)
			default:
				md[k] = v
			}
		}
		st := &stored{api: subkit.Polar, id: sub.ID, body: b, polar: &PolarSubscription{
			ID: sub.ID, RequestID: reqID, CreatedAt: now, Body: b, ProductID: product.id, CustomerID: customer.id,
			ExternalCustomerID: pc.externalID, Metadata: md}}
		s.subs = append(s.subs, st)
		return []string{sub.ID}
	}
	return o
}

// polarProduct and polarCustomer are what the fake knows of Polar's
// products and customers, seeded or met in a create.
type polarProduct struct {
	id, name, interval string
	count              int
	amount             int
	currency           string
	notRecurring       bool
	priceID            string
	createdAt          time.Time
}

type polarCustomer struct {
	id, externalID, email, name string
	createdAt                   time.Time
}

type polarState struct {
	orgID string
	// Seeded, by canonical ID and by external ID.
	products  map[string]*polarProduct
	customers map[string]*polarCustomer
	byExtID   map[string]*polarCustomer
	// Met in creates while nothing of the kind is seeded, so that the same
	// ID always answers the same object.
	seenProducts  map[string]*polarProduct
	seenCustomers map[string]*polarCustomer
	seenByExtID   map[string]*polarCustomer
	// rows caches each held subscription parsed for look-ups, by ID: a
	// subscription's body never changes, and parsing every one of them on
	// every list made look-ups O(held) JSON decodes.
	rows map[string]*polarRow
}

func (p *polarState) init() {
	p.orgID = newUUID4()
	p.products, p.customers, p.byExtID = map[string]*polarProduct{}, map[string]*polarCustomer{}, map[string]*polarCustomer{}
	p.seenProducts, p.seenCustomers, p.seenByExtID = map[string]*polarProduct{}, map[string]*polarCustomer{}, map[string]*polarCustomer{}
}

// resolve finds the product and customer of a create the way Polar's
// service does, reporting every problem at once. It runs with the lock held.
func (p *polarState) resolve(pc *polarCreate, now time.Time) (*polarProduct, *polarCustomer, []pydError) {
	var errs []pydError
	productErr := func(msg string) {
		errs = append(errs, pydError{typ: "value_error", loc: locOf("body", "product_id"), msg: msg, input: pc.productID})
	}
	product := p.products[pc.productID]
	switch {
	case product == nil && len(p.products) > 0:
		productErr("Product does not exist.")
	case product == nil:
		product = p.seenProducts[pc.productID]
		if product == nil {
			product = &polarProduct{id: pc.productID, name: "Free", interval: "month", count: 1, currency: "usd",
				priceID: newUUID4(), createdAt: now}
			p.seenProducts[pc.productID] = product
		}
	case product.notRecurring:
		productErr("Product is not a recurring product.")
	case product.amount > 0:
		productErr("Product is not free. The customer should go through a checkout to create a paid subscription.")
	}

	var customer *polarCustomer
	field, input := "customer_id", pc.customerID
	if pc.external {
		field, input = "external_customer_id", pc.externalID
		customer = p.byExtID[pc.externalID]
		if customer == nil && len(p.customers) == 0 && pc.externalID != "" {
			customer = p.seenByExtID[pc.externalID]
			if customer == nil {
				id := newUUID4()
				customer = &polarCustomer{id: id, externalID: pc.externalID, email: "customer-" + id[:8] + "@example.com", createdAt: now}
				p.seenByExtID[pc.externalID] = customer
			}
		}
	} else {
		customer = p.customers[pc.customerID]
		if customer == nil && len(p.customers) == 0 {
			customer = p.seenCustomers[pc.customerID]
			if customer == nil {
				customer = &polarCustomer{id: pc.customerID, email: "customer-" + pc.customerID[:8] + "@example.com", createdAt: now}
				p.seenCustomers[pc.customerID] = customer
			}
		}
	}
	if customer == nil {
		// No customer can have an empty external ID, seeded or not.
		errs = append(errs, pydError{typ: "value_error", loc: locOf("body", field), msg: "Customer does not exist.", input: input})
	}
	if len(errs) > 0 {
		return nil, nil, errs
	}
	return product, customer, nil
}
