package subkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// reservedMetadataKey is where a keyed Polar create keeps its key, so that a
// look-up can find the create again.
const reservedMetadataKey = "subkit_idempotency_key"

// finder looks a keyed create up. found reports whether the create exists;
// then it has filled the call's result. info describes the look-up's answer.
type finder func(ctx context.Context) (found bool, info ResponseInfo, err error)

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

// sendKeyed is design rule 9: replay a caller's key, and after an ambiguous
// failure settle, look up, and either return what was found or retry the
// create under the same key. Blind retries of ambiguous failures
// (RetryAmbiguous) never apply here: the look-up replaces them.
func (c *Client) sendKeyed(ctx context.Context, r *request, tr *transport.Request, out any, info *ResponseInfo) error {
	if r.replay {
		found, li, err := r.find(ctx)
		info.StatusCode, info.RequestID = li.StatusCode, li.RequestID
		if err != nil {
			return err // nothing was sent: definite
		}
		if found {
			info.Outcome = OutcomeReplayed
			return nil
		}
	}
	p := c.retry
	p.RetryAmbiguous = false
	for {
		p.MaxAttempts = c.retry.MaxAttempts - info.Attempts
		err := c.sendOnce(ctx, r, tr, out, p, info)
		if err == nil || !errors.Is(err, ErrOutcomeUnknown) {
			return err
		}
		if werr := sleep(ctx, c.policy.SettleTime); werr != nil {
			return &reconcileError{api: r.api, create: err, lookup: werr}
		}
		found, li, lerr := r.find(ctx)
		if lerr != nil {
			return &reconcileError{api: r.api, create: err, lookup: lerr}
		}
		if found {
			info.StatusCode, info.RequestID = li.StatusCode, li.RequestID
			info.Outcome = OutcomeReconciled
			return nil
		}
		if info.Attempts >= c.retry.MaxAttempts {
			return provenNotApplied(err)
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// provenNotApplied marks an ambiguous failure whose look-up found nothing:
// the create did not happen, so the error is definite.
func provenNotApplied(err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		cp := *ae
		cp.mayBeApplied, cp.notApplied = false, true
		return &cp
	}
	var te *transportError
	if errors.As(err, &te) {
		cp := *te
		cp.mayBeApplied, cp.notApplied = false, true
		return &cp
	}
	return err
}

// reconcileError is an ambiguous create whose look-up failed: the outcome
// stays unknown. It wraps both errors.
type reconcileError struct {
	api            API
	create, lookup error
}

func (e *reconcileError) Error() string {
	return fmt.Sprintf("subkit: %s: outcome unknown: the create failed ambiguously (%v) and looking it up failed (%v)",
		e.api, e.create, e.lookup)
}

func (e *reconcileError) Unwrap() []error { return []error{e.create, e.lookup} }

func (e *reconcileError) Is(target error) bool { return target == ErrOutcomeUnknown }
