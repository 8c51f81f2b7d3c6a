package subkittest

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The Polar scopes the webhook endpoints check (server/polar/webhook/auth.py):
// the deliveries list needs either, a redelivery ScopeWebhooksWrite.
// PolarToken has both.
const (
	ScopeWebhooksRead  = "webhooks:read"
	ScopeWebhooksWrite = "webhooks:write"
)

// Polar's webhook delivery, from its server's source (server/polar/config.py,
// server/polar/webhook/tasks.py, service.py, repository.py).
const (
	// WebhookTimeout is how long Polar waits for an endpoint's answer
	// (httpx's timeout=10.0); a 2xx later counts as a failure.
	WebhookTimeout = 10 * time.Second
	// WebhookMaxAttempts is how many deliveries an event gets before Polar
	// gives it up (WEBHOOK_MAX_RETRIES).
	WebhookMaxAttempts = 10
	// WebhookFailureThreshold is how many events given up in a row disable
	// an endpoint (WEBHOOK_FAILURE_THRESHOLD).
	WebhookFailureThreshold = 10
	// webhookBackoffUnit is WORKER_MIN_BACKOFF_MILLISECONDS: after n failed
	// deliveries the next comes 2ⁿ to 2ⁿ⁺¹ units later (dramatiq's
	// compute_backoff with jitter), at most 20 minutes.
	webhookBackoffUnit = time.Second
	webhookMaxBackoff  = 20 * time.Minute
	// The FIFO guard: an event waits 300 ms per earlier event of its
	// endpoint made in the last minute that has had no delivery yet, at
	// most a minute (WEBHOOK_FIFO_GUARD_DELAY_MS, _MAX_AGE).
	webhookGuardDelay  = 300 * time.Millisecond
	webhookGuardMaxAge = time.Minute
	// webhookResponseLimit is how much of an answer a delivery keeps.
	webhookResponseLimit = 2048
)

// PolarWebhook is a webhook endpoint of the Polar fake: where it sends the
// events of what it creates, and how.
type PolarWebhook struct {
	// URL receives the events (required): each is POSTed as Polar does,
	// signed, and retried until a 2xx arrives within the timeout.
	URL string
	// Secret signs the deliveries; "" makes a fresh one
	// (NewPolarWebhookSecret), which PolarWebhookEndpoints shows. By
	// default the standard scheme signs (the base64 after "whsec_" is the
	// key; Secret must then be base64 after the prefix).
	Secret string
	// LegacySignature signs with the UTF-8 bytes of the whole secret, as
	// Polar does for secrets made before 2026-09-08.
	LegacySignature bool
	// Events are the event types the endpoint receives; none means every
	// type.
	Events []string
	// TimeScale multiplies the delays of Polar's delivery: the retry
	// backoff (2–4 s after the first failure, doubling, 17–34 minutes for
	// all ten attempts), the FIFO guard's 300 ms steps (not its one-minute
	// age limit) and the 10 s timeout. 0.001 runs a whole retry schedule
	// in 1–2 s; 0 means 1, real time.
	TimeScale float64
	// Timeout, when positive, replaces the scaled 10 s timeout: a scale
	// small enough to run the retries quickly may leave too little time
	// for a receiver on a busy test machine.
	Timeout time.Duration
}

// WebhookEndpointInfo is a webhook endpoint as the fake holds it.
type WebhookEndpointInfo struct {
	ID, URL, Secret string
	// Enabled is false once WebhookFailureThreshold events in a row were
	// given up; no event is made for a disabled endpoint, and queued ones
	// are skipped.
	Enabled bool
}

// WebhookEventInfo is an event the fake made for one endpoint.
type WebhookEventInfo struct {
	ID, EndpointID, Type string
	// Body is what every delivery of the event carries.
	Body []byte
	// CreatedAt is when it was made, on the server's clock.
	CreatedAt time.Time
	// Succeeded is true once a delivery succeeded, false once the event
	// was given up, nil meanwhile.
	Succeeded *bool
	// Skipped: an attempt found the endpoint disabled.
	Skipped bool
	// Deliveries counts the attempts made.
	Deliveries int
}

// WebhookDeliveryInfo is one attempt to deliver an event.
type WebhookDeliveryInfo struct {
	ID, EventID, EndpointID, EventType string
	// At is when the attempt ended, on the server's clock.
	At time.Time
	// Succeeded: a 2xx within the timeout.
	Succeeded bool
	// StatusCode is the answer's status; 0 when none came in time.
	StatusCode int
	// Response is the start of the answer (or the error met).
	Response string
	// Redelivery: the attempt was asked for by a redelivery.
	Redelivery bool
	// Copy: an extra delivery made by a WebhookDuplicate fault.
	Copy bool
}

