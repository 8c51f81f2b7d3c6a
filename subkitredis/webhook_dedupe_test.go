package subkitredis_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// webhookProcess is one process of a fleet receiving Polar's webhooks: its
// own Redis connection pool and Store, its own Handler on its own server.
type webhookProcess struct {
	url string
}

func newWebhookProcess(t *testing.T, rs *redistest.Server, secret string, fn func(context.Context, *webhook.Event) error) *webhookProcess {
	t.Helper()
	r, err := webhook.NewPolarReceiver([]string{secret})
	require.NoError(t, err)
	srv := httptest.NewServer(r.Handler(fn, webhook.WithDedupe(subkitredis.NewStore(rs.NewClient()))))
	t.Cleanup(srv.Close)
	return &webhookProcess{url: srv.URL}
}

// deliver POSTs body as a delivery of event id, signed now, and returns the
// status and body of the answer.
func (p *webhookProcess) deliver(t *testing.T, secret, id string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header = subkittest.SignPolarWebhook(secret, id, time.Now(), body)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res.StatusCode, strings.TrimSpace(string(b))
}

// TestWebhookHandledOnceAcrossRedisFleet: one event delivered ten times at
// once, five times to each of two processes sharing Redis, runs fn once;
// a failure is retried by Polar and runs fn again; an older state of a
// subscription that another process already handled a newer one of never
// reaches fn.
func TestWebhookHandledOnceAcrossRedisFleet(t *testing.T) {
	rs := redistest.NewServer(t)
	secret := subkittest.NewPolarWebhookSecret()
	var mu sync.Mutex
	var ran []string
	var failOnce atomic.Bool
	failOnce.Store(true)
	fn := func(_ context.Context, ev *webhook.Event) error {
		time.Sleep(50 * time.Millisecond) // the other deliveries arrive meanwhile
		if ev.ID == "evt-fail" && failOnce.Swap(false) {
			return errors.New("downstream unavailable")
		}
		mu.Lock()
		defer mu.Unlock()
		ran = append(ran, ev.ID)
		return nil
	}
	procs := []*webhookProcess{newWebhookProcess(t, rs, secret, fn), newWebhookProcess(t, rs, secret, fn)}

	body := subkittest.PolarWebhookBody("order.created", time.Now(), map[string]any{"id": "ord-1"})
	statuses := make([]int, 10)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i], _ = procs[i%2].deliver(t, secret, "evt-ten", body)
		}()
	}
	wg.Wait()
	conflicts := 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
		case http.StatusConflict: // come back later: Polar retries
			conflicts++
		default:
			t.Errorf("a delivery answered %d", s)
		}
	}
	t.Logf("ten deliveries of one ID across two processes: answers %v, then %d retried", statuses, conflicts)
	for range conflicts {
		status, text := procs[0].deliver(t, secret, "evt-ten", body)
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, "duplicate: already handled", text)
	}

	status, _ := procs[0].deliver(t, secret, "evt-fail", body)
	assert.Equal(t, http.StatusInternalServerError, status)
	status, text := procs[1].deliver(t, secret, "evt-fail", body) // Polar's retry, to the other process
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "handled", text)

	sub := func(modified string) []byte {
		return subkittest.PolarWebhookBody(webhook.SubscriptionUpdated, time.Now(), map[string]any{
			"id": "sub-1", "created_at": "2026-12-06T10:00:00Z", "modified_at": modified})
	}
	_, text = procs[0].deliver(t, secret, "evt-new", sub("2026-12-06T10:05:00Z"))
	assert.Equal(t, "handled", text)
	_, text = procs[1].deliver(t, secret, "evt-old", sub("2026-12-06T10:01:00Z"))
	assert.Contains(t, text, "stale")

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"evt-ten", "evt-fail", "evt-new"}, ran, fmt.Sprintf("answers %v", statuses))
}
