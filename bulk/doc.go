// Package bulk makes many subscription creates — thousands of Polar
// customers, every open Chargeflow dispute — each exactly once, as fast as
// the API allows, and resumable after a crash without any local state.
//
//	items := bulk.Items(
//		bulk.Item{Key: "user-1", ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{ProductID: product, ExternalCustomerID: "user-1"}},
//		bulk.Item{Key: "user-2", ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{ProductID: product, ExternalCustomerID: "user-2"}},
//	)
//	for res := range bulk.Run(ctx, client, items, bulk.Options{}) {
//		fmt.Println(res.Item.Key, res.Outcome, res.SubscriptionID(), res.Err)
//	}
//
// The command subkit bulk (cmd/subkit) does the same from a CSV or JSON
// Lines file, for people who do not write Go.
//
// # Exactly once, and what it costs
//
// Every create is keyed (subkit.WithIdempotencyKey with Item.Key), so the
// SDK's exactly-once protocol applies to each. For Polar, Run checks the
// keys of up to 100 items with one request (FindByIdempotencyKeys: Polar
// ORs repeated metadata filters) and hands each create its share of the
// answer (subkit.WithKeyLookup), so a fresh Polar run costs its POSTs plus
// one GET per 100 items: about 1.01 requests a create. Chargeflow has no
// look-up by many disputes at once, so each Chargeflow create costs the
// SDK's own replay check (a GET) and its POST: 2 requests.
//
// ChatDash creates cannot be items: ChatDash stores nothing a create can be
// found by, so they can be neither keyed nor resumed.
//
// # Pacing
//
// Run adds no waits of its own: every request waits on the client's Limiter
// (subkit.WithRateLimiter; Polar's own servers are paced to their published
// limit by default). Polar counts in fixed windows and answers a 429 with a
// Retry-After of the whole window, so a run must never draw one: pace the
// client for the budget it really has — subkit.NewLimiter for one process,
// subkitredis.NewLimiter for processes that share one token — and a run
// sustains about 96% of the limit in creates (the limiter lets through about
// 97%, and the key look-ups take 1% of it), with no 429.
//
// A paced run queues on purpose: thousands of items behind a budget of 100
// a minute wait for their turn for many minutes, and a sliding window
// shared by a fleet (subkitredis.NewLimiter) may put the next free slot a
// whole window away. A wait is bounded by its call's deadline, and the
// SDK's default subkit.WithTimeout (60 s) counts waits in, so with it such
// items would fail before sending instead of waiting. For a paced run, make
// the client with subkit.WithTimeout(0) and bound each request with
// subkit.RetryPolicy.AttemptTimeout instead, whose clock starts when the
// request may go: then a wait for a turn never fails an item while ctx
// lives, and every request is still bounded. The command subkit bulk does
// so (its -timeout is the AttemptTimeout). A caller with a deadline of its
// own (an HTTP handler) wants the opposite — fail at once, before sending,
// when the next turn comes too late — which is what WithTimeout gives.
//
// # Resuming
//
// Rerun the same input after a crash, a Ctrl-C or a failure, at any point:
// items whose keys were created are replayed (nothing is sent) and only the
// missing ones are created. Nothing local is needed: the keys are the state
// (a shared idempotency store makes a rerun cheaper, not possible).
//
// Polar answers look-ups from a replica that lags behind its writes, so a
// create that an earlier run made just before it died may still be
// invisible to the rerun's look-ups — all of them, when every create of the
// earlier run was that recent. Run applies this rule, with SettleTime the
// client's subkit.RetryPolicy.SettleTime (Options.SettleTime):
//
//   - A key that a look-up made before run start + SettleTime did not find
//     is looked up once more, at or after that time, before it is created:
//     one more request per page of 100 keys, for the pages looked up in the
//     run's first SettleTime. Keys found absent by a look-up made at or
//     after run start + SettleTime need no second check, since everything
//     created before the run started is visible by then.
//   - So a run whose first look-ups miss keys creates none of them before
//     run start + SettleTime, fresh run or not: look-ups that may not show
//     an earlier run yet cannot tell a fresh run from a resume. The wait
//     costs a run that long once, and one more look-up.
//   - Unless Options.StoreRemembersEarlierRuns says that the client's
//     idempotency store holds every earlier run's sends (a subkitsql or
//     subkitredis store every run shares): every keyed create claims its key
//     there, pending, before it sends, and a later create under the key
//     settles a pending one itself before creating. Then Run skips the
//     rule, and a fresh run creates at once.
//
// The rule needs SettleTime to cover the look-ups' lag behind a create: a
// create the API shows later than that can still be made twice, by a rerun
// as by any call (see the SDK's guarantee table). It does not depend on the
// order of the input: a rerun may read its lines in another order.
//
// A page whose answer cannot be read — a subscription in it larger than
// the SDK reads, say — is looked up again in halves, down to single keys,
// so that it fails only the items it concerns; the others go on.
//
// # Stopping
//
// When ctx ends, no new item starts, and every item not started — the rest
// of the input included, which Run still reads — is reported NotAttempted.
// A create that has started finishes with a context of its own, so that a
// Ctrl-C does not turn a request on its way into an unknown outcome:
// bounded by the client's timeouts, or cut short after Options.StopGrace —
// NotAttempted then if it had sent nothing, Unknown if it may have been
// applied (a rerun settles it). A wait for a turn on a Limiter wrapped by
// Interruptible ends at once instead, and its item is NotAttempted: nothing
// was sent. Page look-ups, which change nothing, end with ctx. Every item
// of the input ends with exactly one Result: Created, Replayed, Reconciled,
// Conflicted, Failed, Unknown or NotAttempted.
//
// Progress.Done counts the items that ended, not those NotAttempted, so a
// stopped run's last report shows how far it got.
//
// # Fleets
//
// Several processes can split one input: give each the items with
// Shard(key, n) == i. Processes that use one token share one budget and
// must share its limiter (subkitredis.NewLimiter), and processes that may
// see the same keys at the same time must share an idempotency store
// (subkitsql.NewStore on one SQLite file for the processes of one host, on
// Postgres or subkitredis.NewStore for a fleet); such a store, shared by
// every run, is also what Options.StoreRemembersEarlierRuns asks for.
package bulk