// WebhookFault changes how the fake delivers the events of the next
// create (created, active, updated). Queue one with InjectWebhookFault.
type WebhookFault struct {
	name    string
	copies  int
	reverse bool
}

// String names the fault.
func (f WebhookFault) String() string { return f.name }

// WebhookDuplicate delivers each event of the next create copies times
// at once on its first attempt (at least twice): the same webhook-id and
// body, each with its own timestamp and signature, each a delivery of its
// own. A receiver must run its work once.
func WebhookDuplicate(copies int) WebhookFault {
	return WebhookFault{name: "duplicate", copies: max(copies, 2)}
}

// WebhookReorder delivers the events of the next create newest first
// (updated, active, then created), each waiting for the later one to have
// had an attempt, as Polar's best-effort order allows when an earlier
// event is failing. A receiver must not let an older state overwrite a
// newer one.
func WebhookReorder() WebhookFault {
	return WebhookFault{name: "reorder", reverse: true}
}

// WithPolarWebhook makes the server deliver, to w.URL, signed webhook
// events of what its Polar API creates: for each subscription
// subscription.created, subscription.active and subscription.updated, in
// that order. Give it several times for several endpoints; see
// AddPolarWebhook for the details. It panics if w is not usable.
func WithPolarWebhook(w PolarWebhook) ServerOption {
	return func(s *Server) { s.AddPolarWebhook(w) }
}

// AddPolarWebhook adds a webhook endpoint to the server and returns its ID.
// From then on every Polar create sends the endpoint its events, and
// SendPolarWebhookEvent any other; each is delivered as Polar does
// (server/polar/webhook/tasks.py): POSTed with Standard Webhooks' headers
// (webhook-id the event's ID, webhook-timestamp, webhook-signature
// "v1,<base64>" over "id.timestamp.body"), User-Agent "polar.sh webhooks"
// and the body {"type","timestamp","data"}; a 2xx within the timeout
// delivers it; anything else — another status, a redirect (never
// followed), no answer in time, no connection — is retried with the same
// ID and body, after 2–4 s, then doubling, WebhookMaxAttempts attempts in
// all (delays times TimeScale). An event waits while earlier ones of its
// endpoint have had no attempt (300 ms each, a minute at most, scaled), so
// events go out in order unless an earlier one is failing. After
// WebhookFailureThreshold events in a row are given up the endpoint is
// disabled (SetPolarWebhookEnabled enables it again).
//
// It panics if w.URL is empty, or if w.Secret is not base64 after
// "whsec_" for the standard scheme.
func (s *Server) AddPolarWebhook(w PolarWebhook) string {
	if w.URL == "" {
		panic("subkittest: AddPolarWebhook: no URL")
	}
	if w.Secret == "" {
		w.Secret = NewPolarWebhookSecret()
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(w.Secret, "whsec_")); err != nil && !w.LegacySignature {
		panic("subkittest: AddPolarWebhook: the secret is not base64 after \"whsec_\": set LegacySignature for a legacy secret")
	}
	if w.TimeScale <= 0 {
		w.TimeScale = 1
	}
	ep := &webhookEndpoint{id: newUUID4(), cfg: w, secret: w.Secret, enabled: true, wake: make(chan struct{})}
	if len(w.Events) > 0 {
		ep.events = map[string]bool{}
		for _, e := range w.Events {
			ep.events[e] = true
		}
	}
	timeout := time.Duration(float64(WebhookTimeout) * w.TimeScale)
	if w.Timeout > 0 {
		timeout = w.Timeout
	}
	ep.client = &http.Client{
		Timeout: timeout,
		// Polar's httpx client follows no redirect: a 3xx is a failure.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endpoints = append(h.endpoints, ep)
	return ep.id
}

// PolarWebhookEndpoints lists the server's webhook endpoints, in the order
// they were added.
func (s *Server) PolarWebhookEndpoints() []WebhookEndpointInfo {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]WebhookEndpointInfo, len(h.endpoints))
	for i, ep := range h.endpoints {
		out[i] = WebhookEndpointInfo{ID: ep.id, URL: ep.cfg.URL, Secret: ep.secret, Enabled: ep.enabled}
	}
	return out
}

// SetPolarWebhookEnabled enables or disables the webhook endpoint id, as
// Polar's PATCH /v1/webhooks/endpoints/{id} with {"enabled": …} does. It
// panics if the server has no such endpoint.
func (s *Server) SetPolarWebhookEnabled(id string, enabled bool) {
	ep := s.hooks.endpoint(id)
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	if ep.enabled && !enabled {
		ep.disable()
	}
	ep.enabled = enabled
}

