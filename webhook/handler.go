package webhook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/subkit-go/subkit"
)

// Defaults of a Handler.
const (
	// DefaultRetention is how long a handled event's ID, and the newest
	// state seen of a subscription, are remembered: as long as Polar keeps
	// an event's payload and can redeliver it (90 days).
	DefaultRetention = 90 * 24 * time.Hour
	// DefaultBusyWait is how long a delivery waits for another delivery of
	// the same event (or of the same subscription) that is being handled
	// elsewhere, before it answers 409 so that Polar comes back later.
	// Polar waits 10 s for an answer.
	DefaultBusyWait = 2 * time.Second
	// DefaultHandlerTimeout bounds one run of fn.
	DefaultHandlerTimeout = 2 * time.Minute
	// DefaultLease is how long a handler's hold on an event lasts should
	// its process die while fn runs; it is extended every third of it
	// while fn runs, so fn may run longer.
	DefaultLease = 30 * time.Second
)

// HandlerOption configures a Handler.
type HandlerOption func(*handlerConfig)

type handlerConfig struct {
	store     subkit.IdempotencyStore
	retention time.Duration
	busyWait  time.Duration
	timeout   time.Duration
	lease     time.Duration
	logger    *slog.Logger
	// settle settles the pending record of a keyed create that an event
	// shows was applied: subkit.SettlePendingCreate, replaced in tests.
	settle func(ctx context.Context, s subkit.IdempotencyStore, sub *subkit.Subscription) (bool, error)
}

// WithDedupe makes the Handler run fn once per event ID across every
// process whose Handler shares s (subkit.NewMemoryStore for one process,
// subkitredis.NewStore or subkitsql.NewStore for a fleet), hand fn no
// older state of a subscription after a newer one, and settle the pending
// record of a keyed create that a subscription event shows was applied.
// Pass the same store the fleet's subkit Clients use
// (subkit.WithIdempotencyStore), so that the settling reaches them. A nil
// s is the same as no WithDedupe.
func WithDedupe(s subkit.IdempotencyStore) HandlerOption {
	return func(c *handlerConfig) { c.store = s }
}

// WithRetention sets how long handled event IDs and the newest state seen
// of each subscription are kept in the store (DefaultRetention, 90 days,
// unless d is positive). Keep it at least as long as Polar can redeliver an
// event, or a late redelivery runs fn again.
func WithRetention(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.retention = d
		}
	}
}

// WithBusyWait sets how long a delivery waits for another delivery of the
// same event or subscription being handled elsewhere before answering 409
// (DefaultBusyWait unless d is positive). Keep it well under Polar's 10 s.
func WithBusyWait(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.busyWait = d
		}
	}
}

