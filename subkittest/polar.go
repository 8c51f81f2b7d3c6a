package subkittest

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// Polar's paths.
const (
	polarSubscriptionsPath = "/v1/subscriptions/"
)

// polarVersions are the Polar-Version values Polar knows
// (server/polar/version.py); another value gets the 404 its
// APIVersionMiddleware answers (server/polar/kit/versioning.py).
var polarVersions = map[string]bool{"2026-04": true, "2026-10": true}

// polarCurrentVersion is the version of a request without Polar-Version.
const polarCurrentVersion = "2026-04"

// polarHandler serves Polar (FastAPI) in the order its middleware and
// endpoints work (server/polar/app.py): the API version, the body size,
// the rate limit, the authentication middleware (an unknown token is
// refused on every path), routing (a missing trailing slash is
// redirected), reading the JSON body, the endpoint's authentication and
// scope requirement, the schema, then the service's checks of product and
// customer.
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

// isGet reports whether a request to Chargeflow or ChatDash is a GET:
// HEAD is served as GET there (FastAPI, behind Polar, routes no HEAD).
func isGet(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }

func (h polarHandler) op(r *http.Request) Op {
	switch route, _ := h.route(r); {
	case route == polarCollection && r.Method == http.MethodPost:
		return OpCreate
	case (route == polarCollection || route == polarItem) && r.Method == http.MethodGet:
		return OpLookup
	}
	return ""
}

// tooManyRequests is asgi-ratelimit's 429: an empty body and Retry-After
// only.
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

// polarRealm is settings.WWW_AUTHENTICATE_REALM (server/polar/config.py).
const polarRealm = "polar"

// polarUnauthorized is polar.exceptions.Unauthorized: no token, or one of
// a kind the endpoint does not take.
func (h polarHandler) unauthorized() *outcome {
	o := h.json(http.StatusUnauthorized, polarNamedError("Unauthorized", "Unauthorized"))
	o.header.Set("WWW-Authenticate", `Bearer realm="`+polarRealm+`"`)
	return o
}

// polarOAuthError is an Authlib OAuth2Error as Polar answers it
// (server/polar/oauth2/exception_handlers.py): json.dumps of error and
// error_description, Authlib's JSON headers and an RFC 6750
// WWW-Authenticate.
func polarOAuthError(status int, name, description, scope string) *outcome {
	body := `{"error": "` + name + `", "error_description": "` + description + `"}`
	o := answer(status, "application/json", []byte(body))
	o.header.Set("Cache-Control", "no-store")
	o.header.Set("Pragma", "no-cache")
	attrs := `realm="` + polarRealm + `", `
	if scope != "" {
		attrs += `scope="` + scope + `", `
	}
	o.header.Set("WWW-Authenticate", "Bearer "+attrs+`error="`+name+`", error_description="`+description+`"`)
	return o
}

// The OAuth 2 descriptions (RFC 6750) of an invalid token and of a token
// without the scope an endpoint needs.
const (
	polarInvalidTokenDescription      = "The access token provided is expired, revoked, malformed, or invalid for other reasons."
	polarInsufficientScopeDescription = "The request requires higher privileges than provided by the access token."
)

// insufficientScope is the 403 of a token without any of scopes
// (server/polar/auth/dependencies.py, InsufficientScopeError).
func insufficientScope(scopes ...string) *outcome {
	return polarOAuthError(http.StatusForbidden, "insufficient_scope", polarInsufficientScopeDescription, strings.Join(scopes, " "))
}

// authorize is the endpoint's Authenticator: no token is 401, a token
// without any of scopes is 403.
func (h polarHandler) authorize(cred *credential, scopes ...string) *outcome {
	switch {
	case cred == nil:
		return h.unauthorized()
	case !cred.hasAny(scopes...):
		return insufficientScope(scopes...)
	}
	return nil
}

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

// serve is the APIVersionMiddleware, outermost: an unknown version is
// 404 before anything else, and every other answer echoes the version.
func (h polarHandler) serve(x *exchange) *outcome {
	version := polarCurrentVersion
	if v := x.r.Header.Get("Polar-Version"); v != "" {
		if !polarVersions[v] {
			return h.json(http.StatusNotFound, polarDetail("Not Found"))
		}
		version = v
	}
	o := h.serveVersion(x)
	o.header.Set("Polar-Version", version)
	return o
}

