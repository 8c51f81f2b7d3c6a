package subkit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
	"github.com/subkit-go/subkit/internal/wire"
)

// Bounds on what the SDK reads from a server.
const (
	maxResponseBody = 4 << 20  // a response larger than this is refused
	maxErrorBody    = 64 << 10 // APIError.Body keeps at most this much
)

// request describes one call for do: everything that differs between
// endpoints, and nothing about how to send it.
type request struct {
	api    API
	method string
	path   string // escaped, starting with "/"
	query  string // encoded, without "?"
	body   any    // marshalled as JSON when non-nil
	create bool   // a create may be applied without its answer arriving
	// find looks a keyed create up (rule 9); nil for everything else. On
	// found it has filled the call's result.
	find finder
	// replay: the caller gave the key, so an earlier call may have used it:
	// look before sending.
	replay bool
}

// do is the one path every call takes: credential, headers, the retry policy,
// exactly-once reconciliation, response bounds, error decoding and the typed
// result.
func (c *Client) do(ctx context.Context, r *request, out any, cs callSettings) (err error) {
	info := ResponseInfo{API: r.api}
	if cs.info != nil {
		defer func() { *cs.info = info }()
	}
	cfg := c.api(r.api)
	if !cfg.cred.isSet() {
		return fmt.Errorf("subkit: %s: no credential configured (use %s, or %s with WithEnv): %w",
			r.api, cfg.spec.optionName, cfg.spec.envVar, ErrMissingCredential)
	}
	var body []byte
	if r.body != nil {
		if body, err = json.Marshal(r.body); err != nil {
			return &ValidationError{API: r.api, Fields: []FieldError{{Message: "cannot be encoded as JSON: " + err.Error(), Code: "invalid"}}}
		}
	}
	if ctx.Err() != nil {
		return &transportError{api: r.api, method: r.method, path: r.path, err: ctx.Err()}
	}
	if dl, ok := ctx.Deadline(); c.timeout > 0 && (!ok || time.Until(dl) > c.timeout) {
		// The caller's own earlier deadline already bounds the call.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	tr := &transport.Request{
		Method:   r.method,
		URL:      c.url(cfg, r),
		Header:   c.header(cfg, body != nil),
		Body:     body,
		Secret:   cfg.cred.reveal(),
		ReadOnly: !r.create,
	}
	if c.logger != nil { // only a logger reads them: no allocation otherwise
		tr.LogAttrs = []slog.Attr{slog.String("api", string(r.api)), slog.String("method", r.method), slog.String("path", r.path)}
	}
	if r.find != nil {
		return c.sendKeyed(ctx, r, tr, out, &info)
	}
	return c.sendOnce(ctx, r, tr, out, c.retry, &info)
}

// sendOnce runs the request under policy p (one logical send, with the
// transport's retries) and records how it went in info; info.Attempts
// accumulates across sends of the same call.
func (c *Client) sendOnce(ctx context.Context, r *request, tr *transport.Request, out any, p transport.Policy, info *ResponseInfo) error {
	res := c.send.Send(ctx, tr, p)
	info.Attempts += res.Attempts
	info.StatusCode, info.RequestID = res.Status, res.RequestID
	if res.Err != nil {
		return &transportError{api: r.api, method: r.method, path: r.path, attempts: info.Attempts,
			mayBeApplied: r.create && res.MayBeApplied, err: res.Err}
	}
	if res.Status >= 200 && res.Status <= 299 {
		cause := decodeSuccess(&res, out)
		if cause != nil && !r.create && res.Attempts < p.MaxAttempts && ctx.Err() == nil {
			// A read whose answer was unreadable is read again, like any
			// failed read: it cannot change anything.
			p.MaxAttempts -= res.Attempts
			return c.sendOnce(ctx, r, tr, out, p, info)
		}
		if cause != nil {
			// The body is the server's: it may quote the credential back.
			secret := tr.Secret
			return &APIError{API: r.api, StatusCode: res.Status, Message: "the answer could not be read",
				RequestID: res.RequestID, Attempts: info.Attempts, Body: transport.ScrubBytes(bounded(res.Body), secret),
				mayBeApplied: r.create, readOnly: !r.create, cause: transport.Scrub(cause, secret)}
		}
		if r.create {
			info.Outcome = OutcomeCreated
		}
		return nil
	}
	apiErr := c.apiError(r, &res, tr.Secret)
	apiErr.Attempts = info.Attempts
	if info.RequestID == "" {
		info.RequestID = apiErr.RequestID
	}
	return apiErr
}

