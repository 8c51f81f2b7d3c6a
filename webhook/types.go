package webhook

// subscriptionPrefix starts the type of every event about a subscription.
const subscriptionPrefix = "subscription."

// Polar's event types about subscriptions (Event.Type). Every one carries
// the whole subscription as it stood when the event was made
// (Event.Subscription). An API create sends SubscriptionCreated, then
// SubscriptionActive, then SubscriptionUpdated; every later change sends
// SubscriptionUpdated and, for the transitions below, one more event.
// Events of one subscription may arrive in any order: the Handler with
// WithDedupe hands an older state to fn never after a newer one.
const (
	// SubscriptionCreated: the subscription was made. One created by
	// subkit with an idempotency key carries it in its metadata
	// (subkit.Subscription.IdempotencyKey).
	SubscriptionCreated = "subscription.created"
	// SubscriptionActive: the subscription became active — at once for one
	// made through the API, after payment or trial otherwise, and again
	// when it recovers from past_due or is reinstated after a cancellation.
	SubscriptionActive = "subscription.active"
	// SubscriptionUpdated: anything about the subscription changed; sent
	// with every other subscription event too. Its data is the full new
	// state: a receiver that keeps only the latest state needs only this.
	SubscriptionUpdated = "subscription.updated"
	// SubscriptionCanceled: the subscription was canceled, and will end.
	// Access usually goes on: the status stays active, with
	// CancelAtPeriodEnd set and EndsAt the end of the paid period, until
	// Polar ends it then (SubscriptionRevoked). It is also sent, just before
	// SubscriptionRevoked, when a subscription is revoked at once. Do not
	// cut access on this event: cut it on SubscriptionRevoked.
	SubscriptionCanceled = "subscription.canceled"
	// SubscriptionUncanceled: a cancellation at the period's end was
	// withdrawn before it took effect; the subscription goes on renewing.
	SubscriptionUncanceled = "subscription.uncanceled"
	// SubscriptionRevoked: access ends now. The subscription's status is
	// canceled (or unpaid) and EndedAt is set: revoked by the merchant, or
	// reached the end of a canceled period, or ended by failed payments.
	SubscriptionRevoked = "subscription.revoked"
	// SubscriptionPastDue: a renewal payment failed; Polar retries it, and
	// revokes the subscription if it never succeeds.
	SubscriptionPastDue = "subscription.past_due"
	// SubscriptionPaused: the subscription was paused (status paused).
	SubscriptionPaused = "subscription.paused"
	// SubscriptionResumed: a paused subscription is active again.
	SubscriptionResumed = "subscription.resumed"
	// SubscriptionCycled: a new billing period began (a renewal).
	SubscriptionCycled = "subscription.cycled"
)
