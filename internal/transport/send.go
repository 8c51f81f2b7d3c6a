// Package transport sends one logical call with the SDK's retry rules: retry
// what provably did not run (a 429, a connection that failed before the
// request was written), and nothing that may have been applied unless the
// caller asked for it. Retries run in go-retryablehttp's loop; a first attempt
// that needs none never enters it.
package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Policy is the retry policy of a call, with every default filled in.
type Policy struct {
	MaxAttempts    int
	MinBackoff     time.Duration
	MaxBackoff     time.Duration
	MaxRetryAfter  time.Duration
	RetryAmbiguous bool
}

// Request is one logical call.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// ReadOnly marks a request that changes nothing, so repeating it after
	// any failure is safe.
	ReadOnly bool
	// LogAttrs identify the call in log lines (API, path): never secrets.
	LogAttrs []slog.Attr
	// Limiter, if not nil, paces the request: every attempt waits on it
	// first (the client must come from NewHTTPClient).
	Limiter Limiter
	// Gate, if not nil, runs right before each attempt is written, after
	// the Limiter's wait and any backoff or Retry-After wait: an error
	// stops the call there, with nothing of that attempt sent (a
	// *WaitError that counts as no attempt).
	Gate func(ctx context.Context) error
	// Secret is the credential the request carries. A server may quote it
	// back (an echoing gateway, a validation error that repeats its input),
	// so it is redacted from what the transport reports of a response: the
	// request ID, an error's text, the body of a response that is not a
	// success, and log lines.
	Secret string
}

// Result is how a call ended: with a response (Status > 0) or with Err.
type Result struct {
	Status    int
	Header    http.Header
	Body      []byte
	RequestID string
	// TooLarge is set when the body exceeded the limit; Body is then empty.
	TooLarge bool
	// ReadErr is set when the response's body could not be read in full.
	ReadErr error
	Err     error
	// Attempts counts the attempts made, refused connections included.
	Attempts int
	// Sent is set when some attempt may have reached the server: it got a
	// response, or failed after the request was (maybe) written.
	Sent bool
	// MayBeApplied is set when some attempt may have reached the server
	// without a response saying it failed: a 5xx, or a failure after sending.
	MayBeApplied bool
	// RetryAfter is what the last 429 asked for; RetryAfterRefused is set when
	// that was longer than the policy or the deadline allows.
	RetryAfter        time.Duration
	RetryAfterRefused bool
}

// Sender sends calls. It is safe for concurrent use.
type Sender struct {
	HTTP    *http.Client
	Logger  *slog.Logger // nil: no logs
	MaxBody int64        // bytes of a body read at most
}

// call is the state of one logical call across its attempts. The trace and
// a copy of the request live in it, so that neither takes an allocation of
// its own and the caller's Request can stay on its stack.
type call struct {
	trace        httptrace.ClientTrace
	s            *Sender
	p            Policy
	req          Request
	ctx          context.Context
	progress     progress
	attemptStart time.Time
	res          Result
	nextWait     time.Duration
}

// Send runs the call to its end under policy p and returns how it ended; it
// never returns an open body. It keeps no reference to r.
//
// The first attempt goes straight to the http.Client, judged by the same
// checkRetry as every other: nearly every call ends there, and
// go-retryablehttp's request and loop, which such a call does not use, were
// a measurable share of its time against a loopback server (BENCHMARKS.md).
// A call that must be retried waits its first backoff, then goes on in
// go-retryablehttp, which makes, paces and judges every further attempt.
func (s *Sender) Send(ctx context.Context, r *Request, p Policy) Result {
	c := &call{s: s, p: p, req: *r, ctx: ctx}
	c.trace = c.progress.trace()
	ctx = httptrace.WithClientTrace(ctx, &c.trace)
	if r.Limiter != nil || r.Gate != nil {
		ctx = context.WithValue(ctx, limiterKey{}, gates{r.Limiter, r.Gate})
	}
	var body io.Reader
	if r.Body != nil { // a typed nil would send an empty body with Content-Length: 0 on a GET
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		c.res.Err = err
		return c.res
	}
	req.Header = r.Header
	c.beforeAttempt(nil, req, 0)
	resp, err := s.HTTP.Do(req)
	if retry, _ := c.checkRetry(ctx, resp, err); retry {
		resp, err = c.retry(ctx, resp)
	}
	if err != nil {
		c.res.Err = Scrub(err, r.Secret)
		return c.res
	}
	c.read(resp)
	return c.res
}

