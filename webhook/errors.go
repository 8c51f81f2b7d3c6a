package webhook

import (
	"errors"
	"fmt"
)

// The errors Verify returns, each wrapped with a reason that names what was
// wrong (a header, a length, a number) and never a secret, a signature or
// the body. Test them with errors.Is.
var (
	// ErrInvalidSignature: the request carries no webhook-signature header,
	// or none of its v1 signatures was made with any of the receiver's
	// secrets, under either key scheme. The request is not Polar's, or the
	// receiver's secrets are not the endpoint's current one.
	ErrInvalidSignature = errors.New("webhook: invalid signature")
	// ErrTimestamp: the signature is valid, but webhook-timestamp is further
	// from the receiver's clock than the tolerance (WithTolerance): a replay
	// of an old delivery, or a clock out of step with Polar's.
	ErrTimestamp = errors.New("webhook: timestamp outside the tolerance")
	// ErrMalformed: the request cannot be read as a webhook: a missing or
	// malformed webhook-id or webhook-timestamp header, a malformed
	// webhook-signature header, a body larger than the limit
	// (WithMaxBodySize), or a signed body that is not Polar's payload
	// ({"type", "timestamp", "data"}).
	ErrMalformed = errors.New("webhook: malformed webhook")
	// ErrNotSubscription: Event.Subscription was called on an event whose
	// type is not subscription.*.
	ErrNotSubscription = errors.New("webhook: not a subscription event")
)

// failure wraps one of the errors above with a reason. reason is written by
// this package: it never quotes a secret, a signature or the body.
func failure(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}
