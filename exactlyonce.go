package subkit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// match is what a look-up of a keyed create found.
type match int

const (
	notFound match = iota
	found          // the create, filled into the call's result
	conflict       // only another create under the same key
	occupied       // Chargeflow: the dispute holds another create's subscription
)

// finder looks a keyed create up by its key alone, so that a key used for
// another create shows as a conflict. info describes the look-up's response.
type finder func(ctx context.Context) (m match, info ResponseInfo, err error)

// keyedCreate is what a create needs to happen exactly once.
type keyedCreate struct {
	// key is the idempotency key; callerKey is set when the caller gave it
	// (WithIdempotencyKey), so that an earlier call may have used it: the
	// create takes it in the store and looks before sending. A random key
	// (RetryPolicy.Reconcile) is new, so neither is needed.
	key       string
	callerKey bool
	find      finder
	// looked, when set, decides from the caller's own fresh key look-up
	// (WithKeyLookup) instead of the replay look-up; settling after a
	// failure, or after a pending record, always looks for real.
	looked func() match
	// occupiedErr describes what an occupied look-up found (Chargeflow).
	occupiedErr func() error
}

// idempotencyKey returns the key a create runs under — the caller's, or a
// random one when the policy reconciles every create — and whether the create
// is keyed at all. The caller's key still has to be validated.
func (c *Client) idempotencyKey(cs callSettings) (string, bool) {
	switch {
	case cs.hasKey:
		return cs.key, true
	case c.policy.Reconcile:
		var b [16]byte
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
		return "sk_" + hex.EncodeToString(b[:]), true
	}
	return "", false
}

// create sends a create: exactly once under k when it is keyed, else as
// any call.
func (c *Client) create(ctx context.Context, r *request, k *keyedCreate, out any) (ResponseInfo, error) {
	if k == nil {
		return c.do(ctx, r, out)
	}
	return c.createOnce(ctx, r, k, out)
}

// createOnce makes a keyed create happen at most once. A caller's key is
// taken in the store, claimed as "sending" in the same step when it has no
// record: a finished create is replayed from its record, a key recorded for
// another create is a conflict, a create left pending is looked up until it
// has settled, and without a record the key is looked up at the API before
// sending. Each attempt is written only while the lock's lease provably
// holds, right after the record is marked "sending" on the store's clock
// (gate). After an ambiguous failure the create is looked up until
// SettleTime has passed: found, it is returned; not found, it is sent again
// under the same key within MaxAttempts. Blind retries of ambiguous
// failures (RetryAmbiguous) never apply here: the look-up replaces them.
func (c *Client) createOnce(ctx context.Context, r *request, k *keyedCreate, out any) (ResponseInfo, error) {
	info := ResponseInfo{API: r.api}
	ctx, cancel, tr, err := c.prepare(ctx, r)
	if err != nil {
		return info, err
	}
	defer cancel()
	o := &onceCall{c: c, r: r, k: k, out: out, info: &info, target: c.api(r.api).target, fingerprint: fingerprint(r, tr.Body)}
	if k.callerKey {
		done, err := o.take(ctx)
		if done || err != nil {
			return info, err
		}
		tr.Gate = o.gate
	}
	return info, o.run(ctx, tr)
}

