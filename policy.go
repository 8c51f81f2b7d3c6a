package subkit

import (
	"errors"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// RetryPolicy says when a call is tried again. A zero field means its default,
// so RetryPolicy{} behaves as DefaultRetryPolicy().
//
// Whatever the policy, a request that may have been applied (a 5xx, a timeout
// or a reset after the request was written) is not repeated unless
// RetryAmbiguous is set: the three APIs take no idempotency key, so a repeat
// could create a second subscription.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included; 1
	// turns retrying off. Default 4. Negative is an error.
	MaxAttempts int
	// MinBackoff is the shortest wait between attempts. Default 500ms.
	MinBackoff time.Duration
	// MaxBackoff caps the exponential backoff. Default 10s.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the SDK waits for; a longer ask
	// ends the call at once with ErrRateLimited and APIError.RetryAfter set.
	// Default 60s.
	MaxRetryAfter time.Duration
	// RetryAmbiguous also retries requests that may have been applied (a 5xx,
	// a failure after the request was written). It can create duplicates.
	// Default false. A keyed create (see Reconcile) looks up instead.
	RetryAmbiguous bool
	// Reconcile gives every Polar and Chargeflow create a key (a random one
	// unless WithIdempotencyKey gives one) and, after an ambiguous failure,
	// looks the create up instead of guessing: found, the call returns it
	// (OutcomeReconciled); not found, it retries with the same key. ChatDash
	// stores nothing to look a create up by, so Reconcile does not change
	// its calls. Default false.
	Reconcile bool
	// SettleTime is how long after an ambiguous failure a create may still
	// become visible to look-ups: still running on the server, or behind a
	// lagging read replica (Polar's look-ups read one). A keyed create looks
	// itself up from soon after the failure, backing off, until SettleTime
	// has passed: found earlier, it returns at once; only a miss at
	// SettleTime proves that it was not applied. The exactly-once guarantee
	// holds when the server applies a create, and its replica shows it,
	// within SettleTime. Default 6s (covers 5 s of replica lag).
	SettleTime time.Duration
	// AttemptTimeout bounds one attempt, sending and reading included; 0 means
	// only the call's deadline. A create attempt that runs out after its
	// request was written is ambiguous.
	AttemptTimeout time.Duration
}

// Default values of RetryPolicy's fields.
const (
	defaultMaxAttempts   = 4
	defaultMinBackoff    = 500 * time.Millisecond
	defaultMaxBackoff    = 10 * time.Second
	defaultMaxRetryAfter = 60 * time.Second
	defaultSettleTime    = 6 * time.Second
)

// DefaultRetryPolicy returns the policy a Client uses unless WithRetryPolicy
// says otherwise: 4 attempts, backoff from 500ms to 10s, Retry-After honoured
// up to 60s, ambiguous failures neither retried nor reconciled (a settle time
// of 6s applies to calls with WithIdempotencyKey), no per-attempt deadline.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxAttempts:   defaultMaxAttempts,
		MinBackoff:    defaultMinBackoff,
		MaxBackoff:    defaultMaxBackoff,
		MaxRetryAfter: defaultMaxRetryAfter,
		SettleTime:    defaultSettleTime,
	}
}

// withDefaults fills zero fields and refuses negative ones.
func (p RetryPolicy) withDefaults() (RetryPolicy, error) {
	var errs []error
	if p.MaxAttempts < 0 {
		errs = append(errs, errors.New("MaxAttempts is negative"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MinBackoff", p.MinBackoff}, {"MaxBackoff", p.MaxBackoff}, {"MaxRetryAfter", p.MaxRetryAfter},
		{"SettleTime", p.SettleTime}, {"AttemptTimeout", p.AttemptTimeout}} {
		if d.v < 0 {
			errs = append(errs, errors.New(d.name+" is negative"))
		}
	}
	if len(errs) > 0 {
		return p, errors.Join(errs...)
	}
	def := DefaultRetryPolicy()
	if p.MaxAttempts == 0 {
		p.MaxAttempts = def.MaxAttempts
	}
	if p.MinBackoff == 0 {
		p.MinBackoff = def.MinBackoff
	}
	if p.MaxBackoff == 0 {
		p.MaxBackoff = max(def.MaxBackoff, p.MinBackoff)
	}
	if p.MaxRetryAfter == 0 {
		p.MaxRetryAfter = def.MaxRetryAfter
	}
	if p.SettleTime == 0 {
		p.SettleTime = def.SettleTime
	}
	if p.MinBackoff > p.MaxBackoff {
		return p, errors.New("MinBackoff is greater than MaxBackoff")
	}
	return p, nil
}

// transport is the policy in the transport's terms for one send that may make
// at most attempts attempts: the rest of the call's budget.
func (p RetryPolicy) transport(attempts int, retryAmbiguous bool) transport.Policy {
	return transport.Policy{
		MaxAttempts: attempts, MinBackoff: p.MinBackoff, MaxBackoff: p.MaxBackoff,
		MaxRetryAfter: p.MaxRetryAfter, RetryAmbiguous: retryAmbiguous,
	}
}
