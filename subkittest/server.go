package subkittest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/subkit-go/subkit"
)

// Server is an in-process fake of the ChatDash, Chargeflow and Polar APIs,
// served together over one loopback HTTP server. Make one with NewServer and
// Close it when done; it is safe for concurrent use, and every Server is
// independent of the others, so parallel tests each make their own.
//
// A fresh server knows no product, customer, dispute, account or client: it
// refuses a create or look-up naming one with the real API's error until
// the test registers it (AddPolarProduct, AddPolarCustomer,
// AddChargeflowDispute, AddChatDashAccount, …), as the real APIs do.
// WithImplicitResources makes every well-formed ID name something that
// exists instead.
type Server struct {
	ts     *httptest.Server
	now    func() time.Time
	closed chan struct{}
	once   sync.Once

	handlers map[subkit.API]apiHandler
	colo     string // the Cloudflare data centre of Polar's CF-Ray

	mu       sync.Mutex
	creds    map[subkit.API]map[string]*credential
	limits   map[subkit.API]*rateLimit
	lags     map[subkit.API]lagRange
	faults   map[subkit.API][]*queuedFault
	requests []*Request
	subs     []*stored
	polar    polarState
	cf       chargeflowState
	cd       chatdashState

	implicit bool // WithImplicitResources
	cfArray  bool // WithChargeflowSubscriptionsArray
	// detached is WithoutListener; keepRequests is WithRequestLog's bound
	// (0: every request is kept). See serve.go.
	detached     bool
	keepRequests int

	hooks webhookState // Polar's webhooks (webhooks.go)
}

// ServerOption configures a Server in NewServer.
type ServerOption func(*Server)

// WithClock makes the server read the time from now instead of time.Now:
// for timestamps in answers, request records and rate limiting. now is
// called from the server's handlers, so it must be safe for concurrent use.
// Delays still take real time. A nil now is ignored.
func WithClock(now func() time.Time) ServerOption {
	return func(s *Server) {
		if now != nil {
			s.now = now
		}
	}
}

// NewServer starts a fake of the three APIs on a loopback address. The
// caller must Close it.
func NewServer(opts ...ServerOption) *Server {
	s := &Server{
		now:    time.Now,
		closed: make(chan struct{}),
		colo:   cloudflareColos[randomIndex(len(cloudflareColos))],
		creds: map[subkit.API]map[string]*credential{
			subkit.ChatDash:   {AgencyKey: {}},
			subkit.Chargeflow: {ChargeflowKey: {}},
			subkit.Polar:      {PolarToken: polarCredential(nil)},
		},
		limits: map[subkit.API]*rateLimit{},
		lags:   map[subkit.API]lagRange{},
		faults: map[subkit.API][]*queuedFault{},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(s)
		}
	}
	s.handlers = map[subkit.API]apiHandler{
		subkit.ChatDash:   chatdashHandler{s},
		subkit.Chargeflow: chargeflowHandler{s},
		subkit.Polar:      polarHandler{s},
	}
	s.polar.init()
	s.cf.init()
	s.cd.init()
	if !s.detached {
		s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	}
	return s
}

// URL is the server's base URL, http://127.0.0.1:port, the same for the
// three APIs: pass it to subkit.WithBaseURL for each. It is "" for a server
// made WithoutListener, which knows no address of its own.
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close ends delayed answers at once, closes every connection and shuts the
// server down. It may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.hooks.close()
		if s.ts != nil {
			s.ts.CloseClientConnections()
			s.ts.Close()
		}
	})
}

// Client returns a subkit client for this server: the three APIs' base URLs
// set to URL and the three valid credentials (AgencyKey, ChargeflowKey,
// PolarToken), then opts, which override them (for example
// subkit.WithRetryPolicy, or subkit.WithAgencyKey("wrong") to test a refusal).
func (s *Server) Client(opts ...subkit.Option) (*subkit.Client, error) {
	all := []subkit.Option{
		subkit.WithBaseURL(subkit.ChatDash, s.URL()),
		subkit.WithBaseURL(subkit.Chargeflow, s.URL()),
		subkit.WithBaseURL(subkit.Polar, s.URL()),
		subkit.WithAgencyKey(AgencyKey),
		subkit.WithChargeflowKey(ChargeflowKey),
		subkit.WithOrganizationToken(PolarToken),
	}
	return subkit.New(append(all, opts...)...)
}

func (s *Server) checkAPI(api subkit.API) {
	if _, ok := api.Info(); ok {
		return
	}
	panic(fmt.Sprintf("subkittest: unknown API %q", string(api)))
}

