package bulk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/subkit-go/subkit"
)

// flush looks up the keys of a page of Polar items in one request and hands
// the items to the workers with what it found, applying the resume rule
// (see the package documentation): once the run has found a key already
// created, a key missing from a look-up made before run start + SettleTime
// is looked up once more at that time, since a create made just before the
// run started may not have been visible yet.
func (r *runner) flush(ctx context.Context, page []job) {
	keys := make([]string, len(page))
	for i, j := range page {
		keys[i] = j.item.Key
	}
	if ctx.Err() != nil {
		r.give(ctx, page, nil, nil)
		return
	}
	lookedAt := time.Now()
	found, err := r.c.Subscriptions.FindByIdempotencyKeys(ctx, keys)
	if err != nil {
		r.give(ctx, page, nil, lookupFailed(len(keys), err))
		return
	}
	if len(found) > 0 {
		r.resumed = true
	}
	settled := r.start.Add(r.opts.SettleTime)
	if r.resumed && lookedAt.Before(settled) {
		var missing []string
		for _, k := range keys {
			if _, ok := found[k]; !ok {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			if err := sleepUntil(ctx, settled); err != nil {
				r.give(ctx, page, nil, nil)
				return
			}
			again, err := r.c.Subscriptions.FindByIdempotencyKeys(ctx, missing)
			if err != nil {
				r.give(ctx, page, found, lookupFailed(len(missing), err))
				return
			}
			for k, subs := range again {
				found[k] = subs
			}
		}
	}
	r.give(ctx, page, found, nil)
}

// give hands a looked-up page to the workers. An item whose key the look-up
// did not settle (found is nil, or the key is missing from it when failed is
// set) gets failed as its error, or NotAttempted when the run has stopped.
func (r *runner) give(ctx context.Context, page []job, found map[string][]*subkit.Subscription, failed error) {
	for _, j := range page {
		subs, ok := found[j.item.Key]
		switch {
		case found == nil || (!ok && failed != nil):
			if failed == nil || ctx.Err() != nil {
				r.results <- notAttempted(j, ctx)
			} else {
				r.results <- Result{Index: j.index, Item: j.item, API: j.api, Outcome: Failed, Err: failed}
			}
		default:
			if subs == nil {
				subs = []*subkit.Subscription{} // looked up, none: WithKeyLookup needs a slice
			}
			j.looked = subs
			r.dispatch(ctx, j)
		}
	}
}

// lookupFailed is the error of items whose keys could not be looked up:
// nothing was sent for them.
func lookupFailed(n int, err error) error {
	return fmt.Errorf("bulk: looking up %d key(s) before creating: %w", n, err)
}

// invalidItem makes err match ErrInvalidItem.
func invalidItem(err error) error {
	if errors.Is(err, ErrInvalidItem) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrInvalidItem, err)
}

// sleepUntil waits until t, or until ctx ends, and returns ctx's error.
func sleepUntil(ctx context.Context, t time.Time) error {
	wait, cancel := context.WithDeadline(ctx, t)
	defer cancel()
	<-wait.Done()
	return ctx.Err()
}
