package subkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

const chatdashAccountsPath = "/v1/public/stripe/connect/accounts/"

// latestUnixSeconds is 9999-12-31T23:59:59Z: a larger startDate is not in
// seconds (milliseconds, most likely), and Stripe refuses it.
const latestUnixSeconds = 253402300799

// chatdashHandler serves ChatDash's Stripe Connect API: routing, the rate
// limit, the agency key (the raw key in Authorization; "Bearer <key>" is a
// wrong key), the body inside "data", then the account, client, agents and
// product. Every error is {"message": …}.
type chatdashHandler struct{ s *Server }

func (chatdashHandler) contentType() string { return "application/json; charset=utf-8" }

// route returns the account ID of a subscriptions path and, for the path of
// one subscription, its ID; ok is false for any other path.
func (chatdashHandler) route(r *http.Request) (accountID, subID string, ok bool) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), chatdashAccountsPath)
	if !ok {
		return "", "", false
	}
	account, rest, found := strings.Cut(rest, "/subscriptions")
	if !found || account == "" || strings.Contains(account, "/") {
		return "", "", false
	}
	if rest != "" {
		sub, ok := strings.CutPrefix(rest, "/")
		if !ok || sub == "" || strings.Contains(sub, "/") {
			return "", "", false
		}
		var err error
		if subID, err = url.PathUnescape(sub); err != nil || subID == "" {
			return "", "", false
		}
	}
	account, err := url.PathUnescape(account)
	return account, subID, err == nil
}

func (h chatdashHandler) op(r *http.Request) Op {
	switch _, sub, ok := h.route(r); {
	case !ok:
	case sub == "" && r.Method == http.MethodPost:
		return OpCreate
	case isGet(r):
		return OpLookup
	}
	return ""
}

func (h chatdashHandler) fail(status int, msg string) *outcome {
	return jsonAnswer(status, h.contentType(), map[string]string{"message": msg})
}

func (h chatdashHandler) tooManyRequests(retryAfter string) *outcome {
	o := h.fail(http.StatusTooManyRequests, "Too Many Requests")
	if retryAfter != "" {
		o.header.Set("Retry-After", retryAfter)
	}
	return o
}

// connectCreate is a create body that passed the checks.
type connectCreate struct {
	clientID     string
	agentIDs     []string
	productID    string
	startDate    int64
	metrics      string
	couponID     string
	automaticTax bool
}