// WithHandlerTimeout bounds one run of fn (DefaultHandlerTimeout unless d
// is positive). fn's context does not end when Polar hangs up after its
// 10 s: work that takes longer finishes and is recorded, and Polar's
// retry then finds it handled.
func WithHandlerTimeout(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithLease sets how long a handler's hold on an event and its
// subscription lasts should its process die while fn runs
// (DefaultLease unless d is positive): another delivery can take the event
// over only after it. The hold is extended every third of d while fn
// runs; if an extension fails, fn's context is canceled.
func WithLease(d time.Duration) HandlerOption {
	return func(c *handlerConfig) {
		if d > 0 {
			c.lease = d
		}
	}
}

// WithLogger makes the Handler log: one Debug line per delivery (event
// ID, type, what was answered), a Warn line when fn fails, the store
// fails or a delivery is refused. Never a header, a body or a secret.
// nil (the default) logs nothing.
func WithLogger(l *slog.Logger) HandlerOption {
	return func(c *handlerConfig) { c.logger = l }
}

// Handler returns an http.Handler for Polar's POSTs to the endpoint: it
// reads the body (up to the receiver's limit), verifies it (Verify), and
// hands the event to fn. fn's context carries the request's values but
// ends only with WithHandlerTimeout or a lost hold on the event, not when
// Polar hangs up.
//
// Without WithDedupe, fn runs for every delivery: at least once per event,
// in no particular order. With it, per event ID across
// every process sharing the store:
//
//   - fn runs once: a delivery of an event already handled is answered
//     200 at once, without fn;
//   - a delivery of an event being handled elsewhere waits up to
//     WithBusyWait, then is answered 409 (Polar retries it later);
//   - fn failing (an error or a panic) is answered 500 and the event is not
//     recorded, so Polar's retry runs fn again;
//   - a subscription.* event whose subscription state ("modified_at", or
//     "created_at" while that is null) is strictly older than the newest
//     already handed to fn for that subscription is answered 200 without
//     fn; events of one subscription are handed to fn one at a time;
//   - a subscription.* event carrying subkit's idempotency key settles the
//     store's pending record of that create (subkit.SettlePendingCreate),
//     so that a call that ended ErrOutcomeUnknown replays without waiting
//     or sending; while that create's call still holds its key, the
//     delivery is answered 409 before fn runs, and Polar's retry settles;
//   - IDs are remembered for WithRetention (90 days).
//
// Other answers: 405 for a method other than POST; 400 for ErrMalformed
// (an oversized body included); 401 for ErrInvalidSignature and
// ErrTimestamp; 503 when the store fails. Every 409 and 503 carries
// Retry-After. Only a 2xx counts as delivered for Polar.
//
// Handler panics if fn is nil.
func (r *Receiver) Handler(fn func(ctx context.Context, ev *Event) error, opts ...HandlerOption) http.Handler {
	if fn == nil {
		panic("webhook: Handler: nil fn")
	}
	c := handlerConfig{retention: DefaultRetention, busyWait: DefaultBusyWait, timeout: DefaultHandlerTimeout,
		lease: DefaultLease, settle: subkit.SettlePendingCreate}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return &handler{r: r, fn: fn, c: c}
}

type handler struct {
	r  *Receiver
	fn func(ctx context.Context, ev *Event) error
	c  handlerConfig
}

// result is what a delivery is answered.
type result struct {
	status int
	text   string // the body: a few words for Polar's delivery log
	// retryAfter, in seconds, asks Polar to come back later (409, 503).
	retryAfter int
}

// Outcomes, as answered.
var (
	resHandled   = result{status: http.StatusOK, text: "handled"}
	resDuplicate = result{status: http.StatusOK, text: "duplicate: already handled"}
	resStale     = result{status: http.StatusOK, text: "stale: a newer state of the subscription was handled"}
	resFailed    = result{status: http.StatusInternalServerError, text: "the handler failed; not recorded"}
	resBusy      = result{status: http.StatusConflict, text: "being handled elsewhere; come back later", retryAfter: 10}
	resStoreDown = result{status: http.StatusServiceUnavailable, text: "the de-duplication store failed; come back later", retryAfter: 10}
)

func (h *handler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		h.write(w, result{status: http.StatusMethodNotAllowed, text: "POST only"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, int64(h.r.maxBody)))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			err = failure(ErrMalformed, "the body is more than the %d bytes allowed", h.r.maxBody)
		} else {
			err = failure(ErrMalformed, "reading the body: %v", err)
		}
		h.refuse(w, req, err)
		return
	}
	ev, err := h.r.Verify(req.Header, body)
	if err != nil {
		h.refuse(w, req, err)
		return
	}
	res := h.handle(req.Context(), ev)
	h.log(req.Context(), slog.LevelDebug, "webhook: delivery answered", ev, slog.Int("status", res.status), slog.String("outcome", res.text))
	h.write(w, res)
}

// refuse answers a delivery that Verify (or reading it) refused.
func (h *handler) refuse(w http.ResponseWriter, req *http.Request, err error) {
	status := http.StatusUnauthorized
	if errors.Is(err, ErrMalformed) {
		status = http.StatusBadRequest
	}
	// err is this package's: it names what was wrong, never a secret.
	if h.c.logger != nil {
		h.c.logger.LogAttrs(req.Context(), slog.LevelWarn, "webhook: delivery refused", slog.Int("status", status), slog.String("error", err.Error()))
	}
	h.write(w, result{status: status, text: err.Error()})
}

func (h *handler) write(w http.ResponseWriter, res result) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if res.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(res.retryAfter))
	}
	w.WriteHeader(res.status)
	_, _ = io.WriteString(w, res.text+"\n")
}

// handle runs fn for a verified event as the options ask.
func (h *handler) handle(ctx context.Context, ev *Event) result {
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.c.timeout)
	defer cancel()
	if h.c.store == nil {
		if err := h.run(work, ev); err != nil {
			return resFailed
		}
		return resHandled
	}
	return h.once(ctx, work, cancel, ev)
}

// run calls fn, turning a panic into an error so that the event's hold is
// always let go.
func (h *handler) run(ctx context.Context, ev *Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("webhook: fn panicked: %v", p)
			h.log(ctx, slog.LevelError, "webhook: fn panicked", ev, slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		}
	}()
	if err = h.fn(ctx, ev); err != nil {
		h.log(ctx, slog.LevelWarn, "webhook: fn failed; the event is not recorded, so Polar's retry runs it again", ev, slog.String("error", err.Error()))
	}
	return err
}

func (h *handler) log(ctx context.Context, level slog.Level, msg string, ev *Event, attrs ...slog.Attr) {
	if h.c.logger == nil {
		return
	}
	h.c.logger.LogAttrs(ctx, level, msg, append([]slog.Attr{slog.String("id", ev.ID), slog.String("type", ev.Type)}, attrs...)...)
}
