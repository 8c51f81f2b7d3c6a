package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// TestMain fails the package's test binary if any goroutine outlives its
// tests: a lease extender left running is a bug.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// process is one process of a fleet receiving Polar's webhooks: its own
// Receiver and Handler on its own loopback server.
type process struct {
	srv *httptest.Server
}

// newProcess starts a process whose handler runs fn with opts.
func newProcess(t *testing.T, fn func(ctx context.Context, ev *webhook.Event) error, opts ...webhook.HandlerOption) *process {
	t.Helper()
	r, err := webhook.NewPolarReceiver([]string{stdSecret})
	require.NoError(t, err)
	srv := httptest.NewServer(r.Handler(fn, opts...))
	t.Cleanup(srv.Close)
	return &process{srv: srv}
}

// answer is what a delivery was answered.
type answer struct {
	status     int
	body       string
	retryAfter string
}

// deliver sends body as a delivery of event id, signed now as Polar does,
// and returns the answer.
func (p *process) deliver(t *testing.T, id string, body []byte) answer {
	t.Helper()
	return post(t, p.srv.URL, subkittest.SignPolarWebhook(stdSecret, id, time.Now(), body), body)
}

func post(t *testing.T, url string, h http.Header, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = h
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return answer{status: res.StatusCode, body: strings.TrimSpace(string(b)), retryAfter: res.Header.Get("Retry-After")}
}

// subscription is the part of a subscription ordering and settling read,
// plus anything else a test puts in.
type subscription struct {
	ID         string         `json:"id"`
	CreatedAt  time.Time      `json:"created_at"`
	ModifiedAt *time.Time     `json:"modified_at"`
	Status     string         `json:"status"`
	Metadata   map[string]any `json:"metadata"`
}

// event returns the body of a subscription event of type typ about s.
func event(t *testing.T, typ string, s subscription) []byte {
	t.Helper()
	data, err := json.Marshal(s)
	require.NoError(t, err)
	return subkittest.PolarWebhookBody(typ, time.Now(), json.RawMessage(data))
}

// calls records the events fn was handed, in order.
type calls struct {
	mu  sync.Mutex
	evs []*webhook.Event
}

func (c *calls) add(ev *webhook.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.evs = append(c.evs, ev)
}

func (c *calls) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var ids []string
	for _, ev := range c.evs {
		ids = append(ids, ev.ID)
	}
	return ids
}

func (c *calls) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.evs)
}

// record is an fn that records each event and succeeds.
func (c *calls) record(_ context.Context, ev *webhook.Event) error {
	c.add(ev)
	return nil
}

func ptr[T any](v T) *T { return &v }

func readCloser(b []byte) io.ReadCloser { return io.NopCloser(bytes.NewReader(b)) }
