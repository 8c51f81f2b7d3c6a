package subkit_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The secret audit: every error kind, every log line at Debug and every way
// of printing the SDK's values, searched for the credentials in every form a
// formatter could turn them into.

// Distinctive credentials, each with a middle no other text has.
const (
	auditAgencyKey  = "AUDITagency-7c1e94b0d2f6-key"
	auditCFKey      = "AUDITcf-5a8d30e6b1c9-key"
	auditPolarToken = "polar_oat_AUDIT-e2b7f19c04a8-token"
)

var auditSecrets = []string{auditAgencyKey, auditCFKey, auditPolarToken}

// auditForms are the forms a credential takes in formatted output: as is,
// in hex (%x, %X), in base64, and its distinctive middle (a cut or partly
// masked copy).
func auditForms(secret string) []string {
	mid := secret[len(secret)/2-6 : len(secret)/2+6]
	return []string{secret, hex.EncodeToString([]byte(secret)), strings.ToUpper(hex.EncodeToString([]byte(secret))),
		base64.StdEncoding.EncodeToString([]byte(secret)), base64.RawURLEncoding.EncodeToString([]byte(secret)), mid}
}

// auditor collects what it was shown and checks it for credentials.
type auditor struct {
	t       *testing.T
	checked int
}

func (a *auditor) check(where, text string) {
	a.t.Helper()
	a.checked++
	for _, s := range auditSecrets {
		for _, form := range auditForms(s) {
			if strings.Contains(text, form) {
				a.t.Errorf("%s carries a credential (%q): %s", where, form, text)
				return
			}
		}
	}
}

// auditVerbs are the verbs a caller may print a value with.
var auditVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}

// value prints v with every verb and checks the output.
func (a *auditor) value(where string, v any) {
	a.t.Helper()
	for _, verb := range auditVerbs {
		a.check(where+" "+verb, fmt.Sprintf(verb, v))
	}
}

