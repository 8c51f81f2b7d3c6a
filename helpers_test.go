package subkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// Credentials used by the unit tests. The audit tests look for them in every
// error, log line and formatted value.
const (
	testAgencyKey   = "CD.a1b2c3d4e5f60718293a4b5c6d7e8f90"
	testCFKey       = "cfk_live_SECRET_9f8e7d6c5b4a"
	testPolarToken  = "polar_oat_SECRET_tokenvalue0123456789"
	polarCreateURL  = "https://api.polar.sh/v1/subscriptions/"
	chatdashAccount = "acct_1NXWPnCo6bFb1KQe"
	disputeID       = "65f0c1d2e3a4b5c6d7e8f901"
	productID       = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	customerID      = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
)

var (
	chatdashCreateURL   = "https://api.chat-dash.com/v1/public/stripe/connect/accounts/" + chatdashAccount + "/subscriptions"
	chargeflowCreateURL = "https://api.chargeflow.io/public/2025-04-01/disputes/" + disputeID + "/subscription"
)

// The look-ups' URLs, and the ID of the Polar fixture's subscription.
const (
	polarListURL   = "https://api.polar.sh/v1/subscriptions/"
	disputeGetURL  = "https://api.chargeflow.io/public/2025-04-01/disputes/" + disputeID
	connectListURL = "https://api.chat-dash.com/v1/public/stripe/connect/accounts/" + chatdashAccount + "/subscriptions"
	subscriptionID = "0b7c6a54-8a0e-4c4e-9d44-2f2f5b1f6a10"
)

// recorded is what the mock server received in one request.
type recorded struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// mockServer is a per-test httpmock transport that records every request.
type mockServer struct {
	*httpmock.MockTransport
	mu   sync.Mutex
	reqs []recorded
}

func newMock(t *testing.T) *mockServer {
	t.Helper()
	m := &mockServer{MockTransport: httpmock.NewMockTransport()}
	m.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		m.record(r)
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		return httpmock.NewStringResponse(599, "no responder"), nil
	})
	return m
}

func (m *mockServer) record(r *http.Request) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reqs = append(m.reqs, recorded{Method: r.Method, URL: r.URL.String(), Header: r.Header.Clone(), Body: body})
}

func (m *mockServer) requests() []recorded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]recorded(nil), m.reqs...)
}

// on answers method+url with the responders in turn; the last one repeats.
func (m *mockServer) on(method, url string, answers ...httpmock.Responder) {
	var mu sync.Mutex
	i := 0
	m.RegisterResponder(method, url, func(r *http.Request) (*http.Response, error) {
		m.record(r)
		mu.Lock()
		a := answers[min(i, len(answers)-1)]
		i++
		mu.Unlock()
		return a(r)
	})
}

// answer is a status with a body and optional header pairs.
func answer(status int, body string, header ...string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		if resp.Header.Get("Content-Type") == "" && len(body) > 0 && (body[0] == '{' || body[0] == '[') {
			resp.Header.Set("Content-Type", "application/json")
		}
		resp.Request = r
		return resp, nil
	}
}

func fail(err error) httpmock.Responder {
	return func(*http.Request) (*http.Response, error) { return nil, err }
}

// fastPolicy keeps retry waits to milliseconds.
func fastPolicy() subkit.RetryPolicy {
	return subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
}

// newClient is a client of m with its own MemoryStore: every mock answers
// at the APIs' real URLs with one credential, so clients of the process's
// default store would replay each other's records across tests.
func newClient(t *testing.T, m *mockServer, opts ...subkit.Option) *subkit.Client {
	t.Helper()
	all := append([]subkit.Option{
		subkit.WithIdempotencyStore(subkit.NewMemoryStore()),
		subkit.WithAgencyKey(testAgencyKey),
		subkit.WithChargeflowKey(testCFKey),
		subkit.WithOrganizationToken(testPolarToken),
		subkit.WithHTTPClient(&http.Client{Transport: m}),
		subkit.WithRetryPolicy(fastPolicy()),
	}, opts...)
	c, err := subkit.New(all...)
	require.NoError(t, err)
	return c
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

// requireJSON compares two JSON documents as values, not as text.
func requireJSON(t *testing.T, want string, got []byte) {
	t.Helper()
	var w, g any
	require.NoError(t, json.Unmarshal([]byte(want), &w), "want is not JSON")
	d := json.NewDecoder(bytes.NewReader(got))
	require.NoError(t, d.Decode(&g), "body is not JSON: %s", got)
	require.Equal(t, w, g, "body: %s", got)
}

// fuzzFixture is fixture for a fuzz target's seeds.
func fuzzFixture(f *testing.F, name string) []byte {
	f.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// failingStore is a store that cannot be reached; tries counts the calls
// made to it, when not nil.
type failingStore struct{ tries *atomic.Int32 }

func (s failingStore) Lock(context.Context, string, subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	if s.tries != nil {
		s.tries.Add(1)
	}
	return nil, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
}

// call runs one create against c and returns its error.
type call func(c *subkit.Client) error

func connect(account string, edit func(p *subkit.ConnectSubscriptionParams)) call {
	return func(c *subkit.Client) error {
		p := fullConnectParams()
		if edit != nil {
			edit(p)
		}
		_, err := c.Subscriptions.CreateConnect(context.Background(), account, p)
		return err
	}
}

func dispute(id string, edit func(p *subkit.DisputeSubscriptionParams)) call {
	return func(c *subkit.Client) error {
		p := minimalDisputeParams()
		if edit != nil {
			edit(p)
		}
		_, err := c.Subscriptions.CreateForDispute(context.Background(), id, p)
		return err
	}
}

func polarCustomer(edit func(p *subkit.CustomerSubscriptionParams)) call {
	return func(c *subkit.Client) error {
		p := &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}
		if edit != nil {
			edit(p)
		}
		_, err := c.Subscriptions.CreateForCustomer(context.Background(), p)
		return err
	}
}

func pairs(n int) subkit.Metadata {
	md := subkit.Metadata{}
	for i := range n {
		md["k"+strconv.Itoa(i)] = i
	}
	return md
}

// logLines captures a logger's output as decoded JSON lines.
type logLines struct{ buf bytes.Buffer }

func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(&l.buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *logLines) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		out = append(out, m)
	}
	return out
}

func (l *logLines) at(t *testing.T, level string) []map[string]any {
	var out []map[string]any
	for _, m := range l.lines(t) {
		if m["level"] == level {
			out = append(out, m)
		}
	}
	return out
}

// Transport failures: refused fails before anything is sent, reset after
// the request may have been written.
var (
	refused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	reset   = &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
)
