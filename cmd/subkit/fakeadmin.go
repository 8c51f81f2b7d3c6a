package main

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// adminPrefix is the path under which subkit fake answers its admin API.
// None of the three APIs has a path there.
const adminPrefix = "/_subkit/"

// maxAdminBody bounds what the admin API reads of a request.
const maxAdminBody = 16 << 20

// newFakeHandler serves the fake APIs, and the admin API under adminPrefix
// to requests that carry token.
func newFakeHandler(srv *subkittest.Server, token string) http.Handler {
	a := &admin{srv: srv, token: token}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == strings.TrimSuffix(adminPrefix, "/") || strings.HasPrefix(r.URL.Path, adminPrefix) {
			a.serve(w, r)
			return
		}
		srv.ServeHTTP(w, r)
	})
}

// admin is subkit fake's admin API.
type admin struct {
	srv   *subkittest.Server
	token string
}

func (a *admin) serve(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="subkit fake admin"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error": "the admin API answers only requests with \"Authorization: Bearer <admin token>\" (" + adminTokenVar + ", printed when the fake started)"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
	switch r.Method + " " + strings.TrimPrefix(r.URL.Path, adminPrefix) {
	case "GET state":
		writeJSON(w, http.StatusOK, a.held())
	case "GET requests":
		a.requests(w, r)
	case "POST reset":
		a.srv.Reset()
		writeJSON(w, http.StatusOK, map[string]string{"reset": "every subscription, request and queued fault is forgotten; the seeds stay"})
	case "POST faults":
		a.fault(w, r)
	case "GET webhooks":
		writeJSON(w, http.StatusOK, a.webhooks())
	case "POST seed":
		s, err := readSeeds(r.Body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "seed: " + err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"seeded": s.apply(a.srv)})
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "no such admin endpoint",
			"endpoints": []string{"GET state", "GET requests?api=polar|chargeflow|chatdash", "POST reset", "POST faults", "POST seed", "GET webhooks"}})
	}
}

// authorized compares the bearer token in constant time.
func (a *admin) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(a.token)) == 1
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// heldState is what GET /_subkit/state answers: what the fake holds per
// API, and how many requests it remembers.
type heldState struct {
	Polar      heldAPI[heldPolar]      `json:"polar"`
	Chargeflow heldAPI[heldChargeflow] `json:"chargeflow"`
	ChatDash   heldAPI[heldChatDash]   `json:"chatdash"`
}

type heldAPI[T any] struct {
	// Held is how many subscriptions the API holds; Requests how many
	// requests the fake remembers for it (-requests bounds them).
	Held          int `json:"held"`
	Requests      int `json:"requests"`
	Subscriptions []T `json:"subscriptions"`
}

type heldPolar struct {
	ID                 string         `json:"id"`
	ProductID          string         `json:"product_id"`
	CustomerID         string         `json:"customer_id"`
	ExternalCustomerID string         `json:"external_customer_id,omitempty"`
	IdempotencyKey     string         `json:"idempotency_key,omitempty"`
	Metadata           map[string]any `json:"metadata"`
	CreatedAt          time.Time      `json:"created_at"`
	RequestID          string         `json:"request_id"`
}

type heldChargeflow struct {
	ID        string    `json:"id"`
	DisputeID string    `json:"dispute_id"`
	SourceID  string    `json:"source_id"`
	AccountID string    `json:"account_id,omitempty"`
	Replaced  string    `json:"replaced,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	RequestID string    `json:"request_id"`
}

type heldChatDash struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"account_id"`
	ClientID   string    `json:"client_id"`
	ProductID  string    `json:"product_id"`
	CustomerID string    `json:"customer_id"`
	CreatedAt  time.Time `json:"created_at"`
	RequestID  string    `json:"request_id"`
}

