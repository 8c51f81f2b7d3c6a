package subkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"time"

	"github.com/subkit-go/subkit/internal/transport"
)

// reservedMetadataKey is where a keyed Polar create keeps its key, so that a
// look-up can find the create again.
const reservedMetadataKey = "subkit_idempotency_key"

// finder looks a keyed create up. found reports whether the create exists;
// then it has filled the call's result. info describes the look-up's response.
type finder func(ctx context.Context) (found bool, info ResponseInfo, err error)

// keyedCreate is what do needs to make a create exactly once.
type keyedCreate struct {
	// find looks the create up by its key.
	find finder
	// replay is set when the caller gave the key, so that an earlier call may
	// have used it: look before sending.
	replay bool
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

// createOnce is design rule 9: replay a caller's key, and after an ambiguous
// failure settle, look up, and either return what was found or retry the
// create under the same key. Blind retries of ambiguous failures
// (RetryAmbiguous) never apply here: the look-up replaces them.
func (c *Client) createOnce(ctx context.Context, r *request, tr *transport.Request, out any, info *ResponseInfo) error {
	k := r.keyed
	if k.replay {
		found, li, err := k.find(ctx)
		info.StatusCode, info.RequestID = li.StatusCode, li.RequestID
		if err != nil {
			return err // nothing was sent: definite
		}
		if found {
			info.Outcome = OutcomeReplayed
			return nil
		}
	}
	for {
		err := c.send(ctx, r, tr, out, info, false)
		if err == nil || !errors.Is(err, ErrOutcomeUnknown) {
			return err
		}
		if werr := sleep(ctx, c.policy.SettleTime); werr != nil {
			return &reconcileError{api: r.api, create: err, lookup: werr}
		}
		found, li, lerr := k.find(ctx)
		if lerr != nil {
			return &reconcileError{api: r.api, create: err, lookup: lerr}
		}
		if found {
			info.StatusCode, info.RequestID = li.StatusCode, li.RequestID
			info.Outcome = OutcomeReconciled
			return nil
		}
		if info.Attempts >= c.policy.MaxAttempts {
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
