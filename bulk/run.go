package bulk

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
	"time"

	"github.com/subkit-go/subkit"
)

// Options tune a run. The zero Options is a good start.
type Options struct {
	// Concurrency is how many creates run at once; default 8. Pacing is
	// the client's (subkit.WithRateLimiter, and Polar's own servers by
	// default): more workers than the limit needs only wait on it, so set
	// this for the API's latency (creates a second ≈ Concurrency / latency),
	// not for its limit.
	Concurrency int
	// Total is how many items the input holds, for Progress.Total and ETA;
	// 0 when unknown.
	Total int
	// SettleTime is how long a create may take to become visible to
	// Polar's look-ups; the resume rule (see the package documentation)
	// waits for it. 0 means the client's RetryPolicy().SettleTime, which is
	// right unless look-ups lag more than the client was told.
	SettleTime time.Duration
	// Progress, when set, is called every ProgressInterval (default 1s) and
	// once more, with Final set, when the run ends. It is called from the
	// goroutine that ranges over the results, between two results, so it
	// may share state with the loop body without locking; it should return
	// quickly.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// StoreRemembersEarlierRuns tells Run that every earlier run that may
	// have sent creates under these keys used the client's idempotency
	// store, and that the store still holds what they sent: one SQLite file
	// or Postgres database (subkitsql), or one Redis (subkitredis), shared
	// by every run — or the MemoryStore of this very process, for runs made
	// by it. A keyed create claims its key in the store, marked pending,
	// before it sends anything, and a later create under the key settles a
	// pending one — looking it up until SettleTime after its send, however
	// late the look-ups show it — before it may create again; a finished one
	// it replays from the store. So no look-up that misses an earlier run's
	// create can make a duplicate, and Run skips the resume rule's wait and
	// second look-up (see the package documentation): a fresh run creates
	// at once.
	//
	// Leave it false (the default) when that is not known — an earlier run
	// with another store or none (a process's MemoryStore since gone), a
	// store that lost its data (a Redis restarted without persistence, a
	// deleted file): the store cannot speak for those runs, and only the
	// resume rule's second look-up can.
	StoreRemembersEarlierRuns bool
	// StopGrace is how long a create that has started may run on after ctx
	// ends; then it is cut short: NotAttempted if it had sent nothing (it
	// was waiting for its turn or its key), Unknown if its request may have
	// been applied (rerun to settle it). 0 lets it run until it ends by
	// itself, bounded by the client's timeouts. A wait for a turn on a
	// Limiter made by Interruptible ends at once when ctx ends, whatever
	// StopGrace says.
	StopGrace time.Duration
}

const (
	defaultConcurrency      = 8
	defaultProgressInterval = time.Second
	// pageSize is how many Polar keys one look-up checks: Polar's largest
	// page, so one request answers for the whole page.
	pageSize = 100
)

// Run makes the items' creates, each exactly once under its key, and yields
// one Result per item of the input, in the order they finish. See the
// package documentation for what it sends, the resume rule and what a
// cancellation does.
//
// An error yielded by items makes that item Failed (matching ErrInvalidItem
// and wrapping the error) and the run goes on with the next: a bad line of a
// file does not stop the others. Breaking out of the loop stops the run as
// cancelling ctx would, except that results still to come are dropped and
// the rest of the input is not read; the loop returns once the creates in
// flight have finished, so no goroutine of the run outlives it.
//
// c must have the credentials of the APIs the items name. Run sends its
// creates with subkit.WithIdempotencyKey, so the client's idempotency store
// serialises creates of one key (give every process of a fleet one shared
// store), and its Limiter paces every request: for a paced run, make c with
// subkit.WithTimeout(0) and a RetryPolicy.AttemptTimeout, so that waiting
// for a turn never fails an item (see Pacing in the package documentation).
func Run(ctx context.Context, c *subkit.Client, items iter.Seq2[Item, error], opts Options) iter.Seq[Result] {
	if opts.SettleTime <= 0 && c != nil {
		opts.SettleTime = c.RetryPolicy().SettleTime
	}
	opts = opts.withDefaults()
	return func(yield func(Result) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		r := &runner{c: c, opts: opts, start: time.Now(), abandon: make(chan struct{}),
			jobs: make(chan job, pageSize+opts.Concurrency), results: make(chan Result, opts.Concurrency)}
		go r.run(ctx, items)
		r.consume(cancel, yield)
	}
}

func (o Options) withDefaults() Options {
	if o.Concurrency < 1 {
		o.Concurrency = defaultConcurrency
	}
	if o.SettleTime <= 0 {
		o.SettleTime = subkit.DefaultRetryPolicy().SettleTime
	}
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = defaultProgressInterval
	}
	return o
}

// runner is one run: a feeder reads the input, checks the keys of Polar
// items a page at a time and hands items to the workers through jobs; the
// feeder and the workers send results, which the caller's goroutine yields.
type runner struct {
	c     *subkit.Client
	opts  Options
	start time.Time
	// abandon is closed when the caller breaks out of the loop: the feeder
	// stops reading the input.
	abandon chan struct{}
	jobs    chan job
	results chan Result
}