// held gathers what the fake holds. The idempotency key is the metadata
// key subkit keeps it under.
func (a *admin) held() heldState {
	h := heldState{}
	for _, s := range a.srv.PolarSubscriptions() {
		key, _ := s.Metadata["subkit_idempotency_key"].(string)
		h.Polar.Subscriptions = append(h.Polar.Subscriptions, heldPolar{ID: s.ID, ProductID: s.ProductID, CustomerID: s.CustomerID,
			ExternalCustomerID: s.ExternalCustomerID, IdempotencyKey: key, Metadata: s.Metadata, CreatedAt: s.CreatedAt, RequestID: s.RequestID})
	}
	for _, s := range a.srv.ChargeflowSubscriptions() {
		h.Chargeflow.Subscriptions = append(h.Chargeflow.Subscriptions, heldChargeflow{ID: s.ID, DisputeID: s.DisputeID,
			SourceID: s.SourceID, AccountID: s.AccountID, Replaced: s.Replaced, CreatedAt: s.CreatedAt, RequestID: s.RequestID})
	}
	for _, s := range a.srv.ChatDashSubscriptions() {
		h.ChatDash.Subscriptions = append(h.ChatDash.Subscriptions, heldChatDash{ID: s.ID, AccountID: s.AccountID,
			ClientID: s.ClientID, ProductID: s.ProductID, CustomerID: s.CustomerID, CreatedAt: s.CreatedAt, RequestID: s.RequestID})
	}
	h.Polar.Held, h.Chargeflow.Held, h.ChatDash.Held = len(h.Polar.Subscriptions), len(h.Chargeflow.Subscriptions), len(h.ChatDash.Subscriptions)
	h.Polar.Requests = len(a.srv.Requests(subkit.Polar))
	h.Chargeflow.Requests = len(a.srv.Requests(subkit.Chargeflow))
	h.ChatDash.Requests = len(a.srv.Requests(subkit.ChatDash))
	if h.Polar.Subscriptions == nil { // [] rather than null: a list, even empty
		h.Polar.Subscriptions = []heldPolar{}
	}
	if h.Chargeflow.Subscriptions == nil {
		h.Chargeflow.Subscriptions = []heldChargeflow{}
	}
	if h.ChatDash.Subscriptions == nil {
		h.ChatDash.Subscriptions = []heldChatDash{}
	}
	return h
}

// heldRequest is a request as GET /_subkit/requests answers it.
type heldRequest struct {
	ID      string              `json:"id"`
	API     subkit.API          `json:"api"`
	Method  string              `json:"method"`
	Path    string              `json:"path"`
	Query   string              `json:"query,omitempty"`
	Header  map[string][]string `json:"header"`
	Body    string              `json:"body,omitempty"`
	Time    time.Time           `json:"time"`
	Status  int                 `json:"status"`
	Fault   string              `json:"fault,omitempty"`
	Created []string            `json:"created,omitempty"`
}

// maxBodyEcho bounds the body of each request the admin API lists.
const maxBodyEcho = 64 << 10

func (a *admin) requests(w http.ResponseWriter, r *http.Request) {
	var apis []subkit.API
	for _, info := range subkit.APIs() {
		apis = append(apis, info.API)
	}
	if name := r.URL.Query().Get("api"); name != "" {
		api, ok := apiNamed(name)
		if !ok {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "api: want polar, chargeflow or chatdash"})
			return
		}
		apis = []subkit.API{api}
	}
	out := []heldRequest{}
	for _, api := range apis {
		for _, q := range a.srv.Requests(api) {
			out = append(out, heldRequest{ID: q.ID, API: q.API, Method: q.Method, Path: q.Path, Query: q.Query, Header: q.Header,
				Body: clip(string(q.Body), maxBodyEcho), Time: q.Time, Status: q.Status, Fault: q.Fault, Created: q.Created})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// faultSpec is the body of POST /_subkit/faults: a subkittest fault by
// name, its parameters, and how many requests to play it for.
type faultSpec struct {
	API   string   `json:"api"`
	Fault string   `json:"fault"`
	Count int      `json:"count"`
	On    []string `json:"on"`
	// Status and Body: respond, respond_after_handling.
	Status int    `json:"status"`
	Body   string `json:"body"`
	// Delay: delay, commit_late, read_lag (a Go duration: "2s").
	Delay string `json:"delay"`
	// RetryAfter: rate_limited ("" sends no Retry-After).
	RetryAfter string `json:"retry_after"`
	// Size and DeclareLength: oversized_body.
	Size          int64 `json:"size"`
	DeclareLength bool  `json:"declare_length"`
	// Header is added to every answer the fault writes.
	Header map[string]string `json:"header"`
}

// faultNames are the faults POST /_subkit/faults knows, as subkittest
// names them.
var faultNames = []string{"respond", "respond_after_handling", "rate_limited", "delay", "commit_late", "read_lag",
	"close_before_handling", "close_after_handling", "malformed_body", "oversized_body"}

func (a *admin) fault(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var spec faultSpec
	err := dec.Decode(&spec)
	var api subkit.API
	var f subkittest.Fault
	if err == nil {
		api, f, err = spec.fault()
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "fault: " + err.Error()})
		return
	}
	a.srv.InjectFault(api, spec.Count, f)
	writeJSON(w, http.StatusOK, map[string]any{"queued": f.String(), "api": api, "count": spec.Count})
}

