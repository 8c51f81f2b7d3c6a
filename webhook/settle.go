package webhook

import (
	"context"
	"errors"
	"log/slog"
)

// settleTimeout bounds the wait to settle a keyed create's record: the
// SDK's call holding the key may be reconciling for a while, and Polar
// gives a delivery 10 s.
const settleTimeout = 2 * DefaultBusyWait

// settleCreate settles the store's pending record of the keyed create that
// ev, a subscription event, shows was applied: the create's call that
// ended ErrOutcomeUnknown then replays from the store at once instead of
// waiting out its settle time or looking up. A stale event settles as well
// as a fresh one: both prove the create.
//
// When it cannot — the create's call still holds its key after the settle
// wait, or the store fails — ok is false and res asks Polar to come back
// later (409, 503), before fn runs: settling is what lets that call's
// retry replay without sending, and Polar's retry, seconds later, finds
// the key free.
func (h *handler) settleCreate(ctx context.Context, ev *Event) (res result, ok bool) {
	sub, err := ev.Subscription()
	if err != nil || sub.IdempotencyKey() == "" {
		return result{}, true
	}
	sctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	settled, err := h.c.settle(sctx, h.c.store, sub)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		h.log(ctx, slog.LevelInfo, "webhook: the keyed create's call still holds its key; asking Polar to come back later", ev)
		return resBusy, false
	case err != nil:
		h.log(ctx, slog.LevelWarn, "webhook: settling the keyed create's record failed", ev, slog.String("error", err.Error()))
		return resStoreDown, false
	case settled:
		h.log(ctx, slog.LevelDebug, "webhook: settled the keyed create's pending record", ev, slog.String("subscription", sub.ID))
	}
	return result{}, true
}
