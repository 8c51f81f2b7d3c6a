package subkittest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// Op is a kind of operation a fault can be limited to.
type Op string

// The operations. Each API's create is an OpCreate; OpLookup names the GETs
// that find subscriptions again: Polar's GET /v1/subscriptions/ and
// GET /v1/subscriptions/{id}, Chargeflow's GET /disputes/{disputeId}, and
// ChatDash's GET …/subscriptions and GET …/subscriptions/{subscriptionId}.
const (
	OpCreate Op = "create"
	OpLookup Op = "lookup"
)

// Fault is a failure the server plays for a request instead of, or around,
// its normal answer. Make one with Respond, RespondAfterHandling,
// RateLimited, Delay, CommitLate, ReadLag, CloseBeforeHandling,
// CloseAfterHandling, MalformedBody or OversizedBody and queue it with
// Server.InjectFault.
//
// A fault is played only for a request that reaches one of the API's
// operations, a create or a look-up (see Op): a request to an unknown path,
// or with a method the path does not serve, takes none. It is played before
// the API checks anything (a gateway or network failure does not care about
// credentials), and the faults that "handle" the request run the API's
// whole normal handling, refusals included. For a look-up, which changes
// nothing, "applied" below means nothing: a handling fault answers what the
// look-up found when it arrived. A Fault is a value: its methods return
// changed copies.
type Fault struct {
	name   string
	ops    []Op
	header http.Header
	play   func(x *exchange)
}

// String names the fault, as recorded in Request.Fault.
func (f Fault) String() string { return f.name }

// On limits the fault to requests of the given operations; by default it is
// played for the next request of any operation, look-ups included. A subkit
// call may look up before or after it creates (a replay, a reconcile), so a
// test that means to fail the create itself should say On(OpCreate), and one
// that means to fail the look-up On(OpLookup).
func (f Fault) On(ops ...Op) Fault {
	f.ops = slices.Clone(ops)
	return f
}

// WithHeader adds a header to every answer the fault writes (for example a
// Retry-After on a 503).
func (f Fault) WithHeader(key, value string) Fault {
	f.header = f.header.Clone()
	if f.header == nil {
		f.header = http.Header{}
	}
	f.header.Add(key, value)
	return f
}

func (f *Fault) matches(op Op) bool { return len(f.ops) == 0 || slices.Contains(f.ops, op) }

// Respond answers status with body without handling the request: nothing is
// created. The body is sent as JSON when it starts with "{" or "[", as text
// otherwise; "" sends none. Respond(503, …) is what a gateway failure looks
// like; for a create, any 5xx is an outcome the caller cannot know.
func Respond(status int, body string) Fault {
	return Fault{name: fmt.Sprintf("respond %d", status), play: func(x *exchange) {
		x.write(answer(status, bodyType(body), []byte(body)))
	}}
}

// RespondAfterHandling handles the request (a valid create is applied) and
// then, when the answer is a success, answers status with body instead: a
// server that commits and then fails, or a gateway that loses the answer and
// says 500. For a create, the caller cannot know that it happened. A refusal
// is answered as usual.
func RespondAfterHandling(status int, body string) Fault {
	return Fault{name: fmt.Sprintf("respond %d after handling", status), play: func(x *exchange) {
		o := x.handle()
		x.apply(o)
		if o.success() {
			o = answer(status, bodyType(body), []byte(body))
		}
		x.write(o)
	}}
}

// bodyType is the content type of a fault's body: JSON when it starts with
// "{" or "[", text otherwise, none for no body.
func bodyType(body string) string {
	switch t := strings.TrimSpace(body); {
	case t == "":
		return ""
	case t[0] == '{' || t[0] == '[':
		return "application/json"
	}
	return "text/plain; charset=utf-8"
}

// RateLimited answers 429 in the API's own style (Polar: an empty body;
// Chargeflow and ChatDash: {"message":"Too Many Requests"}) without handling
// the request. retryAfter is the Retry-After header's value as sent: delay
// seconds such as "2", an HTTP date, or "" for no header (Polar's limiter
// always sends the whole window, "60"; see WithRateLimit for the limiter
// itself).
func RateLimited(retryAfter string) Fault {
	name := "rate limited"
	if retryAfter != "" {
		name += " (Retry-After: " + retryAfter + ")"
	}
	return Fault{name: name, play: func(x *exchange) {
		x.write(x.handler.tooManyRequests(retryAfter))
	}}
}

// Delay handles the request at once (the create is applied) and holds the
// answer back for d: a slow server or network. A caller whose deadline ends
// first never hears that the create happened. The wait ends early when the
// server closes. See CommitLate for a create that is applied only at d.
func Delay(d time.Duration) Fault {
	return Fault{name: "delay " + d.String(), play: func(x *exchange) {
		o := x.handle()
		x.apply(o)
		x.wait(d)
		x.write(o)
	}}
}

