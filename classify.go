package subkit

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Action is what a caller should do after a call failed: see Classify.
type Action string

// The actions Classify advises.
const (
	// ActionNone: there was no error.
	ActionNone Action = ""
	// ActionRetry: nothing was applied and the same call may succeed now:
	// the request was never sent (a refused connection, a context that ended
	// first), or a read failed.
	ActionRetry Action = "retry"
	// ActionRetryLater: nothing was applied; the API asked to slow down or is
	// failing. Retry after ErrorClass.RetryAfter when it is set, else after a
	// backoff of your own.
	ActionRetryLater Action = "retry_later"
	// ActionLookUp: the create may have been applied. Retry it with the same
	// idempotency key (WithIdempotencyKey), which finds it if it happened and
	// creates it if not; or look it up (Get/List, GetForDispute, FindConnect)
	// before deciding. Never retry it without a key.
	ActionLookUp Action = "look_up"
	// ActionFix: nothing was applied and the same call will fail again: the
	// params, the credential or the key must change first.
	ActionFix Action = "fix"
)

// ErrorClass is what an error means for the caller's next step.
type ErrorClass struct {
	// Action is what to do next.
	Action Action
	// MayBeApplied reports whether the request may have taken effect (only
	// with ActionLookUp). Every other error is definite: nothing happened.
	MayBeApplied bool
	// RetryAfter is the wait the API asked for (a 429), 0 if it asked none.
	RetryAfter time.Duration
	// HTTPStatus is the status a service would answer its own client with
	// when this error ends its request: 400 for invalid params, 404 for an
	// unknown resource in the path, 409 for a key conflict, 422 for a
	// refusal of the request's content, 500 for the service's own
	// configuration (credential), 502 for an upstream failure, 503 (with
	// RetryAfter) for what the client may retry, 504 for a timeout of a read.
	// 0 when there is no error.
	HTTPStatus int
	// Reason says why, in a few words, for logs.
	Reason string
}

// Classify tells what err, returned by any call of this package, means for
// the caller: whether the request may have been applied, whether and when to
// retry, and what HTTP status a service would answer its own client with. It
// checks the sentinels in the order that decides (ErrOutcomeUnknown before
// ErrServer, which comes with it on a create). An error that did not come from
// this package is classified as a possibly applied failure (ActionLookUp): the
// one answer that can never cause a duplicate.
func Classify(err error) ErrorClass {
	var apiErr *APIError
	isAPI := errors.As(err, &apiErr)
	switch {
	case err == nil:
		return ErrorClass{}
	case errors.Is(err, ErrOutcomeUnknown):
		return ErrorClass{Action: ActionLookUp, MayBeApplied: true, HTTPStatus: http.StatusServiceUnavailable,
			Reason: "the create may have been applied"}
	case errors.Is(err, ErrIdempotencyConflict):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusConflict, Reason: "the key belongs to another create"}
	case errors.Is(err, ErrDisputeHasSubscription):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusConflict, Reason: "the dispute holds another create's subscription"}
	case errors.Is(err, ErrAmbiguousMatch):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusConflict, Reason: "several subscriptions match: decide by hand"}
	case errors.Is(err, ErrInvalidParams):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusBadRequest, Reason: "invalid params, nothing sent"}
	case errors.Is(err, ErrMissingCredential), errors.Is(err, ErrUnauthorized), errors.Is(err, ErrForbidden):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusInternalServerError, Reason: "the credential is missing or refused"}
	case errors.Is(err, ErrProductNotFound), errors.Is(err, ErrCustomerNotFound):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusUnprocessableEntity, Reason: "the product or customer does not exist"}
	case errors.Is(err, ErrNotFound):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusNotFound, Reason: "not found"}
	case errors.Is(err, ErrRejected):
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusUnprocessableEntity, Reason: "refused by the API"}
	case errors.Is(err, ErrRateLimited):
		c := ErrorClass{Action: ActionRetryLater, HTTPStatus: http.StatusServiceUnavailable, Reason: "rate limited"}
		if isAPI {
			c.RetryAfter = apiErr.RetryAfter
		}
		return c
	case errors.Is(err, ErrLockLost):
		return ErrorClass{Action: ActionRetry, HTTPStatus: http.StatusServiceUnavailable, Reason: "the idempotency lease was lost, nothing more sent"}
	case errors.Is(err, ErrStoreUnavailable):
		return ErrorClass{Action: ActionRetryLater, HTTPStatus: http.StatusServiceUnavailable, Reason: "the idempotency store is unavailable, nothing sent"}
	case errors.Is(err, ErrServer):
		return ErrorClass{Action: ActionRetryLater, HTTPStatus: http.StatusBadGateway, Reason: "the API failed a read"}
	case errors.Is(err, ErrNotSent):
		return ErrorClass{Action: ActionRetry, HTTPStatus: http.StatusServiceUnavailable, Reason: "nothing was sent"}
	case isAPI:
		return ErrorClass{Action: ActionFix, HTTPStatus: http.StatusBadGateway, Reason: "unexpected status from the API"}
	}
	var te *transportError
	if errors.As(err, &te) { // a read, or a create proven not applied
		status := http.StatusBadGateway
		if errors.Is(err, context.DeadlineExceeded) {
			status = http.StatusGatewayTimeout
		}
		return ErrorClass{Action: ActionRetry, HTTPStatus: status, Reason: "no response, nothing applied"}
	}
	return ErrorClass{Action: ActionLookUp, MayBeApplied: true, HTTPStatus: http.StatusInternalServerError,
		Reason: "not an error of this package"}
}
