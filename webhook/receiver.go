package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Defaults of a Receiver.
const (
	// DefaultTolerance is how far webhook-timestamp may be from the
	// receiver's clock, either way: Standard Webhooks' default, which Polar
	// uses.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxBodySize bounds the body Verify accepts and the Handler
	// reads, in bytes. Polar's subscription payloads are a few kilobytes;
	// a product with many prices and benefits stays far below this.
	DefaultMaxBodySize = 1 << 20
)

// Receiver verifies and decodes the webhooks of one Polar webhook endpoint.
// Make one with NewPolarReceiver; it is safe for concurrent use and holds
// no secret where fmt, a logger or a debugger printing its fields could
// reach it.
type Receiver struct {
	// keys is behind a func so that no printer walking unexported fields
	// (fmt's %v, go-spew in testify) can reach the key bytes.
	keys      func() [][]byte
	tolerance time.Duration
	now       func() time.Time
	maxBody   int
}

// ReceiverOption configures a Receiver in NewPolarReceiver.
type ReceiverOption func(*receiverConfig)

type receiverConfig struct {
	tolerance time.Duration
	now       func() time.Time
	maxBody   int
	err       error
}

// WithTolerance sets how far webhook-timestamp may be from the receiver's
// clock, either way, for a signed request to be accepted; the default is
// DefaultTolerance (5 minutes). Polar signs each attempt when it sends it,
// so only a replay or a clock out of step falls outside. d must be
// positive: NewPolarReceiver fails otherwise.
func WithTolerance(d time.Duration) ReceiverOption {
	return func(c *receiverConfig) {
		if d <= 0 {
			c.err = errors.Join(c.err, fmt.Errorf("webhook: tolerance must be positive, got %v", d))
			return
		}
		c.tolerance = d
	}
}

// WithClock makes the receiver read the time from now instead of time.Now
// (for tests). now must be safe for concurrent use; nil makes
// NewPolarReceiver fail.
func WithClock(now func() time.Time) ReceiverOption {
	return func(c *receiverConfig) {
		if now == nil {
			c.err = errors.Join(c.err, errors.New("webhook: WithClock: nil clock"))
			return
		}
		c.now = now
	}
}

// WithMaxBodySize bounds the body, in bytes, that Verify accepts and the
// Handler reads (DefaultMaxBodySize by default); a larger one is
// ErrMalformed. n must be positive: NewPolarReceiver fails otherwise.
func WithMaxBodySize(n int) ReceiverOption {
	return func(c *receiverConfig) {
		if n <= 0 {
			c.err = errors.Join(c.err, fmt.Errorf("webhook: max body size must be positive, got %d", n))
			return
		}
		c.maxBody = n
	}
}

// NewPolarReceiver returns a Receiver that accepts a webhook signed with any
// of secrets: the endpoint's current secret and, while a rotation is under
// way, the one it replaced (Polar replaces a secret at once and signs with
// the new one only, so deliveries already queued may carry either). List
// the newest first: it is tried first.
//
// Each secret is tried under both of Polar's key schemes: the UTF-8 bytes
// of the whole secret, prefix included (secrets made before 2026-09-08),
// and the base64 after "whsec_" (later ones, the Standard Webhooks way; a
// secret without the prefix is decoded whole). Surrounding white space is
// ignored, so a secret read from a file with its newline works.
//
// It fails when secrets is empty, a secret is empty, or an option is
// invalid. Its errors name a secret by its position, never by its value.
func NewPolarReceiver(secrets []string, opts ...ReceiverOption) (*Receiver, error) {
	c := receiverConfig{tolerance: DefaultTolerance, now: time.Now, maxBody: DefaultMaxBodySize}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if len(secrets) == 0 {
		c.err = errors.Join(c.err, errors.New("webhook: no secret: pass the endpoint's secret (and, while rotating, the previous one)"))
	}
	var keys [][]byte
	for i, s := range secrets {
		s = strings.TrimSpace(s)
		if s == "" {
			c.err = errors.Join(c.err, fmt.Errorf("webhook: secret %d of %d is empty", i+1, len(secrets)))
			continue
		}
		keys = append(keys, secretKeys(s)...)
	}
	if c.err != nil {
		return nil, c.err
	}
	return &Receiver{keys: func() [][]byte { return keys }, tolerance: c.tolerance, now: c.now, maxBody: c.maxBody}, nil
}

// String describes the receiver without its secrets.
func (r *Receiver) String() string {
	return fmt.Sprintf("webhook.Receiver{keys: %d, tolerance: %v, max body: %d bytes}", len(r.keys()), r.tolerance, r.maxBody)
}

// Verify checks that h and body are a webhook Polar signed with one of the
// receiver's secrets within the tolerance, and decodes it. body must be the
// request's body exactly as received: any change, even re-encoding the
// same JSON, breaks the signature.
//
// It returns an error that Is ErrMalformed, ErrInvalidSignature or
// ErrTimestamp; the signature is checked before the timestamp, so
// ErrTimestamp means an authentic delivery (or a replay of one) made too
// long ago or too far ahead of this clock. Header names are matched
// whatever their case.
func (r *Receiver) Verify(h http.Header, body []byte) (*Event, error) {
	if len(body) > r.maxBody {
		return nil, failure(ErrMalformed, "the body is %d bytes, more than the %d allowed", len(body), r.maxBody)
	}
	sh, err := readSignedHeaders(h)
	if err != nil {
		return nil, err
	}
	if !sh.signedByAny(r.keys(), body) {
		return nil, failure(ErrInvalidSignature, "no signature of the %d given matches a secret of the receiver", len(sh.signatures))
	}
	now := r.now().Unix() // whole seconds, as Standard Webhooks compares
	tol := int64(r.tolerance / time.Second)
	switch {
	case sh.timestamp < now-tol:
		return nil, failure(ErrTimestamp, "signed %ds ago, more than the %v allowed", now-sh.timestamp, r.tolerance)
	case sh.timestamp > now+tol:
		return nil, failure(ErrTimestamp, "signed %ds ahead of this clock, more than the %v allowed", sh.timestamp-now, r.tolerance)
	}
	return decodeEvent(sh.id, body)
}