func decodeSuccess(res *transport.Result, out any) error {
	switch {
	case res.TooLarge:
		return fmt.Errorf("the body is larger than %d bytes", maxResponseBody)
	case res.ReadErr != nil:
		return fmt.Errorf("reading the body: %w", res.ReadErr)
	case out == nil:
		return nil
	}
	// Decoding into a result a failed attempt half filled would merge the
	// two answers.
	reflect.ValueOf(out).Elem().SetZero()
	// A success must carry the result: "null" or nothing would decode into
	// a zero value without complaint.
	if b := bytes.TrimSpace(res.Body); len(b) == 0 || string(b) == "null" {
		return errors.New("the body is empty")
	}
	if err := json.Unmarshal(res.Body, out); err != nil {
		return fmt.Errorf("decoding the body: %w", err)
	}
	// A subscription without its ID ({} or an unrelated object) is no result.
	if r, ok := out.(interface{ missingID() bool }); ok && r.missingID() {
		return errors.New(`the answer has no "id"`)
	}
	return nil
}

func (s *Subscription) missingID() bool        { return s.ID == "" }
func (s *ConnectSubscription) missingID() bool { return s.ID == "" }
func (s *DisputeSubscription) missingID() bool { return s.ID == "" }

// apiError decodes an answer that is not a success. Whatever it takes from
// the answer has secret (the request's credential) redacted: a server may
// quote it back, in JSON escapes the raw body does not show.
func (c *Client) apiError(r *request, res *transport.Result, secret string) *APIError {
	cfg := c.api(r.api)
	e := &APIError{
		API: r.api, StatusCode: res.Status, RequestID: res.RequestID, Attempts: res.Attempts,
		Body: bounded(res.Body), mayBeApplied: r.create && res.MayBeApplied, readOnly: !r.create,
	}
	if res.Status == http.StatusTooManyRequests {
		e.RetryAfter = res.RetryAfter
	}
	wi := wire.DecodeError(res.Body, cfg.spec.errorIsCode)
	scrub := func(s string) string { return transport.ScrubString(s, secret) }
	e.Code, e.Message = scrub(wi.Code), scrub(wi.Message)
	if e.RequestID == "" {
		e.RequestID = scrub(wi.RequestID)
	}
	for _, f := range wi.Fields {
		e.Fields = append(e.Fields, FieldError{Field: scrub(f.Field), Message: scrub(f.Message), Code: scrub(f.Code)})
	}
	switch {
	case res.TooLarge:
		e.Message = fmt.Sprintf("%s (body larger than %d bytes not read)", http.StatusText(res.Status), maxResponseBody)
	case e.Message == "":
		e.Message = http.StatusText(res.Status)
	}
	if res.Status >= 300 && res.Status <= 399 {
		e.Message += " (redirects are not followed; Location: " + scrub(res.Header.Get("Location")) + ")"
	}
	return e
}

func bounded(b []byte) []byte {
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody]
	}
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

func (c *Client) url(cfg *apiConfig, r *request) string {
	u := cfg.base + r.path
	if r.query != "" {
		u += "?" + r.query
	}
	return u
}

func (c *Client) header(cfg *apiConfig, hasBody bool) http.Header {
	h := make(http.Header, 6)
	h.Set(cfg.spec.credHeader, cfg.spec.credPrefix+cfg.cred.reveal())
	h.Set("Accept", "application/json")
	h.Set("User-Agent", c.userAgent)
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	if cfg.spec.versionHeader != "" {
		h.Set(cfg.spec.versionHeader, cfg.spec.version)
	}
	return h
}