func (h chatdashHandler) serve(x *exchange) *outcome {
	accountID, subID, ok := h.route(x.r)
	if !ok {
		return h.fail(http.StatusNotFound, "Not Found")
	}
	allowed, allow := x.r.Method == http.MethodPost || isGet(x.r), "GET, POST"
	if subID != "" {
		allowed, allow = isGet(x.r), "GET"
	}
	if !allowed {
		o := h.fail(http.StatusMethodNotAllowed, "Method Not Allowed")
		o.header.Set("Allow", allow)
		return o
	}
	if o := x.rateLimited(); o != nil {
		return o
	}
	switch key := x.r.Header.Get("Authorization"); {
	case key == "":
		return h.fail(http.StatusUnauthorized, "Unauthorized: missing API key")
	case !x.known(key):
		return h.fail(http.StatusUnauthorized, "Unauthorized: invalid API key")
	}
	switch {
	case subID != "":
		return h.get(accountID, subID)
	case isGet(x.r):
		return h.list(x, accountID)
	}
	if mt, _, err := mime.ParseMediaType(x.r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return h.fail(http.StatusBadRequest, "Content-Type must be application/json")
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(x.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || dec.More() {
		return h.fail(http.StatusBadRequest, "Invalid JSON body")
	}
	c, problems := parseConnectSubscription(body)
	if len(problems) > 0 {
		return h.fail(http.StatusBadRequest, strings.Join(problems, "; "))
	}

	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	cd := &s.cd
	if !cd.accountExists(accountID, s.implicit) {
		return h.fail(http.StatusNotFound, "Connected account not found")
	}
	client := cd.clients[c.clientID]
	if client == nil && !(s.implicit && len(cd.clients) == 0) {
		return h.fail(http.StatusNotFound, "Client not found")
	}
	if client != nil && client.NoAdmin {
		return h.fail(http.StatusBadRequest, "Client has no admin member")
	}
	names := make([]string, len(c.agentIDs))
	for i, id := range c.agentIDs {
		names[i] = fmt.Sprintf("Agent %d", i+1)
		if client != nil && len(client.Agents) > 0 {
			name, ok := client.Agents[id]
			if !ok {
				return h.fail(http.StatusNotFound, "Agent not found: "+id)
			}
			names[i] = name
		}
	}
	product := cd.products[c.productID]
	if product == nil && !(s.implicit && len(cd.products) == 0) {
		return h.fail(http.StatusNotFound, "Product not found")
	}
	if product == nil {
		product = cd.seenProducts[c.productID]
		if product == nil {
			product = &ChatDashProduct{ID: c.productID, Name: "Pro Plan",
				PriceIDs: []string{newStripeID("price_", 24), newStripeID("price_", 24)}}
			cd.seenProducts[c.productID] = product
		}
	}
	email := "owner@example.com"
	if client != nil && client.AdminEmail != "" {
		email = client.AdminEmail
	}
	custKey := accountID + "\x00" + c.clientID
	customer := cd.customers[custKey]
	if customer == "" {
		customer = newStripeID("cus_", 14)
		cd.customers[custKey] = customer
	}

	now := s.now()
	start := time.Unix(c.startDate, 0).UTC()
	end := addMonths(start, 1).Unix()
	status := "active"
	if start.After(now) {
		status = "not_started"
	}
	id := newStripeID("sub_sched_", 24)
	out := connectSubscriptionJSON[connectCustomerJSON]{
		ID: id, Type: "schedule", Status: status, Customer: connectCustomerJSON{ID: customer, Email: email},
		CurrentPeriodStart: &c.startDate, CurrentPeriodEnd: &end, StartDate: &c.startDate, Created: now.Unix(),
		CollectionMethod: "charge_automatically", Product: connectProductJSON{ID: product.ID, Name: product.Name},
		AutomaticTax: c.automaticTax, Coupon: c.couponID, PriceIDs: slices.Clone(product.PriceIDs),
		Agents: strings.Join(names, ", "),
	}
	if out.PriceIDs == nil {
		out.PriceIDs = []string{}
	}
	b := mustJSON(out)
	o := answer(http.StatusOK, h.contentType(), b)
	reqID := x.rec.ID
	o.apply = func() []string {
		st := &stored{api: subkit.ChatDash, id: id, body: b, chatdash: &ChatDashSubscription{
			ID: id, RequestID: reqID, CreatedAt: now, Body: b, AccountID: accountID, ClientID: c.clientID,
			ProductID: c.productID, AgentIDs: c.agentIDs, CustomerID: customer}}
		s.subs = append(s.subs, st)
		return []string{id}
	}
	return o
}

// connectSubscriptionJSON is ChatDash's subscription as the create and the
// list answer it (C: the customer object) and, with C a bare ID, as the get
// starts it. The SDK decodes it with a struct of its own on purpose: the
// fake checks the SDK instead of agreeing with it by construction.
type connectSubscriptionJSON[C any] struct {
	ID                       string             `json:"id"`
	Type                     string             `json:"type"`
	Status                   string             `json:"status"`
	Customer                 C                  `json:"customer"`
	CurrentPeriodStart       *int64             `json:"current_period_start"`
	CurrentPeriodEnd         *int64             `json:"current_period_end"`
	StartDate                *int64             `json:"startDate"`
	Created                  int64              `json:"created"`
	CollectionMethod         string             `json:"collection_method"`
	CancelAtPeriodEnd        bool               `json:"cancel_at_period_end"`
	CanceledAt               *int64             `json:"canceled_at"`
	Product                  connectProductJSON `json:"product"`
	AutomaticTax             bool               `json:"automatic_tax"`
	Coupon                   string             `json:"coupon"`
	PriceIDs                 []string           `json:"priceIds"`
	Agents                   string             `json:"agents"`
	CancelAtPeriodEndDisplay *string            `json:"cancelAtPeriodEndDisplay"`
}

type connectCustomerJSON struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type connectProductJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// parseConnectSubscription checks a create body against the documented
// schema and lists every problem by its path. Unknown keys are ignored.
func parseConnectSubscription(body map[string]any) (*connectCreate, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	c := &connectCreate{}
	data, ok := body["data"].(map[string]any)
	if !ok {
		return nil, []string{"data is required and must be an object"}
	}
	nonEmpty := func(m map[string]any, key, path string) string {
		s, ok := m[key].(string)
		if !ok || s == "" {
			bad("%s is required and must be a non-empty string", path)
		}
		return s
	}
	c.clientID = nonEmpty(data, "clientId", "data.clientId")
	agents, ok := data["agentIds"].([]any)
	if !ok || len(agents) == 0 {
		bad("data.agentIds is required and must be a non-empty array")
	}
	for i, a := range agents {
		s, ok := a.(string)
		if !ok || s == "" {
			bad("data.agentIds[%d] must be a non-empty string", i)
		}
		c.agentIDs = append(c.agentIDs, s)
	}
	product, ok := data["selectedProduct"].(map[string]any)
	if !ok {
		bad("data.selectedProduct is required and must be an object")
		product = map[string]any{}
	}
	c.productID = nonEmpty(product, "productId", "data.selectedProduct.productId")
	switch n, ok := product["startDate"].(json.Number); {
	case !ok:
		bad("data.selectedProduct.startDate is required and must be a Unix time in seconds")
	default:
		secs, err := n.Int64()
		if err != nil || secs < 0 || secs > latestUnixSeconds {
			bad("data.selectedProduct.startDate must be a Unix time in seconds")
		}
		c.startDate = secs
	}
	pricing, ok := product["pricing"].(map[string]any)
	if !ok {
		bad("data.selectedProduct.pricing is required and must be an object")
		pricing = map[string]any{}
	}
	c.metrics = nonEmpty(pricing, "metrics", "data.selectedProduct.pricing.metrics")
	if v, ok := data["couponId"]; ok {
		s, isStr := v.(string)
		if !isStr {
			bad("data.couponId must be a string")
		}
		c.couponID = s
	}
	if v, ok := data["taxSettings"]; ok {
		tax, isObj := v.(map[string]any)
		if !isObj {
			bad("data.taxSettings must be an object")
			tax = map[string]any{}
		}
		if e, ok := tax["enabled"]; ok {
			b, isBool := e.(bool)
			if !isBool {
				bad("data.taxSettings.enabled must be a boolean")
			}
			c.automaticTax = b
		}
		for _, k := range []string{"country", "postalCode"} {
			if v, ok := tax[k]; ok {
				if _, isStr := v.(string); !isStr {
					bad("data.taxSettings.%s must be a string", k)
				}
			}
		}
	}
	return c, problems
}

type chatdashState struct {
	accounts     map[string]bool
	clients      map[string]*ChatDashClient
	products     map[string]*ChatDashProduct
	seenProducts map[string]*ChatDashProduct // made up under WithImplicitResources
	customers    map[string]string           // account + "\x00" + client → cus_…
}

// accountExists reports whether the agency has the connected account. It
// runs with the lock held.
func (c *chatdashState) accountExists(id string, implicit bool) bool {
	return c.accounts[id] || implicit && len(c.accounts) == 0
}

func (c *chatdashState) init() {
	c.accounts = map[string]bool{}
	c.clients = map[string]*ChatDashClient{}
	c.products = map[string]*ChatDashProduct{}
	c.seenProducts = map[string]*ChatDashProduct{}
	c.customers = map[string]string{}
}
