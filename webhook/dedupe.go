package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/subkit-go/subkit"
)

// Store keys. The SDK's own creates use "polar:" + their idempotency key,
// so these never meet them.
const (
	eventKeyPrefix        = "webhook:polar:"
	subscriptionKeyPrefix = "webhook:polar:subscription:"
)

// Record fingerprints, naming what a record of this package is.
const (
	eventFingerprint        = "webhook"
	subscriptionFingerprint = "webhook:subscription"
)

// storeCallTimeout bounds a store call made after the delivery's own
// context may have ended (unlocking, recording): a store that stops
// answering must not hold the handler for ever.
const storeCallTimeout = 5 * time.Second

// handledRecord is what an event's record holds once it was handled.
type handledRecord struct {
	Outcome string `json:"outcome"` // "handled" or "stale"
	Type    string `json:"type"`
}

// newestRecord is what a subscription's record holds: the newest state
// handed to fn.
type newestRecord struct {
	Version time.Time `json:"version"`
}

// once runs fn for ev at most once among every handler sharing the store;
// see Handler. ctx is the delivery's (it bounds the waits for a lock),
// work fn's (cancelWork ends it when a hold is lost).
func (h *handler) once(ctx, work context.Context, cancelWork context.CancelFunc, ev *Event) result {
	lock, rec, res := h.lock(ctx, eventKeyPrefix+ev.ID)
	if lock == nil {
		return res
	}
	if rec != nil && rec.Result != nil {
		h.unlock(ctx, lock)
		return resDuplicate
	}
	stop := h.keepAlive(work, cancelWork, lock)
	outcome := "handled"
	if ev.IsSubscription() {
		res = h.inOrder(ctx, work, cancelWork, ev)
		if res == resStale {
			outcome = "stale"
		}
	} else if h.run(work, ev) != nil {
		res = resFailed
	} else {
		res = resHandled
	}
	stop()
	if res.status != resHandled.status {
		h.unlock(ctx, lock) // not handled: nothing is recorded, and a retry runs fn again
		return res
	}
	b, _ := json.Marshal(handledRecord{Outcome: outcome, Type: ev.Type}) // cannot fail
	sctx, cancel := storeContext(ctx)
	defer cancel()
	if err := lock.Release(sctx, &subkit.IdempotencyRecord{Fingerprint: eventFingerprint, Result: b}, h.c.retention); err != nil {
		// fn has done its work: answering a failure would only make Polar
		// repeat it. A later redelivery may run fn again.
		h.log(ctx, slog.LevelWarn, "webhook: the event was handled but could not be recorded as handled", ev, slog.String("error", err.Error()))
	}
	return res
}

// inOrder hands a subscription event to fn unless the subscription's
// state in it is older than the newest already handed to fn, holding the
// subscription's lock meanwhile so that its events go to fn one at a time.
// It also settles the keyed create the event shows was applied.
func (h *handler) inOrder(ctx, work context.Context, cancelWork context.CancelFunc, ev *Event) result {
	ref, err := readSubscriptionRef(ev.Data)
	if err != nil {
		h.log(ctx, slog.LevelWarn, "webhook: subscription event without a readable subscription", ev, slog.String("error", err.Error()))
		return result{status: 400, text: err.Error()}
	}
	if res, ok := h.settleCreate(ctx, ev); !ok {
		return res
	}
	lock, rec, res := h.lock(ctx, subscriptionKeyPrefix+ref.ID)
	if lock == nil {
		return res
	}
	stop := h.keepAlive(work, cancelWork, lock)
	defer stop()
	var newest newestRecord
	if rec != nil && rec.Result != nil {
		if err := json.Unmarshal(rec.Result, &newest); err != nil {
			// Not this package's record: order cannot be judged, so do
			// not refuse the event; the record is replaced below.
			h.log(ctx, slog.LevelWarn, "webhook: unreadable subscription record; treated as none", ev, slog.String("error", err.Error()))
		}
	}
	if ref.Version.Before(newest.Version) {
		stop()
		h.unlock(ctx, lock)
		return resStale
	}
	if h.run(work, ev) != nil {
		stop()
		h.unlock(ctx, lock)
		return resFailed
	}
	stop()
	b, _ := json.Marshal(newestRecord{Version: ref.Version}) // cannot fail
	sctx, cancel := storeContext(ctx)
	defer cancel()
	if err := lock.Release(sctx, &subkit.IdempotencyRecord{Fingerprint: subscriptionFingerprint, Result: b}, h.c.retention); err != nil {
		h.log(ctx, slog.LevelWarn, "webhook: the subscription's newest state could not be recorded", ev, slog.String("error", err.Error()))
	}
	return resHandled
}