// RotatePolarWebhookSecret replaces the endpoint's secret with a fresh one
// at once, as Polar's PATCH /v1/webhooks/endpoints/{id}/secret does, and
// returns it: every delivery from then on, retries of older events
// included, is signed with it alone (the standard scheme). It panics if
// the server has no such endpoint.
func (s *Server) RotatePolarWebhookSecret(id string) string {
	ep := s.hooks.endpoint(id)
	secret := NewPolarWebhookSecret()
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	ep.secret, ep.cfg.LegacySignature = secret, false
	return secret
}

// PolarWebhookEvents lists the events the server made, oldest first.
func (s *Server) PolarWebhookEvents() []WebhookEventInfo {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]WebhookEventInfo, len(h.events))
	for i, ev := range h.events {
		out[i] = WebhookEventInfo{ID: ev.id, EndpointID: ev.endpoint.id, Type: ev.typ, Body: slices.Clone(ev.payload),
			CreatedAt: ev.createdAt, Skipped: ev.skipped, Deliveries: ev.deliveries}
		if ev.succeeded != nil {
			out[i].Succeeded = new(bool)
			*out[i].Succeeded = *ev.succeeded
		}
	}
	return out
}

// PolarWebhookDeliveries lists every delivery attempt made, in the order
// they ended.
func (s *Server) PolarWebhookDeliveries() []WebhookDeliveryInfo {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]WebhookDeliveryInfo, len(h.deliveries))
	for i, d := range h.deliveries {
		out[i] = WebhookDeliveryInfo{ID: d.id, EventID: d.event.id, EndpointID: d.event.endpoint.id, EventType: d.event.typ,
			At: d.createdAt, Succeeded: d.succeeded, Response: d.response, Redelivery: d.redelivery, Copy: d.copy}
		if d.httpCode != nil {
			out[i].StatusCode = *d.httpCode
		}
	}
	return out
}

// InjectWebhookFault queues f for the events of the next Polar create.
func (s *Server) InjectWebhookFault(f WebhookFault) {
	h := &s.hooks
	h.mu.Lock()
	defer h.mu.Unlock()
	h.faults = append(h.faults, f)
}

// SendPolarWebhookEvent makes an event of type typ about data for every
// enabled endpoint that receives typ, and delivers it like the events of a
// create; it returns the events' IDs. data that is a json.RawMessage or
// []byte is sent as it is (a subscription's Body with a changed status,
// say); anything else is encoded as JSON. Use it for the events the fake
// does not make itself (subscription.canceled, revoked, …). It panics if
// data cannot be encoded.
func (s *Server) SendPolarWebhookEvent(typ string, data any) []string {
	payload := PolarWebhookBody(typ, s.now(), data)
	return s.hooks.makeEvents(s, []string{typ}, func(string) []byte { return payload }, nil)
}