// The body size Polar's MaxBodySizeMiddleware refuses: a POST, PUT or PATCH
// without Content-Length, or one declaring more than
// API_MAX_REQUEST_BODY_SIZE (server/polar/middlewares.py).
func (h polarHandler) bodySize(r *http.Request) *outcome {
	_, declared := r.Header["Content-Length"]
	switch {
	case !declared && (r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch):
		return answer(http.StatusLengthRequired, h.contentType(),
			[]byte(`{"error": "LengthRequired", "detail": "A Content-Length header is required."}`))
	case declared && r.ContentLength > maxRequestBody:
		return answer(http.StatusRequestEntityTooLarge, h.contentType(),
			[]byte(`{"error": "RequestBodyTooLarge", "detail": "Request body exceeded the maximum allowed size of `+
				strconv.Itoa(maxRequestBody)+` bytes."}`))
	}
	return nil
}

// serveVersion runs the middleware inside the version's: body size, rate
// limit, authentication; then the routes, whose answers pass Polar's
// CacheControlMiddleware.
func (h polarHandler) serveVersion(x *exchange) *outcome {
	if o := h.bodySize(x.r); o != nil {
		return o
	}
	token := bearer(x.r)
	if o := x.polarRateLimited(token); o != nil {
		return o
	}
	var cred *credential
	if token != "" {
		if cred = x.s.credentialFor(subkit.Polar, token); cred == nil {
			return polarOAuthError(http.StatusUnauthorized, "invalid_token", polarInvalidTokenDescription, "")
		}
		x.polarAuthenticated(token)
	}
	o := h.routed(x, cred)
	if o.header.Get("Cache-Control") == "" {
		o.header.Set("Cache-Control", "private, no-store")
	}
	return o
}

func (h polarHandler) routed(x *exchange, cred *credential) *outcome {
	r := x.r
	// FastAPI routes no HEAD; Starlette answers a method another route of
	// the path takes with the first such route's Allow: the list's GET.
	notAllowed := func() *outcome {
		o := h.json(http.StatusMethodNotAllowed, polarDetail("Method Not Allowed"))
		o.header.Set("Allow", http.MethodGet)
		return o
	}
	if o, ok := h.webhookRoute(x, cred); ok { // webhookapi.go
		return o
	}
	route, id := h.route(r)
	switch route {
	case polarCollection:
		switch r.Method {
		case http.MethodPost:
			return h.create(x, cred)
		case http.MethodGet:
			return h.list(x, cred)
		}
		return notAllowed()
	case polarItem:
		if r.Method != http.MethodGet {
			return notAllowed()
		}
		return h.get(x, cred, id)
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

func (h polarHandler) create(x *exchange, cred *credential) *outcome {
	body, present, o := readPolarBody(x.r, x.body)
	if o != nil {
		return o
	}
	if o := h.authorize(cred, ScopeSubscriptionsWrite); o != nil {
		return o
	}
	pc, errs := validatePolarCreate(body, present)
	if len(errs) > 0 {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", errs))
	}

	s := h.s
	s.mu.Lock()
	res := s.polar.resolve(pc, s.now(), s.implicit)
	s.mu.Unlock()
	switch {
	case res.missingCurrency != "":
		// PriceSet.from_product raises NoPricesForCurrencies, a PolarError
		// of status 500.
		return h.json(http.StatusInternalServerError, polarNamedError("NoPricesForCurrencies",
			"No prices found for currencies: ['"+res.missingCurrency+"']"))
	case res.err != nil:
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("PolarRequestValidationError", []pydError{*res.err}))
	}

	now := s.now().UTC().Truncate(time.Microsecond)
	sub := h.subscription(pc, res, now)
	b, err := encodeJSON(sub)
	if err != nil {
		// A float Python reads as infinity: Polar cannot store or answer it.
		return polarServerError()
	}
	o = answer(http.StatusCreated, h.contentType(), b)
	reqID := x.rec.ID
	product, customer := res.product, res.customer
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
		if seatsOf(res.prices) != nil {
			// customer_service.upgrade_to_team
			customer.typ = "team"
		}
		st := &stored{api: subkit.Polar, id: sub.ID, body: b, polar: &PolarSubscription{
			ID: sub.ID, RequestID: reqID, CreatedAt: now, Body: b, ProductID: product.id, CustomerID: customer.id,
			ExternalCustomerID: pc.externalID, Metadata: md}}
		s.subs = append(s.subs, st)
		s.polarCreated(b) // its webhook events (webhooks.go)
		return []string{sub.ID}
	}
	return o
}

