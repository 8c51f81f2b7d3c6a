package subkittest

import (
	"bytes"
	"context"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
)

// send delivers ev as Polar's webhook_event.send task does, its retries
// included (server/polar/webhook/tasks.py): a disabled endpoint skips the
// event; a delivered event is not sent again unless redelivered; the FIFO
// guard holds it while earlier events of its endpoint have had no attempt;
// each failed attempt is retried after the backoff until
// WebhookMaxAttempts deliveries failed, and then the event is given up.
func (s *Server) send(ev *webhookEvent, redeliver bool) {
	h := &s.hooks
	defer func() {
		h.mu.Lock()
		h.addActive(-1)
		h.mu.Unlock()
		h.wg.Done()
	}()
	for {
		h.mu.Lock()
		ep := ev.endpoint
		wake := ep.wake
		switch {
		case !ep.enabled:
			ev.skipped = true
			h.mu.Unlock()
			return
		case ev.succeeded != nil && *ev.succeeded && !redeliver:
			h.mu.Unlock()
			return
		}
		if wait := h.guard(ev); wait > 0 {
			h.mu.Unlock()
			// At least a millisecond: a tiny time scale must not spin.
			if !h.sleep(max(ep.scale(wait), time.Millisecond), wake) {
				return
			}
			continue
		}
		ev.skipped = false
		copies := 1
		if ev.copies > 0 {
			copies, ev.copies = ev.copies, 0
		}
		secret, legacy := ep.secret, ep.cfg.LegacySignature
		h.mu.Unlock()

		results := s.attempt(ev, secret, legacy, copies)

		h.mu.Lock()
		succeeded := false
		for i, r := range results {
			d := &webhookDelivery{id: newUUID4(), event: ev, createdAt: s.now(), succeeded: r.succeeded, httpCode: r.code,
				response: r.response, redelivery: redeliver, copy: i > 0}
			h.deliveries = append(h.deliveries, d)
			ev.deliveries++
			ev.attempted, ev.lastHTTPCode = true, r.code
			succeeded = succeeded || r.succeeded
		}
		now := s.now()
		ev.modifiedAt = &now
		if succeeded {
			ev.succeeded = ptrTo(true)
			h.mu.Unlock()
			return
		}
		if ev.deliveries >= WebhookMaxAttempts {
			if ev.succeeded == nil || !*ev.succeeded {
				ev.succeeded = ptrTo(false)
			}
			h.failed(ev)
			h.mu.Unlock()
			return
		}
		backoff := webhookBackoff(ev.deliveries)
		h.mu.Unlock()
		if !h.sleep(ep.scale(backoff), wake) {
			return
		}
	}
}

// webhookBackoff is dramatiq's compute_backoff with jitter as Polar calls
// it, after failed deliveries: a random delay from half of
// unit·2^failed to all of it, the whole at most 20 minutes.
func webhookBackoff(failed int) time.Duration {
	full := min(webhookBackoffUnit<<min(failed, 20), webhookMaxBackoff)
	half := full / 2
	return half + time.Duration(mrand.Int64N(int64(half)+1))
}

// guard is Polar's FIFO guard: how long ev waits before an attempt
// because of earlier events of its endpoint, made within the last minute,
// that have had no attempt yet (300 ms each, a minute at most). An event
// of a reversed create waits instead for the later events of its create.
// It runs with the lock held.
func (h *webhookState) guard(ev *webhookEvent) time.Duration {
	if ev.after != nil {
		for _, later := range ev.after {
			if !later.attempted && later.succeeded == nil && !later.skipped {
				return webhookGuardDelay
			}
		}
		return 0
	}
	n := 0
	// The age limit is not scaled: it only frees events stuck behind one
	// that never got an attempt, and scaled down to milliseconds it would
	// release events out of order whenever a test machine is slow.
	horizon := time.Now().Add(-webhookGuardMaxAge)
	for _, other := range h.events {
		if other.seq >= ev.seq {
			break
		}
		if other.endpoint == ev.endpoint && !other.attempted && other.after == nil && !other.made.Before(horizon) {
			n++
		}
	}
	return min(time.Duration(n)*webhookGuardDelay, webhookGuardMaxAge)
}

// failed is Polar's on_event_failed: when the endpoint's last
// WebhookFailureThreshold events were all given up, the endpoint is
// disabled and its events still being retried are skipped. It runs with
// the lock held.
func (h *webhookState) failed(ev *webhookEvent) {
	ep := ev.endpoint
	if !ep.enabled {
		return
	}
	var recent []*webhookEvent
	for i := len(h.events) - 1; i >= 0 && len(recent) < WebhookFailureThreshold; i-- {
		if h.events[i].endpoint == ep {
			recent = append(recent, h.events[i])
		}
	}
	if len(recent) < WebhookFailureThreshold {
		return
	}
	for _, r := range recent {
		if r.succeeded == nil || *r.succeeded {
			return
		}
	}
	ep.disable()
	for _, other := range h.events {
		if other.endpoint == ep && other.succeeded == nil && !other.skipped {
			other.skipped = true
		}
	}
}

// sleep waits d; it reports false when the server closed meanwhile. A
// wake (the endpoint disabled) ends the wait early: the next attempt then
// finds the endpoint disabled and skips, as Polar's would when it came.
func (h *webhookState) sleep(d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-wake:
		return true
	case <-h.stop:
		return false
	}
}

// attemptResult is how one delivery went.
type attemptResult struct {
	succeeded bool
	code      *int
	response  string
}

// attempt POSTs ev to its endpoint copies times at once, each copy signed
// on its own at the moment it is sent, and reports each.
func (s *Server) attempt(ev *webhookEvent, secret string, legacy bool, copies int) []attemptResult {
	results := make([]attemptResult, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.post(ev, secret, legacy)
		}()
	}
	wg.Wait()
	return results
}

func (s *Server) post(ev *webhookEvent, secret string, legacy bool) attemptResult {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.hooks.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ev.endpoint.cfg.URL, bytes.NewReader(ev.payload))
	if err != nil {
		return attemptResult{response: err.Error()}
	}
	sign := SignPolarWebhook
	if legacy {
		sign = SignPolarWebhookLegacy
	}
	req.Header = sign(secret, ev.id, s.now(), ev.payload)
	res, err := ev.endpoint.client.Do(req)
	if err != nil {
		return attemptResult{response: err.Error()}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, webhookResponseLimit))
	_, _ = io.Copy(io.Discard, res.Body)
	code := res.StatusCode
	r := attemptResult{code: &code, response: strings.ReplaceAll(string(body), "\x00", "")}
	// The answer counts only when it arrived whole within the timeout.
	r.succeeded = err == nil && code >= 200 && code <= 299
	if err != nil && r.response == "" {
		r.response = err.Error()
	}
	return r
}

func ptrTo[T any](v T) *T { return &v }