// run sends the create until it is known to have happened or not, or until
// its outcome cannot be known.
func (o *onceCall) run(ctx context.Context, tr *transport.Request) error {
	c, r, info := o.c, o.r, o.info
	for {
		err := c.send(ctx, r, tr, o.out, info, false)
		failedAt := o.c.now()
		switch {
		case err == nil:
			o.release(ctx, o.result(info.StatusCode, info.RequestID))
			return nil
		case errors.Is(err, ErrLockLost) && !errors.Is(err, ErrOutcomeUnknown):
			// The lease is gone: another holder may have the key, so this
			// call sends nothing more. Every earlier attempt of it is known
			// not to have been applied, so that is definite.
			o.unlock(ctx)
			return &leaseLostError{api: r.api, attempts: info.Attempts, err: err}
		case !errors.Is(err, ErrOutcomeUnknown):
			o.free(ctx) // definite: the key is free again
			return err
		}
		m, li, lerr := o.settle(ctx, failedAt)
		if lerr != nil {
			o.unlock(ctx) // the record stays pending from the last send: a later call settles from there
			return &reconcileError{api: r.api, create: err, lookup: lerr}
		}
		if m == found {
			info.Outcome, info.LookupRequestID = OutcomeReconciled, li.RequestID
			info.StatusCode = li.StatusCode
			c.warn(ctx, r, "subkit: ambiguous create reconciled: it was applied", err)
			o.release(ctx, o.result(0, info.RequestID))
			return nil
		}
		c.warn(ctx, r, "subkit: ambiguous create proven not applied", err)
		if c.attemptsLeft(info) <= 0 {
			o.free(ctx) // proven not applied: the key is free again
			return provenNotApplied(err)
		}
	}
}

// fingerprint names the whole create: API, endpoint and body, every
// parameter and the metadata included, so that the same key with anything
// else is a conflict. The body is the encoded request, deterministic for
// equal params (object keys in a fixed order).
func fingerprint(r *request, body []byte) string {
	sum := sha256.Sum256(body)
	return string(r.api) + " " + r.method + " " + r.path + " sha256:" + hex.EncodeToString(sum[:])
}

// take takes the caller's key in the store — claiming it as "sending now"
// when it has no record — and decides from the record, or from a look-up
// when there is none, whether the create already happened. done reports
// that the call is over: replayed, or refused.
func (o *onceCall) take(ctx context.Context) (done bool, err error) {
	lease := o.c.lease
	claim := o.pending()
	var start time.Time
	var lock IdempotencyLock
	var rec *IdempotencyRecord
	err = o.retryStore(ctx, func(sctx context.Context) error {
		start = o.c.now() // the fence counts from the try that took the key
		var err error
		lock, rec, err = o.c.store.Lock(sctx, o.r.api.storeKey(o.k.key), LockRequest{Lease: lease, Claim: claim, ClaimTTL: RecordTTL})
		return err
	}, func() { // the lock came after the call gave up: let it go
		if lock != nil {
			o.background(ctx, lock.Unlock)
		}
	})
	if err != nil {
		return true, o.storeFailed(ctx, "taking the key", err)
	}
	tookAt := o.c.now()
	o.lock = lock
	o.fence = newFence(o.c.now, start, lease)
	if tookAt.Sub(start) > lease/4 {
		// Lock waited for another holder: when the store gave this call its
		// lease is only known to be after start, so prove it afresh. (A key
		// taken at once costs no extra round trip.)
		ext := o.c.now()
		if err := o.bounded(ctx, true, func(sctx context.Context) error { return lock.Extend(sctx, lease) }, nil); err == nil {
			o.fence.extended(ext, lease)
		}
	}
	o.stopKeepAlive = o.keepAlive(ctx)
	if rec != nil && rec.Target != o.target {
		rec = nil // another target's record: not this create's, and not ours to delete
	} else if rec == nil {
		o.owned, o.markedAt = true, start // our claim is the record
	} else {
		o.owned = true
	}
	switch {
	case rec != nil && rec.Fingerprint != o.fingerprint:
		o.unlock(ctx)
		return true, o.conflict()
	case rec != nil && rec.Result != nil:
		if err := json.Unmarshal(rec.Result, o.out); err != nil {
			o.unlock(ctx)
			return true, o.storeFailed(ctx, "reading the record", err)
		}
		o.info.Outcome, o.info.StatusCode, o.info.RequestID = OutcomeReplayed, rec.StatusCode, rec.RequestID
		o.unlock(ctx)
		return true, nil
	}
	var m match
	var li ResponseInfo
	switch {
	case rec != nil && rec.Pending:
		// An earlier call sent the create and never learned its outcome:
		// look until it has settled, SettleTime after that send on the
		// store's clock (read as a duration, so no clock is compared).
		m, li, err = o.settle(ctx, tookAt.Add(-rec.SinceSent))
		if err != nil {
			o.unlock(ctx)
			return true, &transportError{api: o.r.api, method: o.r.method, path: o.r.path, err: fmt.Errorf("settling an earlier call's create under the key: %w", err)}
		}
	case o.k.looked != nil:
		m, li = o.k.looked(), ResponseInfo{API: o.r.api}
	default:
		m, li, err = o.k.find(withPhase(ctx, phaseReplay))
	}
	o.info.StatusCode, o.info.LookupRequestID = li.StatusCode, li.RequestID
	switch {
	case err != nil:
		o.free(ctx)
		return true, err // nothing was sent: definite
	case m == conflict:
		o.free(ctx)
		return true, o.conflict()
	case m == occupied:
		o.free(ctx)
		return true, o.k.occupiedErr()
	case m == found:
		o.info.Outcome = OutcomeReplayed
		o.release(ctx, o.result(0, ""))
		return true, nil
	}
	return false, nil
}

