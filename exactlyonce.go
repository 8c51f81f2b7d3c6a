package subkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// reservedMetadataKey is where a keyed Polar create keeps its key, so that a
// look-up can find the create again.
const reservedMetadataKey = "subkit_idempotency_key"

// match is what a look-up of a keyed create found.
type match int

const (
	notFound match = iota
	found          // the create, filled into the call's result
	conflict       // only another create under the same key (rule 12)
)

// finder looks a keyed create up by its key alone, so that a key used for
// another create shows as a conflict. info describes the look-up's response.
type finder func(ctx context.Context) (m match, info ResponseInfo, err error)

// keyedCreate is what do needs to make a create exactly once.
type keyedCreate struct {
	// key is the idempotency key; callerKey is set when the caller gave it
	// (WithIdempotencyKey), so that an earlier call may have used it: the
	// create takes it in the store and looks before sending. A random key
	// (RetryPolicy.Reconcile) is new, so neither is needed.
	key       string
	callerKey bool
	// fingerprint names the create's identity, for conflicts (rule 12).
	fingerprint string
	find        finder
	// looked, when set, decides from the caller's own fresh key look-up
	// (WithKeyLookup) instead of the replay look-up; settling after a
	// failure, or after a pending record, always looks for real.
	looked func() match
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

// createOnce is design rules 9–12. A caller's key is taken in the store
// (rule 10): a finished create is replayed from its record, a key recorded for
// another create is a conflict (rule 12), a create left pending is looked up
// until it has settled. Without a record, the key is looked up at the API
// before sending. After an ambiguous failure the create is looked up until
// SettleTime has passed (rule 11): found, it is returned; not found, it is
// sent again under the same key within MaxAttempts. Blind retries of
// ambiguous failures (RetryAmbiguous) never apply here: the look-up replaces
// them.
func (c *Client) createOnce(ctx context.Context, r *request, tr *transport.Request, out any, info *ResponseInfo) error {
	k := r.keyed
	o := &onceCall{c: c, r: r, out: out, info: info}
	if k.callerKey {
		lock, rec, err := c.store.Lock(ctx, r.api.storeKey(k.key), c.lease)
		if err != nil {
			return o.storeFailed(ctx, "taking the key", err)
		}
		o.lock, o.lockedAt = lock, time.Now()
		stop := o.keepAlive(ctx)
		defer stop()
		done, err := o.replay(ctx, rec)
		if done || err != nil {
			return err
		}
	}
	for {
		if err := o.save(ctx, &IdempotencyRecord{Fingerprint: k.fingerprint, SentAt: time.Now()}); err != nil {
			return o.storeFailed(ctx, "recording the create", err)
		}
		err := c.send(withPhase(ctx, phaseCreate), r, tr, out, info, false)
		failedAt := time.Now()
		switch {
		case err == nil:
			o.saveResult(ctx, info.StatusCode, info.RequestID)
			return nil
		case !errors.Is(err, ErrOutcomeUnknown):
			_ = o.save(ctx, nil) // definite: the key is free again; a stale record only costs a look-up
			return err
		}
		m, li, lerr := o.settle(ctx, failedAt)
		if lerr != nil {
			// Pending from failedAt: a later call with the key settles from there.
			_ = o.save(ctx, &IdempotencyRecord{Fingerprint: k.fingerprint, SentAt: failedAt})
			return &reconcileError{api: r.api, create: err, lookup: lerr}
		}
		if m == found {
			info.Outcome, info.LookupRequestID = OutcomeReconciled, li.RequestID
			info.StatusCode = li.StatusCode
			c.warn(ctx, r, "subkit: ambiguous create reconciled: it was applied", err)
			o.saveResult(ctx, 0, info.RequestID)
			return nil
		}
		c.warn(ctx, r, "subkit: ambiguous create proven not applied", err)
		if info.Attempts >= c.policy.MaxAttempts {
			_ = o.save(ctx, nil) // proven not applied: the key is free again
			return provenNotApplied(err)
		}
	}
}

// onceCall is one keyed create's state: its lock in the store, if any.
type onceCall struct {
	c        *Client
	r        *request
	out      any
	info     *ResponseInfo
	lock     IdempotencyLock // nil for a random key
	lockedAt time.Time
}

// replay decides from the key's record, or from a look-up when there is
// none, whether the create already happened. done reports that the call is
// over: replayed, or refused.
func (o *onceCall) replay(ctx context.Context, rec *IdempotencyRecord) (done bool, err error) {
	k := o.r.keyed
	switch {
	case rec != nil && rec.Fingerprint != k.fingerprint:
		return true, o.conflict()
	case rec != nil && rec.Result != nil:
		if err := json.Unmarshal(rec.Result, o.out); err != nil {
			return true, o.storeFailed(ctx, "reading the record", err)
		}
		o.info.Outcome, o.info.StatusCode, o.info.RequestID = OutcomeReplayed, rec.StatusCode, rec.RequestID
		return true, nil
	}
	var m match
	var li ResponseInfo
	if rec != nil && !rec.SentAt.IsZero() {
		// An earlier call sent the create and never learned its outcome:
		// look until it has settled. One that gave up recorded when; one
		// that died stopped extending its lease, which then ran out: it died
		// before lockedAt − lease + lease/3 (the last extension it missed),
		// and half a lease back leaves room for late extensions.
		m, li, err = o.settle(ctx, maxTime(rec.SentAt, o.lockedAt.Add(-o.c.lease/2)))
	} else if k.looked != nil {
		m, li = k.looked(), ResponseInfo{API: o.r.api}
	} else {
		m, li, err = k.find(withPhase(ctx, phaseReplay))
	}
	o.info.StatusCode, o.info.LookupRequestID = li.StatusCode, li.RequestID
	switch {
	case err != nil:
		return true, err // nothing was sent: definite
	case m == conflict:
		return true, o.conflict()
	case m == found:
		o.info.Outcome = OutcomeReplayed
		o.saveResult(ctx, 0, "")
		return true, nil
	}
	return false, nil
}

// settle looks the create up until SettleTime has passed since since (rule
// 11): first soon, then backing off. A create found earlier returns at once;
// only a miss at SettleTime proves that it was not applied. Another create
// under the key (a conflict) is not this one: settling goes on.
func (o *onceCall) settle(ctx context.Context, since time.Time) (match, ResponseInfo, error) {
	ctx = withPhase(ctx, phaseReconcile)
	deadline := since.Add(o.c.policy.SettleTime)
	wait := min(250*time.Millisecond, o.c.policy.SettleTime/4)
	for {
		if err := sleep(ctx, min(wait, time.Until(deadline))); err != nil {
			return notFound, ResponseInfo{API: o.r.api}, err
		}
		last := !time.Now().Before(deadline)
		m, info, err := o.r.keyed.find(ctx)
		if err != nil || m == found || last {
			if m == conflict {
				m = notFound
			}
			return m, info, err
		}
		wait *= 2
	}
}

func (o *onceCall) conflict() error {
	return fmt.Errorf("subkit: %s: idempotency key %q: %w", o.r.api, o.r.keyed.key, ErrIdempotencyConflict)
}

// save writes the key's record, when the create holds a lock. It runs even
// when the caller's context has ended (the record must follow what was
// sent), bounded by its own deadline so that a hung store cannot hold the
// call.
func (o *onceCall) save(ctx context.Context, rec *IdempotencyRecord) error {
	if o.lock == nil {
		return nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.c.lease/3)
	defer cancel()
	return o.lock.Save(sctx, rec, RecordTTL)
}

// saveResult records the subscription the call returns. The create happened
// whatever the store says, so a failure here only costs a later call a
// look-up: it is logged, not returned.
func (o *onceCall) saveResult(ctx context.Context, status int, requestID string) {
	if o.lock == nil {
		return
	}
	b, err := json.Marshal(o.out)
	if err == nil {
		err = o.save(ctx, &IdempotencyRecord{Fingerprint: o.r.keyed.fingerprint, Result: b, StatusCode: status, RequestID: requestID})
	}
	if err != nil {
		o.c.warn(ctx, o.r, "subkit: could not record the create in the idempotency store", err)
	}
}

// keepAlive extends the lock's lease while the call runs; the returned
// function stops it and releases the lock.
func (o *onceCall) keepAlive(ctx context.Context) (stop func()) {
	bg := context.WithoutCancel(ctx) // released even when the caller's context has ended
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		lease := o.c.lease
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				ectx, cancel := context.WithTimeout(bg, lease/3)
				_ = o.lock.Extend(ectx, lease) // a lost lock shows when the record is saved
				cancel()
			}
		}
	}()
	return func() {
		close(quit)
		<-done
		uctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		_ = o.lock.Unlock(uctx) // a lock left behind runs out with its lease
	}
}

// storeFailed is a keyed create that sent nothing because its store failed
// (or its context ended while waiting for the key).
func (o *onceCall) storeFailed(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return &transportError{api: o.r.api, method: o.r.method, path: o.r.path, attempts: o.info.Attempts, err: ctx.Err()}
	}
	return &storeError{api: o.r.api, what: what, err: err}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
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
