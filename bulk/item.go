package bulk

import (
	"fmt"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/subkit-go/subkit"
)

// Item is one create of a run, made exactly once under its Key. Exactly one
// of Customer, ExternalCustomer and Dispute is set.
//
// ChatDash has no field here on purpose: ChatDash stores nothing a create
// could be found by, so the SDK refuses to key its creates, and a run of
// unkeyed creates could neither resume nor promise exactly once. Make
// ChatDash creates one at a time with CreateConnect, and FindConnect after an
// unknown outcome.
type Item struct {
	// Key is the create's idempotency key (subkit.WithIdempotencyKey): 1–500
	// characters, valid UTF-8, no NUL. Choose a stable business ID — the
	// user's ID, the dispute's ID —, never a random one: rerunning the same
	// input finds the creates by their keys, which is what makes a run
	// resumable. Two items with one key are one create: the second replays
	// the first, or is refused (Conflicted) if it names another create.
	Key string
	// Line is where the item came from, such as its line in a file; Run
	// copies it into the Result and does not read it otherwise. 0 if unused.
	Line int

	// Customer subscribes a Polar customer by Polar's customer ID
	// (SubscriptionsService.CreateForCustomer).
	Customer *subkit.CustomerSubscriptionParams
	// ExternalCustomer subscribes a Polar customer by your own ID for it
	// (SubscriptionsService.CreateForExternalCustomer).
	ExternalCustomer *subkit.ExternalCustomerSubscriptionParams
	// Dispute records the subscription behind the Chargeflow dispute
	// DisputeID (SubscriptionsService.CreateForDispute).
	Dispute *subkit.DisputeSubscriptionParams
	// DisputeID is the Chargeflow dispute, 24 hex characters; only with
	// Dispute.
	DisputeID string
}

// API returns the API the item's create goes to, or "" when the item names
// no create or more than one.
func (it Item) API() subkit.API {
	k, ok := it.Kind()
	if !ok {
		return ""
	}
	return k.API
}

// ErrInvalidItem is what an item that Run cannot send fails with (its
// Result's Err matches it with errors.Is): no create or several, a bad key,
// or an error from the input itself. Nothing was sent for it; definite. It
// wraps subkit.ErrInvalidParams, so subkit.Classify advises ActionFix.
var ErrInvalidItem error = invalidItemError{}

type invalidItemError struct{}

func (invalidItemError) Error() string { return "bulk: invalid item" }

// Is makes ErrInvalidItem match subkit.ErrInvalidParams without adding its
// words to every message.
func (invalidItemError) Is(target error) bool { return target == subkit.ErrInvalidParams }

// maxKeyChars is the SDK's limit on an idempotency key.
const maxKeyChars = 500

// check returns why the item cannot be sent, or nil. The create's own
// params are left to the SDK, which checks every field before sending.
func (it *Item) check() error {
	var problems []string
	switch k := it.Key; {
	case k == "":
		problems = append(problems, "key is required")
	case !utf8.ValidString(k):
		problems = append(problems, "key must be valid UTF-8")
	case strings.IndexByte(k, 0) >= 0:
		problems = append(problems, "key must not contain a NUL character")
	case utf8.RuneCountInString(k) > maxKeyChars:
		problems = append(problems, fmt.Sprintf("key must be at most %d characters, got %d", maxKeyChars, utf8.RuneCountInString(k)))
	}
	n, fields := 0, make([]string, 0, 3)
	for _, k := range Kinds() {
		fields = append(fields, k.Field)
		if k.set(it) {
			n++
		}
	}
	switch {
	case n == 0:
		problems = append(problems, "no create: set one of "+strings.Join(fields, ", "))
	case n > 1:
		problems = append(problems, "several creates: set only one of "+strings.Join(fields, ", "))
	case it.Dispute == nil && it.DisputeID != "":
		problems = append(problems, "DisputeID is set without Dispute")
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrInvalidItem, strings.Join(problems, "; "))
}

// Items turns a slice into the sequence Run reads, each with no error.
func Items(items ...Item) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		for _, it := range items {
			if !yield(it, nil) {
				return
			}
		}
	}
}