// retry goes on after a first attempt that checkRetry sent round again: it
// releases that attempt's response, waits the planned backoff, and hands the
// rest of the budget to go-retryablehttp.
func (c *call) retry(ctx context.Context, first *http.Response) (*http.Response, error) {
	if first != nil {
		_, _ = io.CopyN(io.Discard, first.Body, drainLimit)
		_ = first.Body.Close()
	}
	t := time.NewTimer(c.backoff(0, 0, 0, first))
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	rreq, err := retryablehttp.NewRequestWithContext(ctx, c.req.Method, c.req.URL, bodyOrNil(c.req.Body))
	if err != nil {
		return nil, err
	}
	rreq.Header = c.req.Header
	rc := &retryablehttp.Client{
		HTTPClient:     c.s.HTTP,
		Logger:         nil,
		RetryMax:       c.p.MaxAttempts - c.res.Attempts - 1, // its first attempt is not a retry
		RetryWaitMin:   c.p.MinBackoff,
		RetryWaitMax:   c.p.MaxBackoff,
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler, // hand the last response back, never discard it
		RequestLogHook: c.beforeAttempt,
	}
	return rc.Do(rreq)
}

// bodyOrNil keeps a nil body nil: a typed nil []byte would make
// go-retryablehttp send an empty body with Content-Length: 0 on a GET.
func bodyOrNil(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func (c *call) beforeAttempt(_ retryablehttp.Logger, _ *http.Request, _ int) {
	c.progress.reset()
	if c.s.Logger != nil { // only a log line reads the attempt's start
		c.attemptStart = time.Now()
	}
}

// checkRetry decides after each attempt. It never returns an error: how the
// call ended is recorded in c.res for Send's caller to judge.
func (c *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil && isWaitError(err) {
		return false, nil // no attempt was made: the call ends with the wait's error, nothing sent
	}
	c.res.Attempts++
	p := c.p
	if err != nil {
		sent := !c.progress.notSent(err)
		if sent {
			c.res.Sent, c.res.MayBeApplied = true, true
		}
		c.logAttempt(0, "", err)
		if ctx.Err() != nil {
			return false, nil
		}
		if sent && !c.req.ReadOnly && !p.RetryAmbiguous {
			return false, nil
		}
		return c.planWait(ctx, c.backoffFor(c.res.Attempts)), nil
	}

	c.res.Sent = true
	if c.s.Logger != nil { // read reads the request ID for the result
		c.logAttempt(resp.StatusCode, c.scrub(RequestIDFromHeader(resp.Header)), nil)
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		wait, ok := ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			c.res.RetryAfter = 0
			return c.planWait(ctx, c.backoffFor(c.res.Attempts)), nil
		}
		c.res.RetryAfter = wait
		if wait > p.MaxRetryAfter || beyondDeadline(ctx, wait) {
			c.res.RetryAfterRefused = true
			return false, nil
		}
		return c.planWait(ctx, wait), nil
	case resp.StatusCode >= 500:
		if !c.req.ReadOnly {
			c.res.MayBeApplied = true
			if !p.RetryAmbiguous {
				return false, nil
			}
		}
		return c.planWait(ctx, c.backoffFor(c.res.Attempts)), nil
	}
	return false, nil
}

// planWait records the wait before the next attempt, and gives up at once
// when the context would end before it is over.
func (c *call) planWait(ctx context.Context, wait time.Duration) bool {
	if c.res.Attempts >= c.p.MaxAttempts || beyondDeadline(ctx, wait) {
		return false
	}
	c.nextWait = wait
	return true
}

func beyondDeadline(ctx context.Context, wait time.Duration) bool {
	dl, ok := ctx.Deadline()
	return ok && time.Now().Add(wait).After(dl)
}

// backoffFor is exponential backoff with full jitter: a uniform wait between
// MinBackoff and min(MaxBackoff, MinBackoff·2^(attempt-1)).
func (c *call) backoffFor(attempt int) time.Duration {
	p := c.p
	ceiling := p.MinBackoff
	for i := 1; i < attempt && ceiling < p.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, p.MaxBackoff)
	if ceiling <= p.MinBackoff {
		return p.MinBackoff
	}
	return p.MinBackoff + rand.N(ceiling-p.MinBackoff+1)
}

func (c *call) backoff(_, _ time.Duration, _ int, resp *http.Response) time.Duration {
	if c.s.Logger != nil {
		reason := "connection failed before sending"
		if resp != nil {
			reason = strconv.Itoa(resp.StatusCode)
		}
		c.log(slog.LevelWarn, "subkit: retrying",
			slog.Int("attempt", c.res.Attempts), slog.Duration("wait", c.nextWait), slog.String("reason", reason))
	}
	return c.nextWait
}

func (c *call) logAttempt(status int, reqID string, err error) {
	if c.s.Logger == nil {
		return
	}
	attrs := []slog.Attr{
		slog.Int("status", status),
		slog.Int("attempt", c.res.Attempts),
		slog.Duration("duration", time.Since(c.attemptStart)),
		slog.String("request_id", reqID),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", c.scrub(err.Error())))
	}
	c.log(slog.LevelDebug, "subkit: attempt", attrs...)
}

