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
// # What it serves
//
// Each API at its documented path, so one base URL (Server.URL) serves all
// three:
//
//	ChatDash:   POST /v1/public/stripe/connect/accounts/{accountId}/subscriptions   → 200
//	Chargeflow: POST /public/2025-04-01/disputes/{disputeId}/subscription           → 201
//	Polar:      POST /v1/subscriptions/                                            → 201
//
// Polar's path without the trailing slash is answered with a 307 to the
// slashed path, as Polar's framework does. Look-ups are not served yet.
// Unknown paths get each API's 404: paths under /v1/public/ are ChatDash's,
// under /public/ Chargeflow's, and all others Polar's.
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
//     and Subscriptions shows only the current one.
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
//   - Every answer carries an X-Request-Id header, the ID under which
//     Requests, Request and CreatedBy find the request.
//
// # Seeding, inspection and faults
//
// Register Polar products and customers, Chargeflow disputes and ChatDash
// accounts, clients and products (seed.go) to make the server refuse unknown
// ones as the API does. Requests lists what the server received (credentials
// redacted); Subscriptions and its typed variants list what it holds, and
// CreatedBy which subscriptions one request created. InjectFault queues
// failures — an error status, a 429, a slow answer, a connection closed
// before or after handling, a malformed or oversized success body — for the
// next requests to an API.
package subkittest
