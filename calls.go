package subkit

// CallOption changes one call. Make one with WithIdempotencyKey or
// WithResponseInfo.
type CallOption struct {
	apply func(*callSettings)
}

type callSettings struct {
	info   *ResponseInfo
	key    string
	hasKey bool
	// looked is the caller's own key look-up (WithKeyLookup); hasLooked
	// tells an empty one from none.
	looked    []*Subscription
	hasLooked bool
	replace   bool // WithReplaceExisting
}

// collectCallOptions gathers a call's options at its very start.
func collectCallOptions(opts []CallOption) callSettings {
	if len(opts) == 0 {
		return callSettings{} // the common case, without allocating
	}
	cs := new(callSettings) // escapes through apply
	for _, o := range opts {
		if o.apply != nil {
			o.apply(cs)
		}
	}
	return *cs
}

// WithReplaceExisting lets a keyed Chargeflow create (WithIdempotencyKey)
// replace the subscription its dispute already holds from another create
// (another source_id). Without it such a create is refused before anything
// is sent (ErrDisputeHasSubscription), because a dispute holds one
// subscription and a second create silently replaces the first. Unkeyed
// creates are not checked: they replace, as the API does.
func WithReplaceExisting() CallOption {
	return CallOption{apply: func(cs *callSettings) { cs.replace = true }}
}

// finish ends a public method: it reports info to the caller's ResponseInfo
// (the one place it is written, so that a call refused before sending leaves
// no earlier call's values there) and returns the result or the error.
func finish[T any](cs callSettings, info ResponseInfo, out *T, err error) (*T, error) {
	if cs.info != nil {
		*cs.info = info
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// WithIdempotencyKey makes a create happen at most once under key — across
// retries, across calls that overlap (an HTTP client retrying while the
// first request still runs), across the processes sharing an idempotency
// store, and across restarts. The call takes the key in
// the client's store (WithIdempotencyStore) before it sends anything, waiting
// while another call holds it; replays what an earlier call created
// (OutcomeReplayed, from the store's record, or found by a key-only look-up
// at the API); and after an ambiguous failure looks the create up until
// RetryPolicy.SettleTime has passed instead of guessing (OutcomeReconciled).
// A key already used for another create (another product or customer;
// another dispute or source_id) fails with ErrIdempotencyConflict, nothing
// sent. Choose a stable business ID, such as an order or job ID.
//
// A replay returns the subscription the key created even if it has since
// been canceled: the key names that create, not "an active subscription".
//
// The key is 1–500 characters without NUL, scoped to its API. Polar keeps it
// in the subscription's metadata under "subkit_idempotency_key"; for
// Chargeflow the dispute and source_id identify the create, so two keys for
// the same pair replay each other. ChatDash stores nothing to find a create
// by: a keyed ChatDash create fails with ErrInvalidParams (see FindConnect).
// Look-ups ignore the option.
func WithIdempotencyKey(key string) CallOption {
	return CallOption{apply: func(cs *callSettings) { cs.key, cs.hasKey = key, true }}
}

// WithKeyLookup gives a keyed Polar create (WithIdempotencyKey) the result
// of a key-only look-up the caller has just made with FindByIdempotencyKeys:
// subs are the subscriptions that carry the key, possibly none. The create
// then decides from them instead of looking the key up itself — it replays
// the one that matches (OutcomeReplayed), refuses one made for another
// product or customer (ErrIdempotencyConflict), and creates when there is
// none — so a batch of creates costs one look-up per page of keys instead of
// one per create. The idempotency store is consulted first, as always, so
// overlapping calls stay serialised. Pass only a fresh look-up: a create
// under the key made after it is not in subs. Ignored by other calls.
func WithKeyLookup(subs []*Subscription) CallOption {
	return CallOption{apply: func(cs *callSettings) { cs.looked, cs.hasLooked = subs, true }}
}

// WithResponseInfo fills *dst when the call returns, error or not: the status
// and request ID of the response, the number of attempts and, for a create that
// succeeded, its Outcome. A nil dst is ignored.
func WithResponseInfo(dst *ResponseInfo) CallOption {
	return CallOption{apply: func(cs *callSettings) { cs.info = dst }}
}

// ResponseInfo describes how a call went, for logs and support tickets. For
// a list (List, ListConnect) it is written when the loop over the sequence
// ends and describes the last page, with Attempts counting the requests of
// every page.
type ResponseInfo struct {
	API API
	// StatusCode is the status of the response the result (or error) came
	// from: a look-up's when Outcome is reconciled, or replayed after a
	// look-up; the earlier create's when replayed from the idempotency
	// store's record; 0 when no response arrived.
	StatusCode int
	// RequestID is the API's ID of the response, for its support; "" if
	// none. For a create it is the create's own response's, whatever the
	// outcome: for OutcomeReconciled that of the attempt whose result was
	// lost ("" when no response arrived), for OutcomeReplayed the earlier
	// create's when the idempotency store recorded it ("" when a look-up
	// found it).
	RequestID string
	// LookupRequestID is the request ID of the look-up a reconciled or
	// replayed result came from; "" otherwise.
	LookupRequestID string
	// Attempts counts the create attempts (or, for a look-up, its attempts)
	// this call made, a refused connection included; 0 for a replay.
	Attempts int
	// Outcome says how a create's result came about; "" for look-ups and
	// failed calls.
	Outcome Outcome
}

// Outcome says how a create's result came about.
type Outcome string

// The outcomes of a create that returned a subscription.
const (
	// OutcomeCreated: this call's request created it and the response arrived.
	OutcomeCreated Outcome = "created"
	// OutcomeReplayed: an earlier call with the same idempotency key created
	// it; nothing was sent.
	OutcomeReplayed Outcome = "replayed"
	// OutcomeReconciled: this call created it, the response was lost, and a
	// look-up found it.
	OutcomeReconciled Outcome = "reconciled"
)