type polarCustomer struct {
	id, externalID, email, name string
	typ                         string // individual, or team once subscribed to a seat-based product
	deleted                     bool
	createdAt                   time.Time
}

type polarState struct {
	orgID    string
	currency string // the organization's default presentment currency
	// Seeded, by canonical ID and by external ID.
	products  map[string]*polarProduct
	customers map[string]*polarCustomer
	byExtID   map[string]*polarCustomer
	// Met in creates under WithImplicitResources while nothing of the kind
	// is seeded, so that the same ID always answers the same object.
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
	if p.currency == "" {
		p.currency = "usd"
	}
	p.products, p.customers, p.byExtID = map[string]*polarProduct{}, map[string]*polarCustomer{}, map[string]*polarCustomer{}
	p.seenProducts, p.seenCustomers, p.seenByExtID = map[string]*polarProduct{}, map[string]*polarCustomer{}, map[string]*polarCustomer{}
}

// polarResolved is what a create names, or why it cannot be made.
type polarResolved struct {
	product  *polarProduct
	prices   []polarPrice // the product's prices in the organization's currency
	customer *polarCustomer
	// The first problem, which ends the create: a 422, or the currency the
	// product has no price in (a 500).
	err             *pydError
	missingCurrency string
}

// resolve finds the product and customer of a create the way Polar's
// service does (server/polar/subscription/service.py, create): the product
// first, and the first problem ends the request. It runs with the lock
// held.
func (p *polarState) resolve(pc *polarCreate, now time.Time, implicit bool) polarResolved {
	productErr := func(msg string) polarResolved {
		return polarResolved{err: &pydError{typ: "value_error", loc: locOf("body", "product_id"), msg: msg, input: pc.productID}}
	}
	product := p.products[pc.productID]
	if product == nil && implicit && len(p.products) == 0 {
		product = p.seenProducts[pc.productID]
		if product == nil {
			product = implicitPolarProduct(pc.productID, now)
			p.seenProducts[pc.productID] = product
		}
	}
	switch {
	case product == nil:
		return productErr("Product does not exist.")
	case product.notRecurring:
		return productErr("Product is not a recurring product.")
	case product.legacy:
		return productErr("Legacy recurring products are not supported.")
	}
	prices := product.pricesIn(p.currency)
	if len(prices) == 0 {
		return polarResolved{missingCurrency: p.currency}
	}
	if !defaultPrice(prices).free() {
		return productErr("Product is not free. The customer should go through a checkout to create a paid subscription.")
	}

	customer, field, input := p.customer(pc, now, implicit)
	if customer == nil || customer.deleted {
		return polarResolved{err: &pydError{typ: "value_error", loc: locOf("body", field), msg: "Customer does not exist.", input: input}}
	}
	return polarResolved{product: product, prices: prices, customer: customer}
}

// customer finds the customer a create names, by ID or by external ID
// (exactly), and the field that named it.
func (p *polarState) customer(pc *polarCreate, now time.Time, implicit bool) (*polarCustomer, string, string) {
	implicit = implicit && len(p.customers) == 0
	if pc.external {
		c := p.byExtID[pc.externalID]
		// No customer can have an empty external ID, even an implicit one.
		if c == nil && implicit && pc.externalID != "" {
			c = p.seenByExtID[pc.externalID]
			if c == nil {
				id := newUUID4()
				c = &polarCustomer{id: id, externalID: pc.externalID, email: "customer-" + id[:8] + "@example.com",
					typ: "individual", createdAt: now}
				p.seenByExtID[pc.externalID] = c
			}
		}
		return c, "external_customer_id", pc.externalID
	}
	c := p.customers[pc.customerID]
	if c == nil && implicit {
		c = p.seenCustomers[pc.customerID]
		if c == nil {
			c = &polarCustomer{id: pc.customerID, email: "customer-" + pc.customerID[:8] + "@example.com",
				typ: "individual", createdAt: now}
			p.seenCustomers[pc.customerID] = c
		}
	}
	return c, "customer_id", pc.customerID
}