// job is an item handed to a worker, with its index and, for Polar, the
// key look-up it decides from.
type job struct {
	index  int
	item   Item
	api    subkit.API
	looked []*subkit.Subscription
}

// run feeds the workers and closes results when every item has one.
func (r *runner) run(ctx context.Context, items iter.Seq2[Item, error]) {
	var wg sync.WaitGroup
	wg.Add(r.opts.Concurrency)
	for range r.opts.Concurrency {
		go func() {
			defer wg.Done()
			for j := range r.jobs {
				r.results <- r.create(ctx, j)
			}
		}()
	}
	r.feed(ctx, items)
	close(r.jobs)
	wg.Wait()
	close(r.results)
}

// consume yields the results and reports progress between them. When the
// caller breaks out, it cancels the run and waits for it to end.
func (r *runner) consume(cancel context.CancelFunc, yield func(Result) bool) {
	t := newTracker(r.start, r.opts.Total)
	tick := time.NewTicker(r.opts.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case res, ok := <-r.results:
			if !ok {
				if r.opts.Progress != nil {
					r.opts.Progress(t.report(time.Now(), true))
				}
				return
			}
			t.add(res)
			if !yield(res) {
				close(r.abandon)
				cancel()
				for range r.results { // the creates in flight finish
				}
				return
			}
		case now := <-tick.C:
			if r.opts.Progress != nil {
				r.opts.Progress(t.report(now, false))
			}
		}
	}
}

// feed reads the input, sends invalid items' results itself, and hands the
// others to the workers: Chargeflow items at once, Polar items a page at a
// time, after their keys have been looked up.
func (r *runner) feed(ctx context.Context, items iter.Seq2[Item, error]) {
	var page []job
	index := 0
	for item, err := range items {
		select {
		case <-r.abandon:
			return
		default:
		}
		j := job{index: index, item: item}
		index++
		if err == nil {
			err = item.check()
		}
		switch {
		case err != nil:
			r.results <- failedItem(j, err)
		case ctx.Err() != nil:
			r.results <- notAttempted(j, ctx)
		case item.API() == subkit.Polar:
			j.api = subkit.Polar
			if page = append(page, j); len(page) == pageSize {
				r.flush(ctx, page)
				page = nil
			}
		default:
			j.api = item.API()
			r.dispatch(ctx, j)
		}
	}
	if len(page) > 0 {
		r.flush(ctx, page)
	}
}

// dispatch hands j to a worker, unless the run has been stopped.
func (r *runner) dispatch(ctx context.Context, j job) {
	if ctx.Err() != nil {
		r.results <- notAttempted(j, ctx)
		return
	}
	r.jobs <- j
}

// create makes one item's create under its key, with a context of its own
// (see createContext): a create that has started finishes even when the
// run is stopped, since cutting it short would leave its outcome unknown.
func (r *runner) create(ctx context.Context, j job) Result {
	if ctx.Err() != nil {
		return notAttempted(j, ctx)
	}
	cctx, release := r.createContext(ctx)
	defer release()
	res := Result{Index: j.index, Item: j.item, API: j.api}
	opts := []subkit.CallOption{subkit.WithIdempotencyKey(j.item.Key), subkit.WithResponseInfo(&res.Info)}
	var err error
	if k, ok := j.item.Kind(); ok { // checked before the item was queued
		err = k.create(cctx, r.c, &j.item, opts, j.looked, &res)
	}
	res.Outcome, res.Err = outcomeOf(res.Info, err), err
	if res.Outcome == Failed && ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// Stopped before its create was sent (its wait for a turn ended with
		// the run, or StopGrace cut it): nothing was applied, and a rerun
		// makes it.
		return notAttempted(j, ctx)
	}
	return res
}

// createContext returns the context of one create, and how to release it.
// It does not end when ctx (the run's) does, so that a create on its way is
// not cut short, except after Options.StopGrace; it carries ctx, so that a
// Limiter made by Interruptible ends its waits with the run.
func (r *runner) createContext(ctx context.Context) (context.Context, func()) {
	cctx := context.WithValue(context.WithoutCancel(ctx), runKey{}, ctx)
	if r.opts.StopGrace <= 0 {
		return cctx, func() {}
	}
	cctx, cancel := context.WithCancel(cctx)
	var mu sync.Mutex
	var grace *time.Timer
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		grace = time.AfterFunc(r.opts.StopGrace, cancel)
		mu.Unlock()
	})
	return cctx, func() {
		stop()
		mu.Lock()
		if grace != nil {
			grace.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func failedItem(j job, err error) Result {
	return Result{Index: j.index, Item: j.item, Outcome: Failed, Err: invalidItem(err)}
}

func notAttempted(j job, ctx context.Context) Result {
	return Result{Index: j.index, Item: j.item, API: j.api, Outcome: NotAttempted,
		Err: fmt.Errorf("%w: %w", ErrNotAttempted, context.Cause(ctx))}
}
