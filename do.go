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
	create bool   // a create may be applied without its response arriving
}

// jsonBody is a request body of fixed shape that writes its own JSON, byte
// for byte what json.Marshal writes for it, without reflection
// (internal/wire). Other bodies go through json.Marshal.
type jsonBody interface{ encodeJSON() []byte }

// phase names the step of a call a request belongs to, for log lines: a
// keyed create looks its key up (replay), creates, and looks again after an
// ambiguous failure (reconcile); other calls create or read.
type phase string

const (
	phaseRead      phase = "read"
	phaseCreate    phase = "create"
	phaseReplay    phase = "replay_check"
	phaseReconcile phase = "reconcile"
)

type phaseKey struct{}

// withPhase marks the requests made under ctx as belonging to p.
func withPhase(ctx context.Context, p phase) context.Context {
	return context.WithValue(ctx, phaseKey{}, p)
}

// inPhase reports whether ctx's requests belong to p.
func inPhase(ctx context.Context, p phase) bool {
	got, _ := ctx.Value(phaseKey{}).(phase)
	return got == p
}

func phaseOf(ctx context.Context, r *request) phase {
	if p, ok := ctx.Value(phaseKey{}).(phase); ok {
		return p
	}
	if r.create {
		return phaseCreate
	}
	return phaseRead
}

// do is the one path every call takes that is not a keyed create: prepare,
// then send under the retry policy, decoding the typed result into out. It
// returns what it learned of the call, error or not, for the caller's
// ResponseInfo. Keyed creates go through createOnce, which wraps the same
// two steps in the exactly-once protocol.
func (c *Client) do(ctx context.Context, r *request, out any) (ResponseInfo, error) {
	info := ResponseInfo{API: r.api}
	ctx, cancel, tr, err := c.prepare(ctx, r)
	if err != nil {
		return info, err
	}
	defer cancel()
	err = c.send(ctx, r, tr, out, &info, c.policy.RetryAmbiguous)
	return info, err
}

// prepare checks the call can be made (a credential, a live context),
// encodes the body, bounds ctx by the client's timeout (call cancel when
// done) and describes the request for the transport.
func (c *Client) prepare(ctx context.Context, r *request) (context.Context, context.CancelFunc, *transport.Request, error) {
	cfg := c.api(r.api)
	noop := func() {}
	if !cfg.cred.isSet() {
		return ctx, noop, nil, fmt.Errorf("subkit: %s: no credential configured (use %s, or %s with WithEnv): %w",
			r.api, cfg.spec.CredentialOption, cfg.spec.EnvVar, ErrMissingCredential)
	}
	var body []byte
	if jb, ok := r.body.(jsonBody); ok {
		body = jb.encodeJSON()
	} else if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return ctx, noop, nil, &ValidationError{API: r.api, Fields: []FieldError{{Message: "cannot be encoded as JSON: " + err.Error(), Code: "invalid"}}}
		}
	}
	if ctx.Err() != nil {
		return ctx, noop, nil, &transportError{api: r.api, method: r.method, path: r.path, err: ctx.Err()}
	}
	cancel := noop
	if dl, ok := ctx.Deadline(); c.timeout > 0 && (!ok || time.Until(dl) > c.timeout) {
		// The caller's own earlier deadline already bounds the call.
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	tr := &transport.Request{
		Method:   r.method,
		URL:      c.url(cfg, r),
		Header:   cfg.header(body != nil),
		Body:     body,
		Secret:   cfg.cred.reveal(),
		ReadOnly: !r.create,
		Limiter:  cfg.limiter,
	}
	if c.logger != nil { // only a logger reads them: no allocation otherwise
		tr.LogAttrs = []slog.Attr{slog.String("api", string(r.api)), slog.String("method", r.method), slog.String("path", r.path),
			slog.String("phase", string(phaseOf(ctx, r)))}
	}
	return ctx, cancel, tr, nil
}

// send runs the request until it has a response it can use, or the call's
// budget of attempts (c.policy.MaxAttempts, of which info.Attempts are spent)
// runs out; it records the response in info. A read whose response could not
// be read is sent again, like any failed read: it cannot change anything.
func (c *Client) send(ctx context.Context, r *request, tr *transport.Request, out any, info *ResponseInfo, retryAmbiguous bool) error {
	for {
		res := c.sender.Send(ctx, tr, c.policy.transport(c.attemptsLeft(info), retryAmbiguous))
		info.Attempts += res.Attempts
		info.StatusCode, info.RequestID = res.Status, res.RequestID
		if res.Err != nil {
			return &transportError{api: r.api, method: r.method, path: r.path, attempts: info.Attempts,
				sent: res.Sent, mayBeApplied: r.create && res.MayBeApplied, err: res.Err}
		}
		if res.Status < 200 || res.Status > 299 {
			apiErr := c.apiError(r, &res, tr.Secret)
			apiErr.Attempts = info.Attempts
			if info.RequestID == "" {
				info.RequestID = apiErr.RequestID
			}
			return apiErr
		}
		cause := decodeSuccess(&res, out)
		if cause == nil {
			if r.create {
				info.Outcome = OutcomeCreated
			}
			return nil
		}
		if r.create || c.attemptsLeft(info) <= 0 || ctx.Err() != nil {
			// The body is the server's: it may quote the credential back.
			return unreadableResponse(r.api, *info, r.create, transport.ScrubBytes(bounded(res.Body), tr.Secret),
				transport.Scrub(cause, tr.Secret))
		}
	}
}

// attemptsLeft is what remains of the call's budget of attempts: the one
// place that counts it (RetryPolicy.MaxAttempts, of which info.Attempts are
// spent; each look-up has a budget of its own).
func (c *Client) attemptsLeft(info *ResponseInfo) int { return c.policy.MaxAttempts - info.Attempts }

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
	// two responses.
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
		return errors.New(`the response has no "id"`)
	}
	return nil
}

// apiError decodes a response that is not a success. Whatever it takes from
// the response has secret (the request's credential) redacted: a server may
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
