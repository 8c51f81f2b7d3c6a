// Package subkittest is to subkit what net/http/httptest is to net/http: an
// in-process fake of the three billing APIs subkit talks to — ChatDash,
// Chargeflow and Polar — served over one real loopback HTTP server, for
// integration tests.
//
//	srv := subkittest.NewServer()
//	defer srv.Close()
//	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{
//		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
//	// … call client.Subscriptions …
//	subs := srv.PolarSubscriptions() // what the server now holds
//
// # Seeding, inspection and faults
//
// Seeding makes the server stricter: once a Polar product or customer
// (AddPolarProduct, AddPolarCustomer), a Chargeflow dispute
// (AddChargeflowDispute), or a ChatDash account, client or product
// (AddChatDashAccount, AddChatDashClient, AddChatDashProduct) is registered,
// unknown ones of that kind are refused with the real API's error.
//
// Requests lists what the server received for an API (credentials
// redacted): each request with the status it was answered, the fault it
// met and the IDs of the subscriptions it created. PolarSubscriptions,
// ChargeflowSubscriptions and ChatDashSubscriptions list what the server
// holds: each subscription with the ID of the request that created it and
// the JSON the create answered (Body), which decodes into subkit's own
// types.
//
// InjectFault queues failures — an error status, a 429, a slow answer, a
// create committed late, a connection closed before or after handling, a
// malformed or oversized success body — for the next requests to an API,
// creates and look-ups alike unless Fault.On limits them to one operation.
//
// CommitLate(d) is the fault for testing exactly-once creates: the create
// is applied, and answered, only after d; until then no look-up finds it,
// and it is applied at d even if the client has given up (but not if the
// server is closed first).
//
// # What it serves
//
// Each API at its documented path, so one base URL (Server.URL) serves all
// three. The creates:
//
//	ChatDash:   POST /v1/public/stripe/connect/accounts/{accountId}/subscriptions   → 200
//	Chargeflow: POST /public/2025-04-01/disputes/{disputeId}/subscription           → 201
//	Polar:      POST /v1/subscriptions/                                            → 201
//
// and the look-ups that find what they created (OpLookup), each with the
// filters and paging of the real API:
//
//	ChatDash:   GET /v1/public/stripe/connect/accounts/{accountId}/subscriptions[?status=&limit=&starting_after=]
//	            GET /v1/public/stripe/connect/accounts/{accountId}/subscriptions/{subscriptionId}
//	Chargeflow: GET /public/2025-04-01/disputes/{disputeId}[?expand=subscription]
//	Polar:      GET /v1/subscriptions/[?product_id=&customer_id=&…&metadata[k]=&page=&limit=&sorting=]
//	            GET /v1/subscriptions/{id}
//
// Polar's paths with a slash too many or too few are answered with a 307 to
// the other form, as Polar's framework does. A served path with another
// method gets 405 with Allow. Unknown paths get each API's 404: paths under
// /v1/public/ are ChatDash's, under /public/ Chargeflow's, and all others
// Polar's. HEAD is served as GET.
//
// A look-up sees a create once it is applied (see CommitLate for one that is
// applied late), answers it with the very JSON the create answered (items
// of a list included), and never sees a Chargeflow subscription that a
// later create replaced. Look-ups check credentials as the creates do.
//
// A fresh server accepts any well-formed request carrying a valid credential
// (AgencyKey, ChargeflowKey, PolarToken, or one added with AddCredential)
// and answers it as the real API does: IDs in the API's format, timestamps
// and billing periods computed as the API computes them, the request's
// values echoed where the API echoes them, every key of the API's answer
// present. Raw net/http clients can use it as well as subkit.
//
// It enforces what the real APIs enforce, independently of subkit's own
// validation, so a test sending a request that subkit would not send still
// sees the real refusal: each API's credential header, the JSON content type
// and shape, required keys and their types, Polar's metadata rules and UUID
// version 4, Chargeflow's ID patterns, lengths, dates and enums. Polar's 422
// bodies are those of its framework (FastAPI and Pydantic 2) to the byte:
// locations name the member of the create union that failed
// (["body","SubscriptionCreateCustomer","product_id"]), and a body neither
// member accepts reports the errors of both.
//
// # Choices where the API documentation is silent
//
//   - Chargeflow: a missing x-api-key is 401 {"message":"Unauthorized"}, a
//     wrong one 403 {"message":"Forbidden"}, both without requestId as an API
//     gateway answers them; Chargeflow's own errors are
//     {"message": …, "requestId": …} with 400 for a bad body or dispute ID
//     and 404 for an unknown dispute. A dispute holds one subscription: a
//     second create for the same dispute replaces the first (201, a new id),
//     and ChargeflowSubscriptions shows only the current one.
//   - Chargeflow echoes the request's dates normalised to UTC with at most
//     millisecond precision, and null for those not sent.
//   - ChatDash: a missing or wrong key (including "Bearer <key>") is 401
//     {"message": …}; any refusal of the body is 400 {"message": …}; the
//     schedule's status is not_started when startDate is in the future and
//     active otherwise; its period ends one calendar month after startDate.
//   - Polar: both customer_id and external_customer_id in one body is taken
//     as the customer_id shape, as Pydantic's union does; an empty
//     external_customer_id passes the schema and is refused as
//     "Customer does not exist.". A NUL in a metadata key or in
//     external_customer_id, which Polar's schema does not check, is refused
//     like a NUL in a metadata value (the API notes say no string may carry
//     one). NaN and Infinity literals are refused as invalid JSON.
//   - Every answer carries an X-Request-Id header: the request's ID in
//     Requests.
//
// # Look-ups
//
// Polar (from its server's source: subscription/endpoints.py,
// kit/pagination.py, kit/sorting.py, kit/metadata.py):
//
//   - The list filters product_id, customer_id, external_customer_id,
//     organization_id, discount_id and status: each repeatable (values of
//     one key are alternatives), keys combined with AND. UUIDs may be in any
//     form Pydantic reads (braces, urn:uuid:, no hyphens, either case).
//     external_customer_id matches the customer's external ID, however the
//     create named the customer. No subscription of the fake has a
//     discount, so any discount_id filter finds nothing. Polar's other
//     filters (active, cancel_at_period_end, customer_cancellation_reason,
//     canceled_at_*, started_*) are not modelled: ignored like unknown keys.
//   - metadata[KEY]=VALUE compares VALUE with the stored value as
//     PostgreSQL's ->> operator writes it: a string without quotes, a bool
//     as true or false (not Python's True), an integer as its digits, a
//     float as numeric's text (1.0 stays "1.0", 1e+16 becomes
//     "10000000000000000", 1.5e-05 "0.000015"). A key repeated is OR; a
//     missing key matches nothing. The key is read as Polar's pattern does,
//     from the start of the query key only (metadata[k]x names k).
//   - Query strings are decoded as Starlette does (parse_qsl):
//     percent-encoded keys and values (metadata%5Bk%5D=v), "+" as a space;
//     a scalar parameter given twice takes its last value.
//   - page is 1-based (default 1), limit defaults to 10; both must be
//     integers above 0 in Pydantic's lax reading (" 2 ", "1_0", "2.0"), and
//     a limit above 100 is lowered to 100, as Polar does, not refused. The
//     answer is {"items": […], "pagination": {"total_count": N, "max_page":
//     ceil(N/limit)}}; a page past the end is empty.
//   - sorting takes customer (the customer's email), status, started_at,
//     current_period_end, amount, product (its name) and discount, each
//     optionally with "-" for descending, repeatable; the default is
//     -started_at. Like Polar, the fake refuses created_at. Ties keep the
//     order of creation in the first criterion's direction, so that
//     answers are deterministic under a fixed clock (newest first by
//     default).
//   - Every refused parameter is reported in one 422 RequestValidationError
//     whose body is Pydantic's to the byte, in FastAPI's order (page, limit,
//     sorting, then the filters as the endpoint declares them), with
//     Pydantic's union locations: ["query","customer_id","uuid"] for the
//     list as a whole, then ["query","customer_id","json-or-python[…]",0]
//     for each bad value. A missing token is checked first (401).
//   - GET /v1/subscriptions/{id}: a subscription the server holds, else 404
//     {"error":"ResourceNotFound","detail":"Not found"}; an id that is not a
//     UUID version 4 gets the 422 Polar's path parameter gives, with loc
//     ["path","id"].
//
// Chargeflow:
//
//   - GET /disputes/{disputeId} answers the dispute: id, source, source_id,
//     created_at, reason, due_by, amount, currency, status, stage. The
//     values a seeded dispute does not set (ChargeflowDispute) are drawn
//     from its ID, the same in every answer and on every server.
//   - With expand=subscription (also among comma-separated values, a
//     repeated expand, or expand[]), "subscription" holds the dispute's
//     current subscription, the JSON its create answered, or null; without
//     it the key is absent. WithChargeflowSubscriptionsArray answers
//     "subscriptions": [the subscription] (or []) instead.
//   - As for the create: once disputes are seeded, an unknown dispute is 404
//     {"message":"Dispute not found","requestId":…}; on a server without
//     seeded disputes every well-formed ID names a dispute (without a
//     subscription until one is created). A malformed ID is 400.
//
// ChatDash:
//
//   - The list holds the account's schedules, newest first, in the create's
//     shape. The status filter (default active) maps a schedule's status:
//     not_started is "scheduled", active is "active"; the other statuses
//     (trialing, incomplete, incomplete_expired, past_due, canceled, unpaid,
//     paused) are valid and find nothing. The status is the one the create
//     answered; the fake does not move a schedule on as time passes.
//   - limit is 1–100 (default 100); starting_after is the ID of one of the
//     account's subscriptions, of any status, after which the page starts.
//     has_more tells whether more follow; next_cursor is then the page's
//     last ID, and null otherwise. A bad status or limit, or a cursor the
//     account does not hold, is 400 {"message": …}; empty values take the
//     defaults.
//   - GET …/subscriptions/{subscriptionId} answers the create's keys with
//     customer as a bare ID, then pricing {"amount":"0.00",
//     "overage":"0.00","usageLimit":0}, totalPrice 0 and totalUsage 0
//     (nothing is billed or used in the fake). Another account's
//     subscription, or an unknown one, is 404
//     {"message":"Subscription not found"}.
//   - A seeded server refuses an unknown account with 404
//     {"message":"Connected account not found"}, as the create does.
package subkittest
