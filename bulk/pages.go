package bulk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/subkit-go/subkit"
)

// flush looks up the keys of a page of Polar items in one request and hands
// the items to the workers with what it found, applying the resume rule
// (see the package documentation): a key missing from a look-up made
// before run start + SettleTime is looked up once more at that time, since
// a create an earlier run made just before this one started may not have
// been visible yet — unless the client's store remembers every earlier
// run's sends (Options.StoreRemembersEarlierRuns), which then settles them
// itself. The rule holds whether or not the page found any key: an earlier
// run whose creates are all still invisible leaves no trace but its
// creates.
func (r *runner) flush(ctx context.Context, page []job) {
	if ctx.Err() != nil {
		r.give(ctx, page, nil, nil)
		return
	}
	keys := make([]string, len(page))
	for i, j := range page {
		keys[i] = j.item.Key
	}
	lookedAt := time.Now()
	found, failed := r.lookUp(ctx, keys)
	settled := r.start.Add(r.opts.SettleTime)
	if !r.opts.StoreRemembersEarlierRuns && lookedAt.Before(settled) {
		var missing []string
		for _, k := range keys {
			if _, ok := found[k]; !ok && failed[k] == nil {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			if err := sleepUntil(ctx, settled); err != nil {
				r.give(ctx, page, nil, nil)
				return
			}
			again, failedAgain := r.lookUp(ctx, missing)
			for k, subs := range again {
				found[k] = subs
			}
			for k, err := range failedAgain {
				failed[k] = err
			}
		}
	}
	r.give(ctx, page, found, failed)
}

// lookUp looks keys up, and returns the subscriptions found per key and the
// error of each key it could not look up. One page's failure fails only
// the keys it concerns: when the answer cannot be read (a subscription in
// it so large that the page exceeds what the SDK reads, say) or the server
// refuses the request itself, the keys are looked up again in two halves,
// down to one key, so that a key that cannot be looked up fails alone and
// its page's other keys go on. A failure that no split can help (the
// server down, a refused credential, a 429, the run stopped) fails every
// key of the page.
func (r *runner) lookUp(ctx context.Context, keys []string) (map[string][]*subkit.Subscription, map[string]error) {
	found, err := r.c.Subscriptions.FindByIdempotencyKeys(ctx, keys)
	if err == nil {
		return found, map[string]error{}
	}
	if len(keys) == 1 || !pageUnreadable(err) || ctx.Err() != nil {
		failed := make(map[string]error, len(keys))
		for _, k := range keys {
			failed[k] = err
		}
		return map[string][]*subkit.Subscription{}, failed
	}
	half := len(keys) / 2
	found, failed := r.lookUp(ctx, keys[:half])
	found2, failed2 := r.lookUp(ctx, keys[half:])
	for k, subs := range found2 {
		found[k] = subs
	}
	for k, err := range failed2 {
		failed[k] = err
	}
	return found, failed
}

// pageUnreadable reports whether a look-up failed because of what its keys
// asked for or found, so that asking for fewer keys may succeed: a success
// whose body could not be read (too large, cut short, undecodable), or a
// request the server refused as such.
func pageUnreadable(err error) bool {
	var ae *subkit.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch s := ae.StatusCode; {
	case s >= 200 && s <= 299:
		return true
	case s == http.StatusBadRequest, s == http.StatusRequestEntityTooLarge, s == http.StatusRequestURITooLong,
		s == http.StatusUnprocessableEntity, s == http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

// give hands a looked-up page to the workers: each item with its key's
// subscriptions (none found is an empty slice, which WithKeyLookup needs).
// An item whose key could not be looked up (failed) fails with that error,
// and with found nil no item was looked up: each is NotAttempted, as every
// item is once the run has stopped.
func (r *runner) give(ctx context.Context, page []job, found map[string][]*subkit.Subscription, failed map[string]error) {
	for _, j := range page {
		err := failed[j.item.Key]
		switch {
		case found == nil || ctx.Err() != nil:
			r.results <- notAttempted(j, ctx)
		case err != nil:
			r.results <- Result{Index: j.index, Item: j.item, API: j.api, Outcome: Failed, Err: lookupFailed(err)}
		default:
			subs := found[j.item.Key]
			if subs == nil {
				subs = []*subkit.Subscription{}
			}
			j.looked = subs
			r.dispatch(ctx, j)
		}
	}
}

// lookupFailed is the error of an item whose key could not be looked up:
// nothing was sent for it.
func lookupFailed(err error) error {
	return fmt.Errorf("bulk: looking up the key before creating: %w", err)
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