// lock takes key in the store, waiting at most the busy wait for another
// holder. Without the lock it returns nil and the answer to give: busy
// (409) when another holder kept it, store down (503) otherwise.
func (h *handler) lock(ctx context.Context, key string) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, result) {
	lctx, cancel := context.WithTimeout(ctx, h.c.busyWait)
	defer cancel()
	lock, rec, err := h.c.store.Lock(lctx, key, subkit.LockRequest{Lease: h.c.lease})
	if err == nil {
		return lock, rec, result{}
	}
	if lock != nil { // a store should return none with an error; let it go if it did
		h.unlock(ctx, lock)
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, nil, resBusy
	}
	if h.c.logger != nil {
		h.c.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: the de-duplication store failed", slog.String("error", err.Error()))
	}
	return nil, nil, resStoreDown
}

func (h *handler) unlock(ctx context.Context, lock subkit.IdempotencyLock) {
	sctx, cancel := storeContext(ctx)
	defer cancel()
	if err := lock.Unlock(sctx); err != nil && h.c.logger != nil {
		h.c.logger.LogAttrs(ctx, slog.LevelWarn, "webhook: unlocking failed; the lock ends with its lease", slog.String("error", err.Error()))
	}
}

// storeContext is a context for a store call that must happen even when
// the delivery's context has ended.
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), storeCallTimeout)
}

// keepAlive extends lock's lease every third of it until stop is called;
// when an extension fails, the hold may be another's, so fn's context
// (cancelWork) is canceled. stop waits for the extending goroutine to end
// and may be called more than once.
func (h *handler) keepAlive(work context.Context, cancelWork context.CancelFunc, lock subkit.IdempotencyLock) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(h.c.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ectx, cancel := context.WithTimeout(context.WithoutCancel(work), h.c.lease/3)
				err := lock.Extend(ectx, h.c.lease)
				cancel()
				if err != nil {
					if h.c.logger != nil {
						h.c.logger.LogAttrs(work, slog.LevelWarn, "webhook: the hold on the event was lost; fn's context is canceled", slog.String("error", err.Error()))
					}
					cancelWork()
					return
				}
			}
		}
	}()
	stopped := false
	return func() {
		if !stopped {
			stopped = true
			close(done)
			<-ended
		}
	}
}

// subscriptionRef is what ordering needs of a subscription event's data.
type subscriptionRef struct {
	ID string
	// Version is the state's time: modified_at, or created_at while
	// modified_at is null.
	Version time.Time
}

func readSubscriptionRef(data []byte) (subscriptionRef, error) {
	var s struct {
		ID         string     `json:"id"`
		CreatedAt  *time.Time `json:"created_at"`
		ModifiedAt *time.Time `json:"modified_at"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return subscriptionRef{}, failure(ErrMalformed, "the subscription's id, created_at or modified_at cannot be read: %v", err)
	}
	switch {
	case s.ID == "":
		return subscriptionRef{}, failure(ErrMalformed, `the subscription has no "id"`)
	case len(s.ID) > maxIDLength: // it becomes a store key
		return subscriptionRef{}, failure(ErrMalformed, "the subscription's id is %d bytes, more than %d", len(s.ID), maxIDLength)
	case s.ModifiedAt != nil:
		return subscriptionRef{ID: s.ID, Version: *s.ModifiedAt}, nil
	case s.CreatedAt != nil:
		return subscriptionRef{ID: s.ID, Version: *s.CreatedAt}, nil
	}
	return subscriptionRef{}, failure(ErrMalformed, `the subscription has neither "modified_at" nor "created_at"`)
}