// WaitPolarWebhooks waits until no delivery is in flight or scheduled:
// every event delivered, given up or skipped. It returns ctx's error if ctx
// ends first.
func (s *Server) WaitPolarWebhooks(ctx context.Context) error {
	h := &s.hooks
	for {
		h.mu.Lock()
		if h.active == 0 {
			h.mu.Unlock()
			return nil
		}
		changed := h.changedChan()
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// polarCreated makes the events of a subscription the Polar API just
// created: subscription.created, .active and .updated, each carrying body.
// It runs with the server's lock held (exchange.apply).
func (s *Server) polarCreated(body []byte) {
	now := s.now()
	types := []string{"subscription.created", "subscription.active", "subscription.updated"}
	s.hooks.makeEvents(s, types, func(typ string) []byte { return PolarWebhookBody(typ, now, body) }, s.hooks.takeFault)
}

// webhookState is the webhook side of a Server. Its lock is its own and is
// taken after the server's, never before, so that a create (which holds
// the server's) can make events.
type webhookState struct {
	mu         sync.Mutex
	endpoints  []*webhookEndpoint
	events     []*webhookEvent
	byID       map[string]*webhookEvent
	deliveries []*webhookDelivery
	faults     []WebhookFault
	// active counts the sends scheduled or in flight; changed is closed,
	// and replaced, whenever it changes.
	active  int
	changed chan struct{}
	closed  bool
	wg      sync.WaitGroup
	stop    chan struct{} // closed by close: sends end
}

type webhookEndpoint struct {
	id     string
	cfg    PolarWebhook
	secret string
	events map[string]bool // nil: every type
	client *http.Client
	// enabled, and wake, closed and replaced when the endpoint is
	// disabled so that sends waiting to retry end at once.
	enabled bool
	wake    chan struct{}
}

// receives reports whether the endpoint gets events of type typ.
func (ep *webhookEndpoint) receives(typ string) bool { return ep.events == nil || ep.events[typ] }

// disable runs with the state's lock held.
func (ep *webhookEndpoint) disable() {
	ep.enabled = false
	close(ep.wake)
	ep.wake = make(chan struct{})
}

// scale returns d times the endpoint's time scale.
func (ep *webhookEndpoint) scale(d time.Duration) time.Duration {
	return time.Duration(float64(d) * ep.cfg.TimeScale)
}

type webhookEvent struct {
	id        string
	endpoint  *webhookEndpoint
	typ       string
	payload   []byte
	createdAt time.Time // the server's clock
	made      time.Time // the process's clock, for the FIFO guard's age
	seq       int       // order of making, across endpoints
	succeeded *bool
	skipped   bool
	attempted bool // has a delivery: no longer holds later events back
	// deliveries counts the attempts made; lastHTTPCode is the last's.
	deliveries   int
	lastHTTPCode *int
	modifiedAt   *time.Time
	// Faults: copies on the first attempt; after, events to wait for
	// instead of the FIFO guard (a reversed create).
	copies int
	after  []*webhookEvent
}

type webhookDelivery struct {
	id         string
	event      *webhookEvent
	createdAt  time.Time
	succeeded  bool
	httpCode   *int
	response   string
	redelivery bool
	copy       bool
}

func (h *webhookState) endpoint(id string) *webhookEndpoint {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ep := range h.endpoints {
		if ep.id == id {
			return ep
		}
	}
	panic("subkittest: no webhook endpoint " + id)
}

// changedChan returns the channel closed at the next change of active. It
// runs with the lock held.
func (h *webhookState) changedChan() chan struct{} {
	if h.changed == nil {
		h.changed = make(chan struct{})
	}
	return h.changed
}

// addActive changes the count of sends. It runs with the lock held.
func (h *webhookState) addActive(n int) {
	h.active += n
	if h.changed != nil {
		close(h.changed)
		h.changed = nil
	}
}

// takeFault pops the next fault, if any. It runs with the lock held.
func (h *webhookState) takeFault() *WebhookFault {
	if len(h.faults) == 0 {
		return nil
	}
	f := h.faults[0]
	h.faults = h.faults[1:]
	return &f
}

// makeEvents makes, for every enabled endpoint receiving them, one event
// of each of types with the body payload(type) gives, applies the fault
// takeFault gives (if any) to each endpoint's group, and starts sending
// them. It returns the events' IDs.
func (h *webhookState) makeEvents(s *Server, types []string, payload func(typ string) []byte, takeFault func() *WebhookFault) []string {
	now, made := s.now(), time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	var f *WebhookFault
	if takeFault != nil {
		f = takeFault()
	}
	if h.byID == nil {
		h.byID = map[string]*webhookEvent{}
		h.stop = make(chan struct{})
	}
	var ids []string
	for _, ep := range h.endpoints {
		if !ep.enabled { // Polar makes no event for a disabled endpoint
			continue
		}
		var group []*webhookEvent
		for _, typ := range types {
			if !ep.receives(typ) {
				continue
			}
			ev := &webhookEvent{id: newUUID4(), endpoint: ep, typ: typ, payload: payload(typ), createdAt: now, made: made, seq: len(h.events)}
			h.events = append(h.events, ev)
			h.byID[ev.id] = ev
			group = append(group, ev)
			ids = append(ids, ev.id)
		}
		if f != nil {
			for i, ev := range group {
				ev.copies = f.copies
				if f.reverse {
					ev.after = append([]*webhookEvent{}, group[i+1:]...)
				}
			}
		}
		for _, ev := range group {
			h.startSend(s, ev, false)
		}
	}
	return ids
}

// startSend starts delivering ev. It runs with the lock held.
func (h *webhookState) startSend(s *Server, ev *webhookEvent, redeliver bool) {
	if h.closed {
		return
	}
	h.addActive(1)
	h.wg.Add(1)
	go s.send(ev, redeliver)
}

// close ends every send and waits for them; no event is made after.
func (h *webhookState) close() {
	h.mu.Lock()
	h.closed = true
	if h.stop != nil {
		close(h.stop)
	}
	h.mu.Unlock()
	h.wg.Wait()
}