// CommitLate handles the request at once (its answer, IDs and timestamps are
// decided then) but applies the create only after d, and answers only then:
// a server whose write takes d to commit. While d runs, the create is not
// held — neither the accessors (PolarSubscriptions, …) nor any look-up see
// it — so a test can tell whether a client that lost the answer waits long
// enough before looking.
//
// The server finishes its work when the client leaves: a caller whose
// deadline ends first, or who closes the connection, still has the create
// applied at d (and Request.Status records the answer the server then
// wrote to nobody). Only Close stops it: a create whose d has not run out
// when the server closes is never applied. For a look-up CommitLate is the
// same as Delay.
func CommitLate(d time.Duration) Fault {
	return Fault{name: "commit late " + d.String(), play: func(x *exchange) {
		o := x.handle()
		if !x.wait(d) {
			return // the server closed first: nothing is committed
		}
		x.apply(o)
		x.write(o)
	}}
}

// CloseBeforeHandling reads the request, then closes the connection without
// handling it or answering: nothing is created. To the caller this is a
// connection reset after the request was sent, so it cannot know the outcome.
func CloseBeforeHandling() Fault {
	return Fault{name: "close before handling", play: func(x *exchange) {
		x.hangUp()
	}}
}

// CloseAfterHandling handles the request (a valid create is applied), then
// closes the connection without answering: the create happened and the
// caller never hears of it.
func CloseAfterHandling() Fault {
	return Fault{name: "close after handling", play: func(x *exchange) {
		o := x.handle()
		x.apply(o)
		x.hangUp()
	}}
}

// MalformedBody handles the request (a valid create is applied) and, when
// the answer is a success, sends its status with the first half of its JSON
// body: the create happened and its answer cannot be read. A refusal is
// answered as usual.
func MalformedBody() Fault {
	return Fault{name: "malformed body", play: func(x *exchange) {
		o := x.handle()
		x.apply(o)
		if o.success() {
			o.body = o.body[:len(o.body)/2]
		}
		x.write(o)
	}}
}

// OversizedBody handles the request (a valid create is applied) and, when
// the answer is a success, sends its status with a body of size bytes: the
// start of the real JSON answer, then padding inside a JSON string. The body
// is streamed, never held in memory; with declareLength its Content-Length
// is sent up front, otherwise it is chunked. A refusal is answered as usual.
func OversizedBody(size int64, declareLength bool) Fault {
	name := fmt.Sprintf("oversized body (%d bytes", size)
	if declareLength {
		name += ", Content-Length"
	}
	return Fault{name: name + ")", play: func(x *exchange) {
		o := x.handle()
		x.apply(o)
		if !o.success() {
			x.write(o)
			return
		}
		x.stream(o, size, declareLength)
	}}
}

// queuedFault is a fault with the number of requests it is still played for.
type queuedFault struct {
	fault Fault
	left  int
}

// InjectFault queues f for the next n requests to api's operations that it
// applies to (see Fault.On: without it, creates and look-ups alike); n < 1
// queues nothing. Faults queued for one API are played in the order they
// were queued: each request takes the first matching fault that has
// requests left. It panics if api is not ChatDash, Chargeflow or Polar.
func (s *Server) InjectFault(api subkit.API, n int, f Fault) {
	if n < 1 {
		return
	}
	s.checkAPI(api)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[api] = append(s.faults[api], &queuedFault{fault: f, left: n})
}

// takeFault returns the fault to play for a request of op to api, if any.
func (s *Server) takeFault(api subkit.API, op Op) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[api]
	for i, qf := range q {
		if !qf.fault.matches(op) {
			continue
		}
		f := qf.fault
		qf.left--
		if qf.left == 0 {
			s.faults[api] = slices.Delete(q, i, i+1)
		}
		return &f
	}
	return nil
}

// padding streams n bytes of filler.
type padding struct{ n int64 }

// Read fills b with filler until n bytes have been read.
func (p *padding) Read(b []byte) (int, error) {
	if p.n <= 0 {
		return 0, io.EOF
	}
	k := int(min(int64(len(b)), p.n))
	for i := range b[:k] {
		b[i] = 'x'
	}
	p.n -= int64(k)
	return k, nil
}

// oversizedPrefix is the start of an oversized body: the answer's first
// key, then a string that the padding fills.
func oversizedPrefix(body []byte, size int64) []byte {
	prefix := []byte(`{"padding":"`)
	if i := strings.IndexByte(string(body), ','); i > 0 && body[0] == '{' {
		prefix = append(append([]byte{}, body[:i+1]...), `"padding":"`...)
	}
	if int64(len(prefix)) > size {
		prefix = prefix[:size]
	}
	return prefix
}

func retryAfterSeconds(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(secs, 1), 10)
}