// settle looks the create up until SettleTime (and the marking slack) has
// passed since since, a local monotonic instant: first soon, then backing
// off. A create found earlier returns at once; only a miss at the end
// proves that it was not applied. Another create under the key (a conflict)
// is not this one: settling goes on.
func (o *onceCall) settle(ctx context.Context, since time.Time) (match, ResponseInfo, error) {
	ctx = withPhase(ctx, phaseReconcile)
	deadline := since.Add(o.c.policy.SettleTime + o.slack())
	wait := min(250*time.Millisecond, o.c.policy.SettleTime/4)
	for {
		if err := sleep(ctx, min(wait, deadline.Sub(o.c.now()))); err != nil {
			return notFound, ResponseInfo{API: o.r.api}, err
		}
		last := !o.c.now().Before(deadline)
		m, info, err := o.k.find(ctx)
		if err != nil || m == found || last {
			if m != found {
				m = notFound
			}
			return m, info, err
		}
		wait *= 2
	}
}

// slack is how long a "sending" mark may be older than the write it
// stands for: gate marks again when more time has passed since the last
// mark, and settling waits this much beyond SettleTime. A tenth of
// SettleTime, at most one second.
func (o *onceCall) slack() time.Duration { return min(o.c.policy.SettleTime/10, time.Second) }

func (o *onceCall) conflict() error {
	return fmt.Errorf("subkit: %s: idempotency key %q: %w", o.r.api, o.k.key, ErrIdempotencyConflict)
}

// pending is the record that marks the create as being sent.
func (o *onceCall) pending() *IdempotencyRecord {
	return &IdempotencyRecord{Fingerprint: o.fingerprint, Target: o.target, Pending: true}
}

// result is the record of the subscription the call returns; nil if it
// cannot be encoded (a later call then looks it up).
func (o *onceCall) result(status int, requestID string) *IdempotencyRecord {
	b, err := json.Marshal(o.out)
	if err != nil {
		return nil
	}
	return &IdempotencyRecord{Fingerprint: o.fingerprint, Target: o.target, Result: b, StatusCode: status, RequestID: requestID}
}

// storeFailed is a keyed create that sent nothing because its store failed
// (or its context ended while waiting for the key).
func (o *onceCall) storeFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return &transportError{api: o.r.api, method: o.r.method, path: o.r.path, attempts: o.info.Attempts, err: ctx.Err()}
	}
	return &storeError{api: o.r.api, what: what, err: err}
}

// storeKey scopes an idempotency key to its API in the store.
func (api API) storeKey(key string) string { return string(api) + ":" + key }

// warn logs one line about the exactly-once protocol, if there is a logger.
func (c *Client) warn(ctx context.Context, r *request, msg string, err error) {
	if c.logger == nil {
		return
	}
	c.logger.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("api", string(r.api)), slog.String("method", r.method),
		slog.String("path", r.path), slog.String("error", err.Error()))
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
