package bulk

import (
	"errors"
	"fmt"

	"github.com/subkit-go/subkit"
)

// Outcome is how one item of a run ended. Every item ends with exactly one.
type Outcome string

// The outcomes of an item. Created, Replayed and Reconciled mean the
// subscription exists (Result.SubscriptionID); Conflicted and Failed that
// nothing was applied and rerunning alone will not help; Unknown and
// NotAttempted that rerunning the same input will settle the item.
const (
	// Created: this run created it.
	Created Outcome = "created"
	// Replayed: an earlier run (or an earlier item with the same key)
	// created it; nothing was sent for it.
	Replayed Outcome = "replayed"
	// Reconciled: this run created it, the answer was lost, and a look-up
	// found it.
	Reconciled Outcome = "reconciled"
	// Conflicted: the key belongs to a different create (another product,
	// customer, dispute or source_id): subkit.ErrIdempotencyConflict.
	// Nothing was sent.
	Conflicted Outcome = "conflicted"
	// Failed: the create definitely did not happen — the item was invalid,
	// the API refused it, the key look-up failed, … Result.Err says why and
	// subkit.Classify(Result.Err) what to do.
	Failed Outcome = "failed"
	// Unknown: the create may have happened (subkit.ErrOutcomeUnknown).
	// Rerun the item with the same key: it finds the create or makes it.
	Unknown Outcome = "unknown"
	// NotAttempted: the run stopped (its context ended) before the item
	// started; nothing was sent for it. Rerun to make it. Its Result's Err
	// matches ErrNotAttempted.
	NotAttempted Outcome = "not_attempted"
)

// ErrNotAttempted is the error of a NotAttempted item, joined with the
// context's cause (context.Canceled, …). It wraps subkit.ErrNotSent, so
// subkit.Classify advises ActionRetry.
var ErrNotAttempted = fmt.Errorf("bulk: not attempted: %w", subkit.ErrNotSent)

// Outcomes lists every outcome, in the order summaries print them.
func Outcomes() []Outcome {
	return []Outcome{Created, Replayed, Reconciled, Conflicted, Failed, Unknown, NotAttempted}
}

// OK reports whether the outcome means that the subscription exists.
func (o Outcome) OK() bool { return o == Created || o == Replayed || o == Reconciled }

// Result is how one item of a run ended.
type Result struct {
	// Index is the item's position in the input sequence, from 0.
	Index int
	// Item is the item as read; for an input error, whatever the input gave
	// with it (Key and Line at least, when the input could tell them).
	Item Item
	// API is the API the item's create went to; "" for an invalid item.
	API subkit.API
	// Outcome is how the item ended.
	Outcome Outcome
	// Subscription is the Polar subscription, when the outcome is OK and
	// the item was a Polar create; nil otherwise.
	Subscription *subkit.Subscription
	// Dispute is the Chargeflow subscription, when the outcome is OK and the
	// item was a Chargeflow create; nil otherwise.
	Dispute *subkit.DisputeSubscription
	// Err is why the item did not end OK; nil when it did. It matches
	// ErrInvalidItem for an item that could not be sent, ErrNotAttempted and
	// the context's cause (context.Canceled, …) for NotAttempted, and
	// otherwise wraps the SDK's error. subkit.Classify tells what any of them
	// means.
	Err error
	// Info describes the create call (status, request ID, attempts);
	// zero when no call was made.
	Info subkit.ResponseInfo
}

// SubscriptionID returns the ID of the subscription the item made or found,
// "" if none.
func (r Result) SubscriptionID() string {
	switch {
	case r.Subscription != nil:
		return r.Subscription.ID
	case r.Dispute != nil:
		return r.Dispute.ID
	}
	return ""
}

// outcomeOf reads a create call's outcome from what it returned.
func outcomeOf(info subkit.ResponseInfo, err error) Outcome {
	switch {
	case err == nil && info.Outcome == subkit.OutcomeReplayed:
		return Replayed
	case err == nil && info.Outcome == subkit.OutcomeReconciled:
		return Reconciled
	case err == nil:
		return Created
	case errors.Is(err, subkit.ErrIdempotencyConflict):
		return Conflicted
	case subkit.Classify(err).MayBeApplied:
		return Unknown
	}
	return Failed
}
