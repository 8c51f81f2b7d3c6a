// Command subkit is subkit for people who do not write Go.
//
//	subkit bulk [flags] FILE
//
// makes the subscription create each line of FILE asks for — a Polar
// customer by Polar ID or by your own ID, the subscription behind a
// Chargeflow dispute — each exactly once under its key, paced at the API's
// limit, with a live progress bar, and writes one JSON line per input line
// to the report (standard output unless -report says otherwise). Rerunning
// the same input resumes: what was created is replayed, only what is
// missing is created. It is package bulk's Run behind a file reader.
//
// # Input
//
// CSV with a header line, or JSON Lines (one object a line); -format, else
// the file's extension (.csv, .jsonl, .ndjson, .json), says which; "-"
// reads standard input (then give -format). Columns, or fields, are named as
// the APIs name them:
//
//	key                      the idempotency key; -key names another column, -key-prefix adds a prefix
//	create                   polar-customer, polar-external-customer or chargeflow-dispute; or -create for every line
//	polar-customer           product_id, customer_id, metadata.NAME…
//	polar-external-customer  product_id, external_customer_id, metadata.NAME…
//	chargeflow-dispute       dispute_id, source_id, created_at, start_date, frequency, frequency_count,
//	                         and optionally account_id, collection_method, updated_at, end_date,
//	                         cancellation_date, cancellation_reason, trial_start, trial_end, renews_at,
//	                         plan_name, pricing_model, status (dates RFC 3339 or YYYY-MM-DD)
//
// In JSON Lines, metadata may also be an object ("metadata": {"seats": 3}),
// whose numbers and booleans keep their type. -set column=value fills a
// column every line leaves empty (-set product_id=…). Columns nothing reads
// are named once on stderr and ignored. ChatDash creates are refused:
// ChatDash stores nothing a create can be found by, so they can be neither
// keyed nor resumed.
//
// A line that cannot be read (a bad quote, a missing value, a bad date, an
// unknown create) is reported failed with its line and column, and the other
// lines still run.
//
// # Where it sends
//
// Without -live it runs against the built-in fake APIs (package subkittest),
// seeded with every product, customer and dispute the input names: a dry
// run that creates nothing real. -live calls the real APIs with the
// credentials in CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY and
// POLAR_ACCESS_TOKEN, Polar's sandbox unless -production is given; a
// credential missing for the input's creates ends the command with status
// 2 before anything is sent. -base-url sends every API's requests to
// another server (a fake that outlives one run, a proxy) with the same
// credentials.
//
// Polar's own servers are paced to Polar's published limit by default;
// -rate api=N/DURATION paces an API at N requests in any DURATION.
//
// # Fleets
//
// -shard i/n takes only the lines whose key hashes (bulk.Shard) to shard i
// of n, so that n processes split one input; a line whose key cannot be read
// is reported by shard 0. -redis host:port makes the processes share one
// idempotency store and one rate budget (named by -redis-name: one per
// token).
//
// # Report and summary
//
// One JSON object per input line, in the order they finish:
//
//	{"line":2,"key":"user-1","api":"polar","create":"polar-external-customer","outcome":"created","subscription_id":"…","request_id":"…"}
//	{"line":7,"key":"user-6","outcome":"failed","error":"bulk: invalid item: line 7, column product_id: is required (…)","action":"fix"}
//
// outcome is created, replayed, reconciled, conflicted, failed, unknown or
// not_attempted; action is subkit.Classify's advice for the error (fix,
// retry, retry_later, look_up) and may_be_applied says whether the create
// may have happened. The summary — items per outcome, requests per API, 429
// answers, wall time — is printed on stderr at the end, and written as JSON
// with -summary FILE.
//
// # Stopping and exit status
//
// Ctrl-C (or SIGTERM) stops cleanly: no new line starts, the creates in
// flight finish, every line not started is reported not_attempted, and the
// report is written; a second Ctrl-C ends the process at once. Either way,
// rerunning the same input resumes.
//
//	0    every line created, replayed or reconciled
//	1    some line failed or conflicted: fix those lines (the report says how) and rerun
//	2    bad usage or setup (flags, unreadable input, missing credential): nothing was sent
//	3    some outcome unknown or not attempted: rerun the same input
//	130  interrupted: the report lists every line; rerun to resume
package main
