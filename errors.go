package subkit

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/subkit-go/subkit/internal/validate"
)

// Sentinel errors, for errors.Is; errors.As gives the *APIError or
// *ValidationError behind an error. Classify turns any error into what to do
// next. A response whose status none of them names (a 3xx, a 418) matches
// none: it is a definite failure, and the *APIError tells what happened.
var (
	// ErrInvalidParams: client-side validation failed; nothing was sent.
	ErrInvalidParams = errors.New("subkit: invalid params")
	// ErrMissingCredential: the API's credential is not configured; nothing was sent.
	ErrMissingCredential = errors.New("subkit: missing credential")
	// ErrNotSent: the request never reached the server — the connection
	// failed before it was written (refused, DNS, TLS handshake), on every
	// attempt the policy allowed, or the context ended before it was sent.
	// Definite: nothing was applied.
	ErrNotSent = errors.New("subkit: not sent")
	// ErrUnauthorized: the server responded with 401.
	ErrUnauthorized = errors.New("subkit: unauthorized")
	// ErrForbidden: the server responded with 403.
	ErrForbidden = errors.New("subkit: forbidden")
	// ErrNotFound: the server responded with 404, or a look-up found nothing.
	ErrNotFound = errors.New("subkit: not found")
	// ErrRejected: the server refused the request as sent (400, 409, 422).
	ErrRejected = errors.New("subkit: rejected")
	// ErrProductNotFound: Polar refused a create because its product does
	// not exist in the organization ("Product does not exist.", a 422 that
	// also matches ErrRejected).
	ErrProductNotFound = errors.New("subkit: product does not exist")
	// ErrCustomerNotFound: Polar refused a create because its customer does
	// not exist, by ID or by external ID ("Customer does not exist.", a 422
	// that also matches ErrRejected).
	ErrCustomerNotFound = errors.New("subkit: customer does not exist")
	// ErrRateLimited: 429, after the retries the policy allows, or with a
	// Retry-After longer than the policy or the deadline allows.
	ErrRateLimited = errors.New("subkit: rate limited")
	// ErrServer: the server responded with 5xx. For a create it comes with
	// ErrOutcomeUnknown, which decides what to do.
	ErrServer = errors.New("subkit: server error")
	// ErrOutcomeUnknown: the request may have been applied — a 5xx, a failure
	// after the request was written, or a success whose body was lost. Retry
	// with the same idempotency key (WithIdempotencyKey), which finds the
	// create if it happened, or look it up first: Get/List for Polar,
	// GetForDispute for Chargeflow, FindConnect for ChatDash.
	ErrOutcomeUnknown = errors.New("subkit: outcome unknown")
	// ErrIdempotencyConflict: the idempotency key was used before for a
	// different create (another product, customer, dispute or source_id).
	// Nothing was sent; definite.
	ErrIdempotencyConflict = errors.New("subkit: idempotency key used for a different create")
	// ErrDisputeHasSubscription: a keyed Chargeflow create found its
	// dispute already holding the subscription of another create (another
	// source_id), which a create would replace. Nothing was sent; definite.
	// errors.As gives *DisputeOccupiedError, naming the one it holds;
	// WithReplaceExisting replaces it instead.
	ErrDisputeHasSubscription = errors.New("subkit: the dispute already holds another subscription")
	// ErrStoreUnavailable: a keyed create could not reach its idempotency
	// store (WithIdempotencyStore) to take its key, so it sent nothing rather
	// than create without the guard. Definite; retry later.
	ErrStoreUnavailable = errors.New("subkit: idempotency store unavailable")
	// ErrAmbiguousMatch: a look-up by content (FindConnect) found more than
	// one subscription the create could have made; *AmbiguousMatchError
	// lists them. Decide by hand before creating again.
	ErrAmbiguousMatch = errors.New("subkit: ambiguous match")
)