// fault makes the subkittest fault the spec names, with every problem of
// the spec in its error.
func (s *faultSpec) fault() (subkit.API, subkittest.Fault, error) {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	api, ok := apiNamed(s.API)
	if !ok {
		fail("api: want polar, chargeflow or chatdash, got %q", clip(s.API, 100))
	}
	if s.Count == 0 {
		s.Count = 1
	}
	if s.Count < 1 {
		fail("count: want at least 1, got %d", s.Count)
	}
	var ops []subkittest.Op
	for _, on := range s.On {
		switch op := subkittest.Op(on); op {
		case subkittest.OpCreate, subkittest.OpLookup:
			ops = append(ops, op)
		default:
			fail("on: want create or lookup, got %q", clip(on, 100))
		}
	}
	var delay time.Duration
	needs := func(what string, ok bool) {
		if !ok {
			fail("%s: %s needs it", what, s.Fault)
		}
	}
	switch s.Fault {
	case "respond", "respond_after_handling":
		needs("status (100–599)", s.Status >= 100 && s.Status <= 599)
	case "delay", "commit_late", "read_lag":
		d, err := time.ParseDuration(s.Delay)
		needs("delay (a duration such as 2s)", err == nil && d >= 0)
		delay = d
	case "oversized_body":
		needs("size (bytes, positive)", s.Size > 0)
	case "rate_limited", "close_before_handling", "close_after_handling", "malformed_body":
	default:
		fail("fault: want one of %s, got %q", strings.Join(faultNames, ", "), clip(s.Fault, 100))
	}
	if len(problems) > 0 {
		return "", subkittest.Fault{}, errors.New(strings.Join(problems, "; "))
	}
	var f subkittest.Fault
	switch s.Fault {
	case "respond":
		f = subkittest.Respond(s.Status, s.Body)
	case "respond_after_handling":
		f = subkittest.RespondAfterHandling(s.Status, s.Body)
	case "rate_limited":
		f = subkittest.RateLimited(s.RetryAfter)
	case "delay":
		f = subkittest.Delay(delay)
	case "commit_late":
		f = subkittest.CommitLate(delay)
	case "read_lag":
		f = subkittest.ReadLag(delay)
	case "close_before_handling":
		f = subkittest.CloseBeforeHandling()
	case "close_after_handling":
		f = subkittest.CloseAfterHandling()
	case "malformed_body":
		f = subkittest.MalformedBody()
	case "oversized_body":
		f = subkittest.OversizedBody(s.Size, s.DeclareLength)
	}
	if len(ops) > 0 {
		f = f.On(ops...)
	}
	for k, v := range s.Header {
		f = f.WithHeader(k, v)
	}
	return api, f, nil
}

// heldWebhooks is what GET /_subkit/webhooks answers: the endpoints (their
// secrets left out), the events made and every delivery attempt.
type heldWebhooks struct {
	Endpoints []heldEndpoint `json:"endpoints"`
	Events    []heldEvent    `json:"events"`
	// Deliveries are subkittest's records, as they are.
	Deliveries []subkittest.WebhookDeliveryInfo `json:"deliveries"`
}

type heldEndpoint struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Enabled bool   `json:"enabled"`
}

type heldEvent struct {
	ID         string    `json:"id"`
	EndpointID string    `json:"endpoint_id"`
	Type       string    `json:"type"`
	CreatedAt  time.Time `json:"created_at"`
	Succeeded  *bool     `json:"succeeded"`
	Deliveries int       `json:"deliveries"`
}

func (a *admin) webhooks() heldWebhooks {
	h := heldWebhooks{Endpoints: []heldEndpoint{}, Events: []heldEvent{}, Deliveries: a.srv.PolarWebhookDeliveries()}
	for _, ep := range a.srv.PolarWebhookEndpoints() {
		h.Endpoints = append(h.Endpoints, heldEndpoint{ID: ep.ID, URL: ep.URL, Enabled: ep.Enabled})
	}
	for _, ev := range a.srv.PolarWebhookEvents() {
		h.Events = append(h.Events, heldEvent{ID: ev.ID, EndpointID: ev.EndpointID, Type: ev.Type, CreatedAt: ev.CreatedAt,
			Succeeded: ev.Succeeded, Deliveries: ev.Deliveries})
	}
	if h.Deliveries == nil {
		h.Deliveries = []subkittest.WebhookDeliveryInfo{}
	}
	return h
}