// err checks an error, everything errors.As and errors.Unwrap reach from
// it, and the fields of its *APIError or *ValidationError.
func (a *auditor) err(where string, err error) {
	a.t.Helper()
	if err == nil {
		a.t.Errorf("%s: no error", where)
		return
	}
	a.check(where+" Error()", err.Error())
	a.value(where, err)
	var ae *subkit.APIError
	if errors.As(err, &ae) {
		a.value(where+" *APIError", ae)
		a.value(where+" APIError", *ae)
		a.check(where+" APIError.Body", string(ae.Body))
		a.check(where+" APIError.Message", ae.Message)
		a.value(where+" APIError.Fields", ae.Fields)
	}
	var ve *subkit.ValidationError
	if errors.As(err, &ve) {
		a.value(where+" *ValidationError", ve)
		a.value(where+" ValidationError", *ve)
	}
	seen := map[error]bool{}
	var walk func(e error)
	walk = func(e error) {
		if e == nil || seen[e] {
			return
		}
		seen[e] = true
		a.check(where+" wrapped "+fmt.Sprintf("%T", e), e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
}

// syncBuffer is a log sink safe for the transport's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// scriptedServer answers each request with the next scripted responder for
// its API (by path), and records every credential header it received.
type scriptedServer struct {
	*httptest.Server
	mu     sync.Mutex
	script map[subkit.API][]http.HandlerFunc
}

func newScriptedServer(t *testing.T) *scriptedServer {
	s := &scriptedServer{script: map[subkit.API][]http.HandlerFunc{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := subkit.Polar
		switch {
		case strings.HasPrefix(r.URL.Path, "/v1/public/"):
			api = subkit.ChatDash
		case strings.HasPrefix(r.URL.Path, "/public/"):
			api = subkit.Chargeflow
		}
		s.mu.Lock()
		var h http.HandlerFunc
		if q := s.script[api]; len(q) > 0 {
			h, s.script[api] = q[0], q[1:]
		}
		s.mu.Unlock()
		if h == nil {
			t.Errorf("unscripted request %s %s", r.Method, r.URL)
			w.WriteHeader(599)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptedServer) then(api subkit.API, hs ...http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script[api] = append(s.script[api], hs...)
}

// credentialOf is the credential a request carried, as its API sends it.
func credentialOf(r *http.Request) string {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return k
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// echoing answers status with a body in the API's error shapes that quotes
// the request's credential back, as a careless gateway or a validation
// error that echoes its input would, and puts it in the request-ID header.
func echoing(status int, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cred := "the-credential"
		if auditEcho.Load() {
			cred = credentialOf(r)
		}
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-"+cred)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"message":"key %[1]s refused","error":"bad_%[1]s","error_description":"token %[1]s",`+
			`"requestId":"%[1]s","detail":[{"loc":["header","%[1]s"],"msg":"%[1]s","type":"%[1]s","input":"%[1]s"}]}`, cred)
	}
}

// unreadable answers 201 with a body whose fields have the wrong types,
// quoting the credential (when auditEcho) in them: decoding errors may quote
// what they could not parse.
func unreadable(w http.ResponseWriter, r *http.Request) {
	cred := "the-credential"
	if auditEcho.Load() {
		cred = credentialOf(r)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"id":"%[1]s","created_at":"%[1]s","modified_at":"%[1]s","created":"%[1]s","start_date":"%[1]s",`+
		`"current_period_start":"%[1]s","frequency_count":"%[1]s","metadata":{"k":["%[1]s"]}}`, cred)
}

func plain(status int, body string, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

// hangUp reads the request and closes the connection without an answer.
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// auditEcho makes echoing quote the request's credential back.
var auditEcho atomic.Bool

func TestNoCredentialInAnyErrorLogOrPrintedValue(t *testing.T) {
	t.Run("server quotes nothing", func(t *testing.T) { auditEcho.Store(false); auditAll(t) })
	t.Run("server quotes the credential back", func(t *testing.T) {
		auditEcho.Store(true)
		defer auditEcho.Store(false)
		auditAll(t)
	})
}

func auditAll(t *testing.T) {
	a := &auditor{t: t}
	srv := newScriptedServer(t)
	var logs syncBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true}))

	// Where a redirect points: it must receive nothing.
	var elsewhereGot []string
	var elsewhereMu sync.Mutex
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhereMu.Lock()
		elsewhereGot = append(elsewhereGot, credentialOf(r))
		elsewhereMu.Unlock()
	}))
	defer elsewhere.Close()

	opts := []subkit.Option{
		subkit.WithAgencyKey(auditAgencyKey), subkit.WithChargeflowKey(auditCFKey), subkit.WithOrganizationToken(auditPolarToken),
		subkit.WithBaseURL(subkit.ChatDash, srv.URL), subkit.WithBaseURL(subkit.Chargeflow, srv.URL), subkit.WithBaseURL(subkit.Polar, srv.URL),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, SettleTime: time.Millisecond}),
		subkit.WithLogger(logger), subkit.WithUserAgent("audit/1.0"),
	}
	c, err := subkit.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	var info subkit.ResponseInfo
	infoOpt := subkit.WithResponseInfo(&info)

	creates := map[subkit.API]func(c *subkit.Client, opts ...subkit.CallOption) error{
		subkit.ChatDash: func(c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams(), opts...)
			return err
		},
		subkit.Chargeflow: func(c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateForDispute(ctx, disputeID, minimalDisputeParams(), opts...)
			return err
		},
		subkit.Polar: func(c *subkit.Client, opts ...subkit.CallOption) error {
			_, err := c.Subscriptions.CreateForCustomer(ctx, relPolarParams(), opts...)
			return err
		},
	}
	errorsSeen := 0
	audit := func(where string, err error) {
		t.Helper()
		errorsSeen++
		a.err(where, err)
		a.value(where+" ResponseInfo", info)
		logger.Debug("call failed", "where", where, "err", err) // as a caller would log it
	}

	// Every status class, per API, from a server that echoes the credential.
	for api, create := range creates {
		for _, status := range []int{400, 401, 403, 404, 409, 422, 500, 502, 503} {
			srv.then(api, echoing(status))
			audit(fmt.Sprintf("%s %d", api, status), create(c, infoOpt))
		}
		srv.then(api, echoing(429, "Retry-After", "0"), echoing(429, "Retry-After", "0"), echoing(429), echoing(429))
		audit(string(api)+" 429 after every retry", create(c, infoOpt))
		srv.then(api, echoing(429, "Retry-After", "3600"))
		audit(string(api)+" 429 longer than allowed", create(c, infoOpt))
		srv.then(api, echoing(302, "Location", elsewhere.URL+"/steal"))
		audit(string(api)+" redirect", create(c, infoOpt))
		srv.then(api, unreadable) // a success body whose fields do not decode
		audit(string(api)+" unreadable success", create(c, infoOpt))
		srv.then(api, plain(201, `{"id":"`+strings.Repeat("x", 5<<20)+`"}`))
		audit(string(api)+" oversized success", create(c, infoOpt))
		srv.then(api, hangUp)
		audit(string(api)+" connection closed after sending", create(c, infoOpt))
	}
	// A timeout after sending.
	slow, err := subkit.New(append(opts, subkit.WithTimeout(30*time.Millisecond))...)
	if err != nil {
		t.Fatal(err)
	}
	srv.then(subkit.Polar, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // the server notices a client gone only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	audit("polar timeout", creates[subkit.Polar](slow, infoOpt))
	slow.CloseIdleConnections()

	// A refused connection: a port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + l.Addr().String()
	_ = l.Close()
	refused, err := subkit.New(append(opts, subkit.WithBaseURL(subkit.Chargeflow, closedURL))...)
	if err != nil {
		t.Fatal(err)
	}
	audit("chargeflow connection refused", creates[subkit.Chargeflow](refused, infoOpt))

	// Validation and missing credentials: nothing sent.
	_, err = c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: auditPolarToken, CustomerID: "x"})
	audit("polar validation", err)
	_, err = c.Subscriptions.CreateConnect(ctx, "", nil)
	audit("chatdash validation", err)
	_, err = c.Subscriptions.CreateForDispute(ctx, "nope", &subkit.DisputeSubscriptionParams{})
	audit("chargeflow validation", err)
	onlyPolar, err := subkit.New(subkit.WithOrganizationToken(auditPolarToken), subkit.WithBaseURL(subkit.Polar, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	audit("chatdash missing credential", creates[subkit.ChatDash](onlyPolar))
	audit("chargeflow missing credential", creates[subkit.Chargeflow](onlyPolar))

	// Reconciliation: a keyed create whose answer is lost, then a look-up
	// that is refused: the outcome stays unknown, and the error wraps both.
	srv.then(subkit.Polar, hangUp, echoing(401))
	audit("polar reconcile with a failed look-up", creates[subkit.Polar](c, subkit.WithIdempotencyKey("order-audit-1"), infoOpt))
	srv.then(subkit.Chargeflow, echoing(403))
	audit("chargeflow replay look-up refused", creates[subkit.Chargeflow](c, subkit.WithIdempotencyKey("order-audit-2"), infoOpt))
	_, err = c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams(), subkit.WithIdempotencyKey(auditAgencyKey))
	audit("chatdash keyed", err)

	// Look-ups.
	srv.then(subkit.Polar, echoing(404))
	_, err = c.Subscriptions.Get(ctx, customerID, infoOpt)
	audit("polar get", err)
	srv.then(subkit.Polar, echoing(500), echoing(500), echoing(500), echoing(500))
	for _, err := range c.Subscriptions.List(ctx, &subkit.SubscriptionListParams{Metadata: map[string]string{"order": "1"}}) {
		audit("polar list", err)
	}
	srv.then(subkit.Chargeflow, plain(200, `{"id":"`+disputeID+`","subscription":null}`, "Content-Type", "application/json"))
	_, err = c.Subscriptions.GetForDispute(ctx, disputeID, infoOpt)
	audit("chargeflow dispute without subscription", err)
	srv.then(subkit.ChatDash, echoing(403))
	_, err = c.Subscriptions.GetConnect(ctx, chatdashAccount, "sub_1", infoOpt)
	audit("chatdash get", err)
	srv.then(subkit.ChatDash, echoing(200))
	for _, err := range c.Subscriptions.ListConnect(ctx, chatdashAccount, nil) {
		audit("chatdash list", err)
	}

	// Options New refuses, some of them given a credential in the wrong place.
	for name, opt := range map[string]subkit.Option{
		"credential with a newline":    subkit.WithOrganizationToken(auditPolarToken + "\n"),
		"credential with a space":      subkit.WithAgencyKey(" " + auditAgencyKey),
		"credential in the URL query":  subkit.WithBaseURL(subkit.Polar, "https://api.polar.sh/?token="+auditPolarToken),
		"credential as URL user info":  subkit.WithBaseURL(subkit.Chargeflow, "https://"+auditCFKey+"@api.chargeflow.io"),
		"credential as URL password":   subkit.WithBaseURL(subkit.ChatDash, "https://u:"+auditAgencyKey+"@api.chat-dash.com"),
		"credential in a bad scheme":   subkit.WithBaseURL(subkit.Polar, "ftp://"+auditPolarToken),
		"credential in a user agent":   subkit.WithUserAgent(auditAgencyKey + "\x00"),
		"credential in a fragment URL": subkit.WithBaseURL(subkit.Polar, "https://api.polar.sh/#"+auditPolarToken),
	} {
		_, err := subkit.New(subkit.WithAgencyKey(auditAgencyKey), opt)
		audit("New: "+name, err)
	}
	t.Setenv("POLAR_ACCESS_TOKEN", auditPolarToken+"\x01")
	_, err = subkit.New(subkit.WithEnv())
	audit("New: WithEnv with a control character", err)

	// Every value that holds configuration, with every verb, alone and
	// inside the containers a caller would put them in.
	a.value("*Client", c)
	a.value("Client", *c)
	a.value("*SubscriptionsService", c.Subscriptions)
	a.value("SubscriptionsService", *c.Subscriptions)
	a.value("RetryPolicy", subkit.DefaultRetryPolicy())
	a.value("[]Option", opts)
	for i, o := range opts {
		a.value(fmt.Sprintf("Option %d", i), o)
	}
	a.value("CallOption key", subkit.WithIdempotencyKey("order-1"))
	a.value("CallOption info", infoOpt)
	a.value("ResponseInfo", info)
	a.value("struct with *Client", struct{ Client *subkit.Client }{c})
	a.value("struct with Client", struct{ Client subkit.Client }{*c})
	a.value("[]*Client", []*subkit.Client{c, refused})
	a.value("map of Client", map[string]subkit.Client{"c": *c})
	a.value("struct with *Client, unexported", struct{ c *subkit.Client }{c})
	// testify prints a failed comparison with go-spew, which walks
	// unexported fields and follows pointers without calling any method.
	// The clients compared have made no call: go-spew would also walk into
	// net/http's pooled connections, whose buffers hold the bytes of the
	// last request written (its Authorization header included), which no
	// client library can scrub.
	fresh, err := subkit.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	other, err := subkit.New(subkit.WithAgencyKey("another-key"))
	if err != nil {
		t.Fatal(err)
	}
	var ct captureT
	assert.Equal(&ct, *fresh, *other)
	assert.Equal(&ct, fresh, other)
	assert.Equal(&ct, struct{ c *subkit.Client }{fresh}, struct{ c *subkit.Client }{other})
	if len(ct.msgs) != 3 {
		t.Errorf("testify reported %d differences, want 3", len(ct.msgs))
	}
	a.check("testify's diff of two clients", strings.Join(ct.msgs, "\n"))
	logger.Info("values", "client", c, "client_value", *c, "service", c.Subscriptions, "policy", subkit.DefaultRetryPolicy())

	// The logs: one Debug line per attempt and a Warn line per retry were
	// written, and none carries a credential.
	out := logs.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	debug, warn := strings.Count(out, `"level":"DEBUG","source"`), strings.Count(out, `"level":"WARN"`)
	for i, l := range lines {
		a.check(fmt.Sprintf("log line %d", i+1), l)
	}
	t.Logf("audited %d errors and %d texts; %d log lines (%d Debug, %d Warn)", errorsSeen, a.checked, len(lines), debug, warn)
	if debug < 50 || warn < 10 {
		t.Errorf("%d Debug and %d Warn lines: the audit did not log what it means to", debug, warn)
	}
	elsewhereMu.Lock()
	if len(elsewhereGot) > 0 {
		t.Errorf("a redirect was followed: %d request(s) reached another host", len(elsewhereGot))
	}
	elsewhereMu.Unlock()
}

// captureT collects what testify reports.
type captureT struct{ msgs []string }

func (c *captureT) Errorf(format string, args ...any) {
	c.msgs = append(c.msgs, fmt.Sprintf(format, args...))
}

// TestFakesRecordNoCredential: subkittest.Request.Header redacts every
// credential, keeping the scheme, for the three APIs.
func TestFakesRecordNoCredential(t *testing.T) {
	a := &auditor{t: t}
	srv := subkittest.NewServer(subkittest.WithImplicitResources())
	defer srv.Close()
	srv.AddCredential(subkit.ChatDash, auditAgencyKey)
	srv.AddCredential(subkit.Chargeflow, auditCFKey)
	srv.AddCredential(subkit.Polar, auditPolarToken)
	c, err := srv.Client(subkit.WithAgencyKey(auditAgencyKey), subkit.WithChargeflowKey(auditCFKey), subkit.WithOrganizationToken(auditPolarToken))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdleConnections()
	ctx := context.Background()
	if _, err := c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions.CreateForDispute(ctx, disputeID, minimalDisputeParams()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Subscriptions.CreateForCustomer(ctx, relPolarParams()); err != nil {
		t.Fatal(err)
	}
	want := map[subkit.API][2]string{
		subkit.ChatDash: {"Authorization", "[REDACTED]"}, subkit.Chargeflow: {"X-Api-Key", "[REDACTED]"},
		subkit.Polar: {"Authorization", "Bearer [REDACTED]"},
	}
	for api, w := range want {
		reqs := srv.Requests(api)
		if len(reqs) != 1 {
			t.Fatalf("%s: %d requests", api, len(reqs))
		}
		if got := reqs[0].Header.Get(w[0]); got != w[1] {
			t.Errorf("%s: recorded %s %q, want %q", api, w[0], got, w[1])
		}
		a.value(string(api)+" subkittest.Request", reqs[0])
		a.value(string(api)+" subkittest.Request.Header", reqs[0].Header)
	}
	for _, s := range srv.ChatDashSubscriptions() {
		a.value("subkittest.ChatDashSubscription", s)
	}
	for _, s := range srv.ChargeflowSubscriptions() {
		a.value("subkittest.ChargeflowSubscription", s)
	}
	for _, s := range srv.PolarSubscriptions() {
		a.value("subkittest.PolarSubscription", s)
	}
}
