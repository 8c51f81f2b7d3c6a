// Package subkit creates subscriptions on three billing APIs through one
// Client:
//
//   - ChatDash: an agency creates a Stripe Connect subscription (schedule) for
//     one of its clients (CreateConnect, agency API key);
//   - Chargeflow: a merchant records the subscription behind a disputed charge
//     so that the dispute can be won (CreateForDispute, API key);
//   - Polar: an organization subscribes an existing customer, by Polar ID or
//     by its own external ID, to a free recurring product (CreateForCustomer,
//     CreateForExternalCustomer, organization access token).
//
// # Where things are
//
// One file per API area holds its calls, params, results and look-ups:
// subscriptions.go (ChatDash, with SubscriptionsService), disputes.go
// (Chargeflow), customers.go (Polar; its Subscription object graph is in
// types.go with the shared value types) and webhooks.go (Polar's webhook
// deliveries, WebhooksService; receiving them is package webhook). apis.go
// is the one table of what differs between the APIs. Every call goes
// through do.go; a keyed create goes through the exactly-once protocol
// above it (exactlyonce.go, its lease and fence in exactlyonce_fence.go,
// a webhook's settling in exactlyonce_settle.go), which keeps its state in
// an IdempotencyStore (store.go; the in-memory one in memorystore.go).
//
// # Calls
//
// Every call validates its parameters before sending anything (a
// *ValidationError naming every bad field, errors.Is ErrInvalidParams), sends
// the documented request with the API's credential, and decodes the response
// into a typed result or an *APIError.
//
// # Retries never duplicate
//
// None of the three APIs accepts an idempotency key, so a create whose response
// is lost may or may not have happened. subkit retries only what provably did
// not run: a 429 (after its Retry-After, within RetryPolicy.MaxRetryAfter and
// the deadline) and a connection that failed before the request was written.
// A 5xx, a timeout or a reset after sending ends the call with an error that
// matches ErrOutcomeUnknown, unless RetryPolicy.RetryAmbiguous says otherwise.
//
// # Exactly once
//
// WithIdempotencyKey makes a Polar or Chargeflow create happen once under its
// key, however calls overlap: the key is taken in the Client's
// IdempotencyStore (shared by a fleet with subkitredis.NewStore), a finished
// create is replayed from its record, a key used for another create is
// refused (ErrIdempotencyConflict), and an ambiguous failure is looked up
// until RetryPolicy.SettleTime has passed instead of guessed. ChatDash
// stores nothing to find a create by: FindConnect looks for one by content.
//
// # Pacing
//
// Every request waits on its API's Limiter first (WithRateLimiter). Polar's
// own servers are paced to their published limit by default, so that one
// Client never draws Polar's 429, whose Retry-After is a whole minute.
//
// # Errors
//
// Errors are classified by sentinel errors with errors.Is (ErrRejected,
// ErrRateLimited, ErrOutcomeUnknown, …) and give an *APIError or
// *ValidationError with errors.As; Classify says in one call what to do
// next. An error that does not match ErrOutcomeUnknown is definite: the
// request was not applied. No error, log
// line or formatted value carries a credential.
//
// # Testing
//
// Package subkittest serves in-memory fakes of the three APIs over a loopback
// server, the way net/http/httptest serves net/http.
package subkit
