package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

const internalSecret = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

// signedRequest is a delivery of body as event id, signed now with
// internalSecret the standard way.
func signedRequest(id string, body []byte) *http.Request {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(internalSecret, "whsec_"))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return req
}

type settleCall struct {
	store subkit.IdempotencyStore
	key   string
	subID string
}

// TestHandlerSettlesKeyedCreates: every subscription event carrying the
// SDK's idempotency key — fresh or stale — hands the subscription and the
// handler's store to the settling step; events without a key, and other
// types, do not.
func TestHandlerSettlesKeyedCreates(t *testing.T) {
	r, err := NewPolarReceiver([]string{internalSecret})
	if err != nil {
		t.Fatal(err)
	}
	store := subkit.NewMemoryStore()
	var mu sync.Mutex
	var got []settleCall
	h := r.Handler(func(context.Context, *Event) error { return nil }, WithDedupe(store)).(*handler)
	h.c.settle = func(_ context.Context, s subkit.IdempotencyStore, sub *subkit.Subscription) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, settleCall{store: s, key: sub.IdempotencyKey(), subID: sub.ID})
		return true, nil
	}
	deliver := func(id, body string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest(id, []byte(body)))
		return rec.Code
	}
	const keyed = `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00Z","data":{"id":"sub-k","created_at":"2026-12-06T10:00:00Z","modified_at":null,"metadata":{"subkit_idempotency_key":"order-7"}}}`
	const newer = `{"type":"subscription.updated","timestamp":"2026-12-06T10:00:01Z","data":{"id":"sub-k","created_at":"2026-12-06T10:00:00Z","modified_at":"2026-12-06T10:00:05Z","metadata":{"subkit_idempotency_key":"order-7"}}}`
	const unkeyed = `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00Z","data":{"id":"sub-u","created_at":"2026-12-06T10:00:00Z","metadata":{"plan":"pro"}}}`
	const order = `{"type":"order.created","timestamp":"2026-12-06T10:00:00Z","data":{"id":"ord-1","metadata":{"subkit_idempotency_key":"order-7"}}}`

	for _, d := range []struct{ id, body string }{{"e-newer", newer}, {"e-keyed", keyed}, {"e-unkeyed", unkeyed}, {"e-order", order}} {
		if code := deliver(d.id, d.body); code != http.StatusOK {
			t.Fatalf("%s answered %d", d.id, code)
		}
	}
	// e-keyed came after e-newer: stale for fn, but it proves the create
	// all the same.
	want := []settleCall{{store, "order-7", "sub-k"}, {store, "order-7", "sub-k"}}
	if len(got) != len(want) {
		t.Fatalf("settled %d times, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("settle call %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestLogsHoldNoSecret runs every path that logs and looks for the secret,
// its key and the signatures in the log.
func TestLogsHoldNoSecret(t *testing.T) {
	r, err := NewPolarReceiver([]string{internalSecret})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var n int
	h := r.Handler(func(context.Context, *Event) error {
		n++
		if n == 1 {
			return context.DeadlineExceeded
		}
		return nil
	}, WithDedupe(subkit.NewMemoryStore()), WithLogger(logger))
	body := []byte(`{"type":"order.created","timestamp":"2026-12-06T10:00:00Z","data":{"id":"ord-1"}}`)
	var sigs []string
	for _, req := range []*http.Request{
		signedRequest("e-1", body), signedRequest("e-1", body), signedRequest("e-1", body), // failed, handled, duplicate
		signedRequest("e-2", []byte(`{}`)), // malformed
		func() *http.Request { // forged
			req := signedRequest("e-3", body)
			req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
			return req
		}(),
	} {
		sigs = append(sigs, strings.TrimPrefix(req.Header.Get("webhook-signature"), "v1,"))
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	log := buf.String()
	for _, want := range []string{"fn failed", "delivery answered", "delivery refused", "duplicate"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range append([]string{internalSecret, strings.TrimPrefix(internalSecret, "whsec_"), `"id":"ord-1"`}, sigs...) {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds %q:\n%s", secret, log)
		}
	}
}

// TestHandlerComesBackWhenItCannotSettle: while the keyed create's call
// holds its key past the settle wait, or the store fails, the delivery asks
// Polar to come back later, before fn runs and without recording anything;
// the retry settles and runs fn.
func TestHandlerComesBackWhenItCannotSettle(t *testing.T) {
	r, err := NewPolarReceiver([]string{internalSecret})
	if err != nil {
		t.Fatal(err)
	}
	var ran int
	h := r.Handler(func(context.Context, *Event) error { ran++; return nil }, WithDedupe(subkit.NewMemoryStore())).(*handler)
	outcomes := []error{context.DeadlineExceeded, errors.New("connection reset"), nil}
	h.c.settle = func(ctx context.Context, _ subkit.IdempotencyStore, _ *subkit.Subscription) (bool, error) {
		err := outcomes[0]
		outcomes = outcomes[1:]
		return err == nil, err
	}
	const keyed = `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00Z","data":{"id":"sub-k","created_at":"2026-12-06T10:00:00Z","metadata":{"subkit_idempotency_key":"order-7"}}}`
	for _, want := range []int{http.StatusConflict, http.StatusServiceUnavailable, http.StatusOK} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, signedRequest("e-keyed", []byte(keyed)))
		if rec.Code != want {
			t.Fatalf("answered %d, want %d (%s)", rec.Code, want, rec.Body)
		}
		if want != http.StatusOK && (ran != 0 || rec.Header().Get("Retry-After") == "") {
			t.Fatalf("fn ran %d times, Retry-After %q", ran, rec.Header().Get("Retry-After"))
		}
	}
	if ran != 1 {
		t.Fatalf("fn ran %d times, want 1", ran)
	}
}
