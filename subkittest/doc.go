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
// Like the real APIs, a fresh server knows no product, customer, dispute,
// account or client: a create or look-up naming one is refused with the
// real API's error ("Product does not exist.", 404 "Dispute not found", …)
// until the test registers it with AddPolarProduct, AddPolarCustomer,
// AddChargeflowDispute, AddChatDashAccount, AddChatDashClient or
// AddChatDashProduct. WithImplicitResources makes every well-formed ID
// name something that exists instead, for tests that do not care.
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
// create committed late, a create answered but not yet visible to
// look-ups, a connection closed before or after handling, a malformed or
// oversized success body — for the next requests to an API, creates and
// look-ups alike unless Fault.On limits them to one operation.
//
// # Where exactly-once is decided
//
// The fake is as unkind as the real servers where a client's exactly-once
// guarantee is won or lost, when a test asks it to:
//
//   - WithReadLag(api, min, max) and the ReadLag fault: a create that was
//     answered is invisible to look-ups for a while, as Polar's list and
//     get, which read a replica, do. The accessors, which read the primary,
//     list it at once.
//   - CommitLate(d): the create is applied, and answered, only after d;
//     until then no look-up finds it, and it is applied at d even if the
//     client has given up (but not if the server is closed first).
//   - WithRateLimit: Polar's own limiter (fixed windows, an empty 429 whose
//     Retry-After is the whole window, counted before authentication); a
//     window stands for a minute, so a test can scale time down.
//   - AddCredential(api, key, scopes...): a read-only Polar token finds
//     subscriptions and is refused the create.
//
// # Webhooks
//
// WithPolarWebhook (or AddPolarWebhook) gives the Polar fake a webhook
// endpoint: every create then sends it subscription.created, .active and
// .updated, signed with Standard Webhooks as Polar signs (either key
// scheme), retried with Polar's schedule until a 2xx arrives within the
// timeout, held back while earlier events have had no attempt, and given up
// after ten attempts; ten events given up in a row disable the endpoint.
// PolarWebhook.TimeScale shortens Polar's delays (0.001: ten attempts in
// 1–2 s). InjectWebhookFault asks for duplicate deliveries
// (WebhookDuplicate) or a create's events newest first (WebhookReorder);
// SendPolarWebhookEvent sends any other event. The fake serves GET
// /v1/webhooks/deliveries (its filters, Polar's paging) and POST
// /v1/webhooks/events/{id}/redeliver, so that subkit's CatchUp runs against
// it (server/polar/webhook/endpoints.py, service.py, tasks.py at c6c3645e).
// Not modelled: archiving after 90 days, the endpoint management
// endpoints (SetPolarWebhookEnabled and RotatePolarWebhookSecret stand for
// them), the deliveries list's Pydantic messages for times (types and
// locations are Polar's), and formats other than raw. SignPolarWebhook and
// NewPolarWebhookRequest sign a body for a handler test without a server.
//
// # Fidelity
//
// Polar's behaviour is read in its server's source (polarsource/polar at
// c6c3645e; the API notes, polar.md "How the server behaves", gather the
// facts). What the fake mirrors, and where (paths in that repository):
//
//	Polar-Version 2026-04 (the default) or 2026-10, echoed;    server/polar/version.py,
//	  another is 404 {"detail":"Not Found"} before anything     server/polar/kit/versioning.py
//	POST without Content-Length 411, over 10 MiB 413           server/polar/middlewares.py
//	                                                            (MaxBodySizeMiddleware), server/polar/config.py
//	rate limit: fixed windows from the first request, an       server/polar/rate_limit.py; asgi-ratelimit
//	  empty 429, Retry-After the whole window, no X-RateLimit,   0.10.0 (ratelimit/core.py,
//	  before authentication, a pending-auth group of 60 a        ratelimit/backends/redis.py)
//	  window for a token not seen for 5 minutes
//	an unknown token is 401 invalid_token on every path        server/polar/auth/middlewares.py
//	no token is 401 Unauthorized with WWW-Authenticate         server/polar/exceptions.py,
//	                                                            server/polar/auth/dependencies.py
//	scopes: the create needs subscriptions:write, list and     server/polar/subscription/auth.py,
//	  get either; else 403 insufficient_scope                   server/polar/oauth2/exceptions.py
//	no request-ID header, a CF-Ray instead                     server/polar/middlewares.py (the correlation
//	                                                            ID is only logged); Cloudflare [inferred]
//	HEAD not routed: 405; a 405's Allow is the path's first    server/polar/subscription/endpoints.py
//	  route's (GET)                                             (FastAPI's APIRoute, Starlette's router)
//	create body: the union, Pydantic's errors to the byte,     server/polar/subscription/schemas.py,
//	  the metadata rules, one NUL validator on every field       server/polar/kit/metadata.py,
//	  (loc the whole field)                                      server/polar/kit/schemas.py
//	create: the product first, its first problem ends the      server/polar/subscription/service.py (create),
//	  request: unknown, not recurring, legacy, not free by      server/polar/product/price_set.py,
//	  its default price in the organization's currency;         server/polar/models/product.py,
//	  then the customer (an exact external ID, not deleted);    server/polar/models/product_price.py
//	  seats for seat-based products
//	no idempotency: the same body twice creates two            server/polar/subscription/service.py
//	a create commits before its 201; list and get read a       server/polar/kit/routing.py,
//	  replica that lags behind (WithReadLag, ReadLag)            server/polar/subscription/endpoints.py
//	                                                            (get_db_read_session),
//	                                                            terraform/production/render.tf
//	a create runs on when its client leaves (CommitLate)       server/polar/kit/routing.py [inferred]
//	list: filters (repeatable, ANDed), page and limit          server/polar/subscription/endpoints.py,
//	  (clamped to 100), sorting (ended_at, ends_at; not          server/polar/subscription/sorting.py,
//	  created_at), metadata[k] compared as text up to "]"       server/polar/kit/sorting.py, kit/pagination.py,
//	                                                            kit/metadata.py, kit/schemas.py
//	get: 404 ResourceNotFound                                  server/polar/subscription/endpoints.py
//	error bodies: RequestValidationError,                      server/polar/exception_handlers.py,
//	  PolarRequestValidationError, named PolarErrors            server/polar/exceptions.py
//	route answers carry Cache-Control: private, no-store       server/polar/middlewares.py (CacheControlMiddleware)
//
// Chargeflow and ChatDash publish no source: the fake follows their API
// notes, chargeflow.md and chatdash.md, section by section:
//
//	Chargeflow: path, x-api-key, body rules, 201 answer             chargeflow.md "Request", "Response"
//	Chargeflow: 400/401/403/404/429, {"message","requestId"}        chargeflow.md "Errors"
//	Chargeflow: an unknown dispute is 404 (create and look-up)      chargeflow.md "Errors", "Look-up"
//	Chargeflow: GET the dispute, ?expand=subscription               chargeflow.md "Look-up: a dispute's subscription"
//	Chargeflow: no published limit; an optional 429, Retry-After    chargeflow.md "Request" (rate limits)
//	ChatDash: path, the raw key, the body inside data, 200          chatdash.md "Request", "Response"
//	ChatDash: {"message"} errors; an unknown account, client or     chatdash.md "Errors" (likely refusals)
//	  product, a client without an admin member, refused
//	ChatDash: the list (status, limit, starting_after) and get      chatdash.md "Look-ups"
//
// Not modelled: Polar's restricted and elevated rate-limit groups, budgets
// per user (personal tokens) or per OAuth app, products of another
// organization (answered as unknown ones are), unit-based prices and
// units, archived products, the update, cancel, export and preview
// endpoints (PATCH and DELETE on a subscription are 405 here), the date
// filters of the list (canceled_at_*, started_*: ignored), discounts,
// trials and meters, the 30 s statement timeout, Cloudflare's own errors,
// and the order of the scopes in a 403's WWW-Authenticate (a Python set's
// in Polar; Authlib's header was read in its 1.6.0, Polar runs 1.7.2).
// What Chargeflow and ChatDash leave unpublished is a choice, listed below.
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
// method gets 405 with Allow; Polar routes no HEAD (405), Chargeflow and
// ChatDash serve HEAD as GET. Unknown paths get each API's 404: paths under
// /v1/public/ are ChatDash's, under /public/ Chargeflow's, and all others
// Polar's.
//
// A look-up sees a create once it is applied (see CommitLate for one that is
// applied late) and its read lag has passed (see WithReadLag), answers it
// with the very JSON the create answered (items of a list included), and
// shows the newest Chargeflow subscription of a dispute that it sees.
// Look-ups check credentials as the creates do.
//
// The server accepts a well-formed request carrying a valid credential
// (AgencyKey, ChargeflowKey, PolarToken, or one added with AddCredential)
// for registered objects and answers it as the real API does: IDs in the
// API's format, timestamps and billing periods computed as the API computes
// them, the request's values echoed where the API echoes them, every key of
// the API's answer present. Raw net/http clients can use it as well as
// subkit.
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
//   - Chargeflow and ChatDash: the optional rate limit (WithRateLimit) is a
//     fixed window answering 429 in the API's style with a Retry-After of the
//     seconds left. ChatDash checks the account, the client, its agents, then
//     the product, with the messages above.
//   - Polar: both customer_id and external_customer_id in one body is taken
//     as the customer_id shape, as Pydantic's union does; an empty
//     external_customer_id passes the schema and is refused as
//     "Customer does not exist.". NaN and Infinity literals are refused as
//     invalid JSON.
//   - Polar answers carry a CF-Ray header (16 hex digits, "-", an airport
//     code), Chargeflow's and ChatDash's an X-Request-Id: the request's ID
//     in Requests.
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
//     discount, so any discount_id filter finds nothing. active (true:
//     trialing or active; false: canceled or unpaid), cancel_at_period_end
//     and customer_cancellation_reason are checked and filter; the date
//     filters (canceled_at_*, started_*) are not modelled: ignored like
//     unknown keys.
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
//     current_period_end, ended_at, ends_at, amount, product (its name) and
//     discount, each optionally with "-" for descending, repeatable; the
//     default is -started_at. Like Polar, the fake refuses created_at. Ties keep the
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
//   - As for the create: an unknown dispute is 404
//     {"message":"Dispute not found","requestId":…} (under
//     WithImplicitResources, while no dispute is registered, every
//     well-formed ID names one, without a subscription until one is
//     created). A malformed ID is 400.
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
//   - An unknown account is 404 {"message":"Connected account not found"},
//     as for the create.
package subkittest