// apiHandler is one API's side of the server.
type apiHandler interface {
	// op names the operation a request reaches, "" for none (an unknown
	// path or method).
	op(r *http.Request) Op
	// serve runs the API's whole handling of a request without applying
	// anything: credentials, validation, seeds, the answer.
	serve(x *exchange) *outcome
	// tooManyRequests is the API's 429.
	tooManyRequests(retryAfter string) *outcome
	// contentType is the Content-Type of the API's JSON answers.
	contentType() string
}

// notFound answers a path that belongs to no API (by the SDK's API table):
// 404 with a request ID of its own, and no API records it.
func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", newUUID4())
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
}

// maxRequestBody bounds what the server reads of a request body: Polar's
// API_MAX_REQUEST_BODY_SIZE (server/polar/config.py), 10 MiB.
const maxRequestBody = 10 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	api, ok := subkit.APIForPath(r.URL.EscapedPath())
	if !ok {
		notFound(w)
		return
	}
	// A body declared too large is refused unread, as Polar's
	// MaxBodySizeMiddleware does.
	var body []byte
	var readErr error
	declaredTooLarge := r.ContentLength > maxRequestBody
	if !declaredTooLarge {
		body, readErr = io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	}
	rec := &Request{
		ID: s.newRequestID(api), API: api, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery,
		Header: redactHeader(r.Header), Body: body, Time: s.now(),
	}
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.trimRequests()
	s.mu.Unlock()

	x := &exchange{s: s, w: w, r: r, rec: rec, body: body, handler: s.handlers[api]}
	switch {
	case readErr != nil:
		return // the client went away while sending
	case api != subkit.Polar && (declaredTooLarge || len(body) > maxRequestBody):
		// Polar answers its own 413 (polarHandler.serve).
		x.write(answer(http.StatusRequestEntityTooLarge, "text/plain; charset=utf-8", []byte("Request Entity Too Large")))
		return
	}
	if op := x.handler.op(r); op != "" {
		if f := s.takeFault(api, op); f != nil {
			s.mu.Lock()
			rec.Fault = f.name
			s.mu.Unlock()
			x.extra = f.header
			f.play(x)
			return
		}
	}
	o := x.handle()
	x.apply(o)
	x.write(o)
}

// exchange is one request being answered.
type exchange struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	rec     *Request
	body    []byte
	handler apiHandler
	extra   http.Header    // added by a fault
	lag     *time.Duration // a ReadLag fault's, instead of the server's
}

// handle runs the API's normal handling without applying anything.
func (x *exchange) handle() *outcome { return x.handler.serve(x) }

// apply commits what the outcome creates, recording it on the request.
// What it creates is held at once (the accessors, reading the primary,
// see it) and visible to look-ups after the API's read lag.
func (x *exchange) apply(o *outcome) {
	if o.apply == nil {
		return
	}
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	before := len(s.subs)
	x.rec.Created = append(x.rec.Created, o.apply()...)
	o.apply = nil
	now := s.now()
	for _, st := range s.subs[before:] {
		st.appliedAt, st.visibleAt = now, now.Add(s.readLag(x.rec.API, x.lag))
	}
}

func (x *exchange) setHeaders(o *outcome) {
	h := x.w.Header()
	for k, v := range o.header {
		h[k] = v
	}
	for k, v := range x.extra {
		h[k] = append(h[k], v...)
	}
	h.Set(requestIDHeader(x.rec.API), x.rec.ID)
}

func (x *exchange) setStatus(status int) {
	x.s.mu.Lock()
	x.rec.Status = status
	x.s.mu.Unlock()
}

// write sends the outcome's answer.
func (x *exchange) write(o *outcome) {
	x.setHeaders(o)
	x.w.Header().Set("Content-Length", fmt.Sprint(len(o.body)))
	x.setStatus(o.status)
	x.w.WriteHeader(o.status)
	_, _ = x.w.Write(o.body)
}

// stream sends the outcome's status with a body of size bytes.
func (x *exchange) stream(o *outcome, size int64, declareLength bool) {
	x.setHeaders(o)
	if declareLength {
		x.w.Header().Set("Content-Length", fmt.Sprint(size))
	} else {
		x.w.Header().Del("Content-Length")
	}
	x.setStatus(o.status)
	x.w.WriteHeader(o.status)
	prefix := oversizedPrefix(o.body, size)
	if _, err := x.w.Write(prefix); err != nil {
		return
	}
	_, _ = io.CopyBuffer(x.w, &padding{n: size - int64(len(prefix))}, make([]byte, 32<<10))
}

// hangUp closes the connection without answering.
func (x *exchange) hangUp() {
	x.setStatus(0)
	hj, ok := x.w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// wait sleeps for d, or less when the server closes; it reports whether the
// whole d passed. It does not end when the client goes away: the server
// finishes its work regardless.
func (x *exchange) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.s.closed:
		return false
	}
}
