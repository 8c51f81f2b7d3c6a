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
// # Resuming
//
// Rerun the same input after a crash, a Ctrl-C or a failure, at any point:
// items whose keys were created are replayed (nothing is sent) and only the
// missing ones are created. Nothing local is needed: the keys are the state.
//
// Polar answers look-ups from a replica that lags behind its writes, so a
// create that the crashed run made just before it died may still be
// invisible to the rerun's first look-up. Run applies this rule, with
// SettleTime the client's subkit.RetryPolicy.SettleTime (Options.SettleTime):
//
//   - A run that has found any of its keys already created is a resume.
//     A fresh run (no key found so far) creates at once.
//   - In a resume, a key that a look-up made before run start + SettleTime
//     did not find is looked up once more, at or after that time, before it
//     is created: one more request per page of 100 keys. Keys found absent
//     by a look-up made at or after run start + SettleTime need no second
//     check, since everything created before the run started is visible by
//     then.
//
// So a resume costs at most one extra look-up per page, for the pages looked
// up in its first SettleTime, and may pause new creates until run start +
// SettleTime. What the rule cannot see is a crashed run whose creates were
// all still invisible when the rerun looked (a rerun started within
// SettleTime of a crash that came within SettleTime of the first run's
// start): wait SettleTime before rerunning, or share an idempotency store
// (subkitredis.NewStore), which remembers every key it was asked for.
// Pages are looked up in input order: rerun the same input in the same
// order.
//
// # Stopping
//
// When ctx ends, no new item starts; creates in flight finish with a
// context of their own (context.WithoutCancel, bounded by the client's
// subkit.WithTimeout), so a Ctrl-C never turns them into unknown outcomes;
// and every item not started — the rest of the input included, which Run
// still reads — is reported NotAttempted. Every item of the input ends with
// exactly one Result: Created, Replayed, Reconciled, Conflicted, Failed,
// Unknown or NotAttempted.
//
// # Fleets
//
// Several processes can split one input: give each the items with
// Shard(key, n) == i. Processes that use one token share one budget and
// must share its limiter (subkitredis.NewLimiter), and processes that may
// see the same keys should share an idempotency store (subkitredis.NewStore).
package bulk
