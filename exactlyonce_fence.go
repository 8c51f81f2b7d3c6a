package subkit

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// onceCall is one keyed create's state: its lock in the store, if any, and
// what the lock's lease is known to cover.
type onceCall struct {
	c           *Client
	r           *request
	k           *keyedCreate
	out         any
	info        *ResponseInfo
	target      string
	fingerprint string

	lock          IdempotencyLock // nil for a random key
	fence         *fence
	stopKeepAlive func(ctx context.Context)
	// owned is set while the key's record is this call's own (its claim or
	// mark, or a record of its create), so that it may delete it.
	owned bool
	// markedAt is when the last "sending" mark was asked of the store
	// (local monotonic clock); zero before the first.
	markedAt time.Time
}

// fence is what the holder knows of its lease on the local monotonic
// clock: it lasts until the start of the last take or extension the store
// confirmed plus the lease — the store's lease began after that start, so
// it ends later — and is lost for good once an extension fails.
type fence struct {
	now    func() time.Time
	mu     sync.Mutex
	until  time.Time
	lost   bool
	margin time.Duration
}

func newFence(now func() time.Time, start time.Time, lease time.Duration) *fence {
	return &fence{now: now, until: start.Add(lease), margin: lease / 4}
}

func (f *fence) extended(start time.Time, lease time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.lost {
		f.until = start.Add(lease)
	}
}

func (f *fence) lose() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lost = true
}

// holds reports whether the lease provably has more than the margin left.
func (f *fence) holds() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.lost && f.until.Sub(f.now()) > f.margin
}

// errLeaseLost stops an attempt whose lease is not proven to hold.
var errLeaseLost = fmt.Errorf("the idempotency lock's lease is not proven to hold: %w", ErrLockLost)

// gate runs right before each attempt is written, after every wait: the
// attempt goes only while the lease holds with its margin, and only once
// the record says "sending" on the store's clock no more than slack before
// now — the claim made with the lock when it is that fresh, else a new
// mark. Between the check and the write no client can see a pause of its
// own process; the margin (a quarter of the lease) is what such a pause
// must exceed to matter.
func (o *onceCall) gate(ctx context.Context) error {
	if !o.fence.holds() {
		return errLeaseLost
	}
	if o.markedAt.IsZero() || o.c.now().Sub(o.markedAt) > o.slack() {
		start := o.c.now()
		err := o.retryStore(ctx, func(sctx context.Context) error {
			if !o.fence.holds() {
				return errLeaseLost
			}
			return o.lock.Save(sctx, o.pending(), RecordTTL)
		}, nil)
		if err != nil {
			if isLockLost(err) {
				if !errors.Is(err, errLeaseLost) {
					o.fence.lose()
				}
				return errLeaseLost
			}
			return o.storeFailed(ctx, "marking the create as sending", err)
		}
		o.markedAt, o.owned = start, true
		if !o.fence.holds() {
			return errLeaseLost
		}
	}
	return nil
}

// keepAlive extends the lock's lease every third of it while the call
// runs. An extension that fails leaves the lease where the store last
// confirmed it — the fence stops every attempt once that runs out — and is
// tried again a tenth of the lease later; one the store refuses
// (ErrLockLost: the lease ran out and the key may have another holder) is a
// lost lease at once. The returned function stops it, waiting at most until
// ctx ends.
func (o *onceCall) keepAlive(ctx context.Context) (stop func(ctx context.Context)) {
	bg := context.WithoutCancel(ctx)
	quit, done := make(chan struct{}), make(chan struct{})
	lease := o.c.lease
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				start := o.c.now()
				ectx, cancel := context.WithTimeout(bg, lease/3)
				err := o.lock.Extend(ectx, lease)
				cancel()
				switch {
				case isLockLost(err):
					o.fence.lose()
					return
				case err != nil:
					t.Reset(lease / 10) // not confirmed: the fence keeps the last lease
				default:
					o.fence.extended(start, lease)
					t.Reset(lease / 3)
				}
			}
		}
	}()
	return func(ctx context.Context) {
		close(quit)
		select {
		case <-done:
		case <-ctx.Done(): // a hung store: the extension ends on its own timeout
		}
	}
}