func (c *call) log(level slog.Level, msg string, attrs ...slog.Attr) {
	all := make([]slog.Attr, 0, len(c.req.LogAttrs)+len(attrs))
	all = append(all, c.req.LogAttrs...)
	all = append(all, attrs...)
	c.s.Logger.LogAttrs(c.ctx, level, msg, all...)
}

// read takes the body up to the limit, then drains a little more and closes,
// so that the connection can be reused without reading an unbounded body.
func (c *call) read(resp *http.Response) {
	atEOF := false
	defer func() {
		if !atEOF {
			_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		}
		_ = resp.Body.Close()
	}()
	c.res.Status = resp.StatusCode
	c.res.Header = resp.Header
	c.res.RequestID = c.scrub(RequestIDFromHeader(resp.Header))
	if resp.ContentLength > c.s.MaxBody {
		c.res.TooLarge = true
		return
	}
	c.res.Body, c.res.TooLarge, c.res.ReadErr = readAtMost(resp.Body, c.s.MaxBody, resp.ContentLength)
	atEOF = !c.res.TooLarge && c.res.ReadErr == nil // read to io.EOF: nothing left to drain
	c.res.ReadErr = Scrub(c.res.ReadErr, c.req.Secret)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		// A success body is the result, decoded as sent; any other is
		// kept for an error, where it must not quote the credential.
		c.res.Body = ScrubBytes(c.res.Body, c.req.Secret)
	}
}

// readAtMost reads r to its end, or until it has read more than limit bytes
// (tooLarge, and no body). It reads into chunks joined once at the end, so
// that refusing a body over the limit allocates about limit bytes, where a
// doubling buffer allocates two to four times that. sizeHint, the
// Content-Length or -1, sizes the first chunk so that a body of the declared
// size takes one allocation.
func readAtMost(r io.Reader, limit, sizeHint int64) (body []byte, tooLarge bool, err error) {
	const firstChunk, maxChunk = 8 << 10, 1 << 20
	next := int64(firstChunk)
	if sizeHint >= 0 {
		next = sizeHint + 1 // one more byte to see the end without another chunk
	}
	var chunks [][]byte
	var total int64
	for {
		chunk := make([]byte, min(next, limit+1-total))
		n, rerr := fill(r, chunk)
		total += int64(n)
		chunks = append(chunks, chunk[:n])
		switch {
		case total > limit:
			return nil, true, nil
		case rerr == io.EOF:
			if len(chunks) == 1 {
				return chunks[0], false, nil
			}
			return bytes.Join(chunks, nil), false, nil
		case rerr != nil:
			return nil, false, rerr
		}
		next = min(max(next, firstChunk)*2, maxChunk)
	}
}

// fill reads into b until it is full or r fails; unlike io.ReadFull it
// returns r's own error, so that io.EOF (the end) stays apart from
// io.ErrUnexpectedEOF (a body cut short of its Content-Length).
func fill(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// drainLimit is how much of an unread body is discarded to keep the
// connection; past it, closing is cheaper than reading.
const drainLimit = 64 << 10

// RequestIDFromHeader finds a request ID in the headers the three APIs and
// their gateways are known to use. Polar sends no request-ID header: its
// only per-request ID on the wire is the CF-Ray of the Cloudflare in front
// of it, taken when no request-ID header is present.
func RequestIDFromHeader(h http.Header) string {
	// The keys are in canonical form, as the transport stores a response's
	// headers: indexing skips the canonicalisation Get does on every call.
	for _, k := range [...]string{"X-Request-Id", "Request-Id", "X-Amzn-Requestid", "X-Amz-Apigw-Id", "X-Correlation-Id", "Cf-Ray"} {
		if v := h[k]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	return ""
}

// Redacted replaces a credential wherever one would be shown.
const Redacted = "[REDACTED]"

func (c *call) scrub(s string) string { return ScrubString(s, c.req.Secret) }

// ScrubString redacts every occurrence of secret in s.
func ScrubString(s, secret string) string {
	if secret == "" || !strings.Contains(s, secret) {
		return s
	}
	return strings.ReplaceAll(s, secret, Redacted)
}

// ScrubBytes redacts every occurrence of secret in b, in a copy.
func ScrubBytes(b []byte, secret string) []byte {
	if secret == "" || !bytes.Contains(b, []byte(secret)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(secret), []byte(Redacted))
}

// Scrub returns err, or, when its text quotes secret, an error with the
// secret redacted from the text. The replacement keeps matching the
// context's errors but unwraps to nothing, since every error it wraps
// would print the secret.
func Scrub(err error, secret string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &scrubbedError{msg: ScrubString(err.Error(), secret), err: err}
}

type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }

func (e *scrubbedError) Is(target error) bool {
	return (target == context.Canceled || target == context.DeadlineExceeded) && errors.Is(e.err, target)
}
