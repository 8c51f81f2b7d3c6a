// Command subkit is subkit for people who do not write Go.
//
//	subkit fake [flags]
//	subkit bulk [flags] FILE
//	subkit webhooks catch-up -since WHEN [flags]
//	subkit version
//
// Install it from a clone (the module is not published yet):
//
//	git clone https://github.com/subkit-go/subkit && cd subkit
//	go install ./cmd/subkit    # into $(go env GOPATH)/bin
//
// # subkit fake
//
// serves fake ChatDash, Chargeflow and Polar APIs (package subkittest) on one
// port, like stripe-mock, so that runs, shards, a service's instances and
// programs in any language can share one fake. It listens on 127.0.0.1:12121
// unless -addr says otherwise (a port alone, ":8080", stays on loopback),
// prints on stdout the shell lines that point a program at it
// (SUBKIT_FAKE_URL, the three credentials it accepts, the admin token), and
// serves until Ctrl-C or SIGTERM, when it finishes the requests in flight.
//
// Like the real APIs it knows nothing it was not given: seed it with
// -polar-product, -polar-customer, -polar-external-customer,
// -chargeflow-dispute, -chatdash-account, -chatdash-client,
// -chatdash-product, or a -seed FILE of JSON; or take every well-formed ID
// for an existing object with -implicit. -read-lag api=MIN-MAX hides each
// create from look-ups for a while, as Polar's read replica does; -rate
// api=N/DURATION limits an API as it does (Polar: fixed windows, an empty
// 429, Retry-After of the whole window). -state FILE keeps what it holds
// across restarts: loaded at start, saved every second while it changes,
// and at the end. -webhook URL delivers Polar's signed webhook events of
// what it creates to URL, as Polar does, signed with
// SUBKIT_FAKE_WEBHOOK_SECRET or a secret it draws and prints.
//
// Its admin API, under /_subkit/, answers only requests with
// "Authorization: Bearer <admin token>" (SUBKIT_FAKE_ADMIN_TOKEN, drawn at
// start unless the environment sets it):
//
//	GET  /_subkit/state                        what it holds, per API, as JSON
//	GET  /_subkit/requests?api=polar           the requests it received, credentials redacted
//	POST /_subkit/reset                        forget every subscription, request and queued fault
//	POST /_subkit/faults                       {"api":"polar","fault":"close_after_handling","count":1,"on":["create"]}
//	POST /_subkit/seed                         more seeds, in -seed FILE's format
//	GET  /_subkit/webhooks                     the webhook endpoints, events and deliveries
//
// Faults are subkittest's, by name: respond and respond_after_handling
// ("status", "body"), rate_limited ("retry_after"), delay, commit_late and
// read_lag ("delay": "2s"), close_before_handling, close_after_handling,
// malformed_body, oversized_body ("size", "declare_length"); "header" adds
// headers to the answer.
//
// # subkit bulk
//
// makes the subscription create each line of FILE asks for — a Polar
// customer by Polar ID or by your own ID, the subscription behind a
// Chargeflow dispute — each exactly once under its key, paced at the API's
// limit, with a live progress bar, and writes one JSON line per input line
// to the report (standard output unless -report says otherwise). Rerunning
// the same input resumes: what was created is replayed, only what is
// missing is created. It is package bulk's Run behind a file reader, with
// an idempotency store that outlives the run: the state file.
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
// The input is read as a whole before anything is sent. A problem of the
// whole — a header that cannot be read, a column a create needs that the
// header lacks (or, in JSON Lines, that no line has), no line at all, a
// header with nothing under it — is said once, and the command ends with
// status 2. A line that cannot be read (a bad quote, a missing value, a bad
// date, an unknown create, invalid UTF-8, a value over 64 KiB) is reported
// failed with its line and column, and the other lines still run. Values
// are echoed clipped, so that a huge value never makes a huge report.
//
// # Where it sends
//
// By default (-dry-run says so by name) it runs against built-in fake APIs,
// seeded with every product, customer and dispute the input names: a dry
// run that creates nothing real, whose fake is gone when the run ends (the
// summary says what it held). -base-url sends every API's requests to a
// server that outlives the run — a subkit fake, a proxy — with the
// credentials in the environment; on this machine, an API whose credential
// the environment lacks gets subkit fake's own. -live calls the real APIs
// with the credentials in CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY and
// POLAR_ACCESS_TOKEN, Polar's sandbox unless -production is given; a
// credential missing for the input's creates ends the command with status 2
// before anything is sent.
//
// Polar's own servers are paced to Polar's published limit by default;
// -rate api=N/DURATION paces an API at N requests in any DURATION. A wait
// for a turn is a wait: it never fails a line while the run goes on, however
// long the budget makes it (-timeout bounds each request from when it may
// go, not the wait before it).
//
// # What it remembers
//
// Each line's create is keyed, and the idempotency store is where a keyed
// create claims its key — marked pending, before anything is sent — and
// records what came of it. By default that store is the SQLite state file
// .subkit-state.db in the current directory (-state FILE names another;
// created readable by its owner only, as it holds what was created), so
// that a rerun of the same command in the same directory finds it:
//
//   - A run stopped or killed at any moment and rerun at once creates each
//     key once. What the earlier run finished is replayed from the file
//     without asking the API; what it sent without learning the outcome is
//     pending there, and the rerun looks it up until -settle after that
//     send, however late Polar's lagging reads show it, before creating.
//     Keys a killed run had in flight stay locked for -lease (15 s by
//     default), which the rerun waits out.
//   - Several processes on one host sharing the file (shards or not)
//     create each key once, with no server: SQLite's locks serialise them.
//     Each paces itself (-rate is one process's budget).
//   - Records belong to the target they were made for — the API, the base
//     URL, a hash of the credential — and a record of another target counts
//     as none. So one file serves dry and live runs: a dry run's records
//     never answer for -base-url or -live, and since each dry run has a new
//     built-in fake, with credentials drawn for it, a dry run rerun creates
//     again.
//
// Because the store holds every create an earlier run with it sent, a run
// with it creates at once (bulk.Options.StoreRemembersEarlierRuns). With
// -state off the store is the process's memory, which no rerun finds: a
// run then cannot tell a fresh start from a resume whose creates Polar does
// not show yet, and its first Polar creates wait -settle (bulk's resume
// rule). An earlier run made with another store (-state off, another file,
// another directory) is not in this one: rerun with the same store, or
// wait -settle before rerunning.
//
// # Fleets
//
// -shard i/n takes only the lines whose key hashes (bulk.Shard) to shard i
// of n, so that n processes split one input; a line whose key cannot be read
// is reported by shard 0. Processes on several machines share one store
// instead of a file: -redis URL (one idempotency store and one rate budget,
// named by -redis-name: one per token), redis://[user:password@]host:port[/db],
// rediss://… for TLS, or host:port; or -postgres URL (the idempotency store
// only: each process paces itself, so give each its share with -rate),
// postgres://[user[:password]@]host[:port]/database[?sslmode=…].
// SUBKIT_REDIS_URL and SUBKIT_POSTGRES_URL give them without putting a
// password on the command line. -state, -redis and -postgres name one store
// each: give one. No output ever shows a password.
//
// # Report and summary
//
// One JSON object per input line, in the order they finish, written as
// they finish in batches of whole lines (a killed run leaves complete lines
// only, bar perhaps one cut short, which a rerun ignores: it writes its
// report anew):
//
//	{"line":2,"key":"user-1","api":"polar","create":"polar-external-customer","outcome":"created","subscription_id":"…","request_id":"…"}
//	{"line":7,"key":"user-6","outcome":"failed","error":"bulk: invalid item: line 7, column product_id: is required (…)","action":"fix"}
//	{"line":9,"key":"user-1","outcome":"conflicted","earlier_line":2,"error":"line 2 of this input has the same key for another create: …","action":"fix"}
//
// outcome is created, replayed, reconciled, conflicted, failed, unknown or
// not_attempted; action is subkit.Classify's advice for the error (fix,
// retry, retry_later, look_up) and may_be_applied says whether the create
// may have happened. The progress counts the lines that ended; the summary —
// items per outcome, what was not attempted, requests per API, 429 answers,
// wall time, and the store: which one (the state file's path, or the
// server), how many of the run's keys it already knew, finished or pending —
// is printed on stderr at the end, and written as JSON with -summary FILE.
//
// # Stopping and exit status
//
// Ctrl-C (or SIGTERM) stops cleanly, within about a second: no new line
// starts, waits for a turn end at once, a create already sent has a second
// to finish (one cut short then is reported unknown), every line not made is
// reported not_attempted, and the report is written; a second Ctrl-C ends
// the process at once. Either way, rerunning the same input resumes.
//
//	0    every line created, replayed or reconciled
//	1    some line failed or conflicted: fix those lines (the report says how) and rerun
//	2    bad usage, setup or input (flags, the input as a whole, a missing credential): nothing was sent
//	3    some outcome unknown or not attempted: rerun the same input
//	130  interrupted: the report lists every line; rerun to resume
package main