// release saves rec as the key's record (nil: deletes it) and releases the
// lock. The create's outcome does not depend on it: a failure only costs a
// later call a look-up, so it is logged, not returned.
func (o *onceCall) release(ctx context.Context, rec *IdempotencyRecord) {
	o.finishLock(ctx, func(sctx context.Context) error { return o.lock.Release(sctx, rec, RecordTTL) })
}

// free deletes the key's record if it is this call's own, and releases
// the lock: the create is known not to have happened.
func (o *onceCall) free(ctx context.Context) {
	if o.owned {
		o.release(ctx, nil)
		return
	}
	o.unlock(ctx)
}

// unlock releases the lock and leaves the record as it stands.
func (o *onceCall) unlock(ctx context.Context) {
	o.finishLock(ctx, func(ctx context.Context) error { return o.lock.Unlock(ctx) })
}

// finishLock stops the keep-alive and runs the last store call, bounded by
// ctx; past ctx it goes on in the background with a timeout of its own.
func (o *onceCall) finishLock(ctx context.Context, fn func(ctx context.Context) error) {
	if o.lock == nil {
		return
	}
	o.stopKeepAlive(ctx)
	if err := o.bounded(ctx, false, fn, nil); err != nil && !isLockLost(err) && ctx.Err() == nil {
		o.c.warn(ctx, o.r, "subkit: could not update the idempotency store", err)
	}
}

// bounded runs fn and waits for it only while ctx lives: a store that
// stops answering never holds the call past its context or WithTimeout.
// With tie, fn's context ends with ctx (a lock or a mark is no use after
// the call); without, it outlives ctx by at most a third of the lease, so
// that fn finishes in the background (a record must follow what was sent). If ctx ends first, bounded returns ctx's error;
// late, if set, runs after an abandoned fn that succeeded.
func (o *onceCall) bounded(ctx context.Context, tie bool, fn func(ctx context.Context) error, late func()) error {
	var sctx context.Context
	var cancel context.CancelFunc
	if tie {
		sctx, cancel = context.WithCancel(context.WithoutCancel(ctx))
		stop := context.AfterFunc(ctx, cancel)
		defer stop()
	} else {
		sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), o.c.lease/3)
	}
	var mu sync.Mutex
	abandoned := false
	done := make(chan error, 1)
	go func() {
		defer cancel()
		err := fn(sctx)
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if err == nil && late != nil {
				late()
			}
			return
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case err := <-done:
		return err
	default:
		abandoned = true
		return ctx.Err()
	}
}

// retryStore runs fn through bounded, and again after a store error —
// never after ctx's end or ErrLockLost — with a growing wait (10 ms to a
// quarter second, jittered), for up to one lease: a link to the store that
// drops for a moment costs a wait, not the call. Nothing has been sent
// while it retries. late is bounded's.
func (o *onceCall) retryStore(ctx context.Context, fn func(ctx context.Context) error, late func()) error {
	first := o.c.now()
	wait := 10 * time.Millisecond
	for {
		err := o.bounded(ctx, true, fn, late)
		if err == nil || ctx.Err() != nil || isLockLost(err) || o.c.now().Sub(first)+wait > o.c.lease {
			return err
		}
		if sleep(ctx, wait/2+rand.N(wait/2+1)) != nil {
			return err
		}
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// background runs fn on its own timeout, after the call has returned.
func (o *onceCall) background(ctx context.Context, fn func(ctx context.Context) error) {
	go func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.c.lease/3)
		defer cancel()
		_ = fn(sctx) // a lock left behind runs out with its lease
	}()
}

func isLockLost(err error) bool { return errors.Is(err, ErrLockLost) }