// APIError is a response from a server that was not a success, or a success
// whose body could not be read. It carries nothing secret.
type APIError struct {
	API        API
	StatusCode int
	// Code is the machine-readable code from the body, such as
	// "invalid_token", "NotPermitted" or "RequestValidationError"; "" if none.
	Code string
	// Message is the human message from the body, else the status text.
	Message string
	// Fields lists the per-field problems the server reported (Polar 422).
	Fields []FieldError
	// RequestID identifies the request to the API's support, from a
	// request-ID header or a requestId body field; "" if the response had none.
	RequestID string
	// RetryAfter is the wait the server asked for (Retry-After), if it did.
	RetryAfter time.Duration
	// Attempts is the number of attempts made before this error.
	Attempts int
	// Body is the raw body of the response, its first 65,536 bytes (64 KiB)
	// at most; nil when it had none.
	Body []byte

	// mayBeApplied is set when the request may have taken effect although
	// this error is what the caller gets: a 5xx to a create, a lost success
	// body, or an earlier ambiguous attempt under RetryAmbiguous.
	mayBeApplied bool
	// readOnly marks errors of look-ups, for which a 5xx changes nothing.
	readOnly bool
	// notApplied is set when a look-up proved that the create did not
	// happen, which overrides what the status alone would say.
	notApplied bool
	cause      error
}

// Error reads well in a log: API, status, code, message and request ID.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "subkit: %s: %d %s", e.API, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		b.WriteString(": ")
		b.WriteString(e.Code)
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request ID %s)", e.RequestID)
	}
	if e.cause != nil {
		fmt.Fprintf(&b, ": %v", e.cause)
	}
	switch {
	case e.Is(ErrOutcomeUnknown):
		b.WriteString(" (outcome unknown: the request may have been applied)")
	case e.notApplied:
		b.WriteString(" (a look-up found that the create was not applied)")
	}
	return b.String()
}

// Is maps the status to the sentinel errors. A 5xx to a create is both
// ErrServer and ErrOutcomeUnknown.
func (e *APIError) Is(target error) bool {
	s := e.StatusCode
	switch target {
	case ErrUnauthorized:
		return s == http.StatusUnauthorized
	case ErrForbidden:
		return s == http.StatusForbidden
	case ErrNotFound:
		return s == http.StatusNotFound
	case ErrRejected:
		return s == http.StatusBadRequest || s == http.StatusConflict || s == http.StatusUnprocessableEntity
	case ErrProductNotFound:
		return e.polarRefusal("Product does not exist.", "product_id")
	case ErrCustomerNotFound:
		return e.polarRefusal("Customer does not exist.", "customer_id", "external_customer_id")
	case ErrRateLimited:
		return s == http.StatusTooManyRequests
	case ErrServer:
		return s >= 500 && s <= 599
	case ErrOutcomeUnknown:
		return !e.notApplied && (e.mayBeApplied || (s >= 500 && s <= 599 && !e.readOnly))
	}
	return false
}

// polarRefusal reports whether e is Polar's 422 refusing one of fields with
// message, as its create does for a product or customer it does not hold.
func (e *APIError) polarRefusal(message string, fields ...string) bool {
	if e.API != Polar || e.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, f := range e.Fields {
		for _, name := range fields {
			if f.Field == name && f.Message == message {
				return true
			}
		}
	}
	return false
}

// Unwrap gives the cause of a success that could not be read (a decode
// error, a body over the size limit), or nil.
func (e *APIError) Unwrap() error { return e.cause }

// FieldError is one problem with one field. Field is a dotted wire path such
// as "metadata.plan" or "data.agentIds[0]".
type FieldError struct {
	Field   string
	Message string
	// Code is a short machine code: "required", "too_long", "invalid", … for
	// client-side checks, the server's type for server-reported ones.
	Code string
}

// String renders "field: message".
func (f FieldError) String() string {
	if f.Field == "" {
		return f.Message
	}
	return f.Field + ": " + f.Message
}

// ValidationError lists every problem client-side validation found; nothing
// was sent. errors.Is(err, ErrInvalidParams) holds.
type ValidationError struct {
	API    API
	Fields []FieldError
}

// Error lists every problem.
func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "subkit: %s: invalid params: ", e.API)
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}

// Is reports whether target is ErrInvalidParams.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidParams }

// transportError is a call that ended without a usable response: a connection
// failure, a timeout, a cancellation. It wraps the cause, so
// errors.Is(err, context.DeadlineExceeded) holds, and ErrOutcomeUnknown when
// the request may have been applied.
type transportError struct {
	api          API
	method, path string
	attempts     int
	sent         bool // some attempt may have reached the server
	mayBeApplied bool
	notApplied   bool // a look-up proved the create did not happen
	err          error
}

func (e *transportError) Error() string {
	what := "the request was not sent"
	switch {
	case e.sent && !e.mayBeApplied && !e.notApplied:
		what = "no response"
	case e.mayBeApplied:
		what = "outcome unknown: the request may have been applied"
	case e.notApplied:
		what = "no response, and a look-up found that the create was not applied"
	}
	return fmt.Sprintf("subkit: %s: %s %s: %s (after %d attempt(s)): %v", e.api, e.method, e.path, what, e.attempts, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

func (e *transportError) Is(target error) bool {
	switch target {
	case ErrOutcomeUnknown:
		return e.mayBeApplied
	case ErrNotSent:
		return !e.sent
	}
	return false
}

// storeError is a keyed create that sent nothing because its idempotency
// store failed. It matches ErrStoreUnavailable.
type storeError struct {
	api  API
	what string
	err  error
}

func (e *storeError) Error() string {
	return fmt.Sprintf("subkit: %s: nothing was sent: the idempotency store failed %s: %v", e.api, e.what, e.err)
}

func (e *storeError) Unwrap() error { return e.err }

func (e *storeError) Is(target error) bool { return target == ErrStoreUnavailable }

// provenNotApplied marks an ambiguous failure whose look-up found nothing:
// the create did not happen, so the error is definite.
func provenNotApplied(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		cp := *ae
		cp.mayBeApplied, cp.notApplied = false, true
		return &cp
	}
	var te *transportError
	if errors.As(err, &te) {
		cp := *te
		cp.mayBeApplied, cp.notApplied = false, true
		return &cp
	}
	return err
}

// reconcileError is an ambiguous create whose look-up failed: the outcome
// stays unknown. It wraps both errors.
type reconcileError struct {
	api            API
	create, lookup error
}

func (e *reconcileError) Error() string {
	return fmt.Sprintf("subkit: %s: outcome unknown: the create failed ambiguously (%v) and looking it up failed (%v)",
		e.api, e.create, e.lookup)
}

func (e *reconcileError) Unwrap() []error { return []error{e.create, e.lookup} }

func (e *reconcileError) Is(target error) bool { return target == ErrOutcomeUnknown }

// invalid turns the problems validation found into the error a call returns,
// or nil when there are none.
func invalid(api API, problems validate.Problems) error {
	if len(problems) == 0 {
		return nil
	}
	fields := make([]FieldError, len(problems))
	for i, p := range problems {
		fields[i] = FieldError(p)
	}
	return &ValidationError{API: api, Fields: fields}
}

// unreadableResponse is a success whose body could not be read (too large, cut
// short, not the expected JSON), as info describes it. For a create the
// create happened but its result was lost, so the outcome is unknown.
func unreadableResponse(api API, info ResponseInfo, create bool, body []byte, cause error) *APIError {
	return &APIError{API: api, StatusCode: info.StatusCode, Message: "the response could not be read",
		RequestID: info.RequestID, Attempts: info.Attempts, Body: body,
		mayBeApplied: create, readOnly: !create, cause: cause}
}

// leaseLostError is a keyed create that stopped because its lock's lease
// was no longer proven to hold (a failed extension, a store that stopped
// answering): another holder may have the key, so nothing more was sent.
// Every attempt it made before is known not to have been applied, so it is
// definite. It matches ErrLockLost.
type leaseLostError struct {
	api      API
	attempts int
	err      error
}

func (e *leaseLostError) Error() string {
	return fmt.Sprintf("subkit: %s: nothing was sent: %v", e.api, e.err)
}

func (e *leaseLostError) Unwrap() error { return e.err }
