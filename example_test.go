package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The examples run against subkittest, an in-process fake of the three APIs.
// In production, leave out the fake and WithBaseURL: the SDK knows the real
// servers.

// A fixed clock makes the fake's timestamps (and so the examples' output)
// the same on every run.
var exampleNow = time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)

func exampleClock() time.Time { return exampleNow }

func ExampleNew() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddPolarProduct(subkittest.PolarProduct{ID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})

	client, err := subkit.New(
		// In production: subkit.WithEnv(), which reads CHATDASH_AGENCY_KEY,
		// CHARGEFLOW_API_KEY and POLAR_ACCESS_TOKEN.
		subkit.WithAgencyKey(subkittest.AgencyKey),
		subkit.WithChargeflowKey(subkittest.ChargeflowKey),
		subkit.WithOrganizationToken(subkittest.PolarToken),
		subkit.WithBaseURL(subkit.ChatDash, srv.URL()),
		subkit.WithBaseURL(subkit.Chargeflow, srv.URL()),
		subkit.WithBaseURL(subkit.Polar, srv.URL()),
		subkit.WithTimeout(30*time.Second),
		subkit.WithUserAgent("billing-svc/1.4"),
	)
	if err != nil {
		fmt.Println("New:", err) // an invalid option or no credential at all
		return
	}
	sub, err := client.Subscriptions.CreateForExternalCustomer(context.Background(), &subkit.ExternalCustomerSubscriptionParams{
		ProductID:          "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		ExternalCustomerID: "usr_1337",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", sub.Status)
	fmt.Println("user agent starts with billing-svc/1.4:",
		strings.HasPrefix(srv.Requests(subkit.Polar)[0].Header.Get("User-Agent"), "billing-svc/1.4 "))

	// New never panics: a bad option is an error.
	_, err = subkit.New()
	fmt.Println("no credential:", err != nil)
	_, err = subkit.New(subkit.WithAgencyKey(subkittest.AgencyKey), subkit.WithBaseURL(subkit.ChatDash, "http://api.example.com"))
	fmt.Println("plain http to a remote host:", err != nil)
	// Output:
	// status: active
	// user agent starts with billing-svc/1.4: true
	// no credential: true
	// plain http to a remote host: true
}

func ExampleSubscriptionsService_CreateConnect() {
	srv := subkittest.NewServer(subkittest.WithClock(exampleClock))
	defer srv.Close()
	// Registering objects makes the fake refuse unknown ones, as ChatDash does.
	srv.AddChatDashAccount("acct_1NXWPnCo6bFb1KQe")
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: "prod_ABC123XYZ", Name: "Pro Plan",
		PriceIDs: []string{"price_minutes", "price_overage"}})
	srv.AddChatDashClient(subkittest.ChatDashClient{ID: "64abc123def456789012345a", AdminEmail: "owner@acme.example",
		Agents: map[string]string{"64abc123def456789012345b": "Sales Bot", "64abc123def456789012345c": "Support Bot"}})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	sub, err := client.Subscriptions.CreateConnect(context.Background(), "acct_1NXWPnCo6bFb1KQe", &subkit.ConnectSubscriptionParams{
		ClientID: "64abc123def456789012345a",
		AgentIDs: []string{"64abc123def456789012345b", "64abc123def456789012345c"},
		SelectedProduct: subkit.ConnectProduct{
			ProductID: "prod_ABC123XYZ",
			StartDate: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), // sent as Unix seconds
			Pricing:   subkit.ConnectPricing{Metrics: subkit.MetricMinutes},
		},
		TaxSettings: subkit.ConnectTaxSettings{Enabled: true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("schedule:", strings.HasPrefix(sub.ID, "sub_sched_"), sub.Type, sub.Status)
	fmt.Println("customer:", strings.HasPrefix(sub.Customer.ID, "cus_"), sub.Customer.Email)
	fmt.Println("product:", sub.Product.ID, sub.Product.Name, sub.PriceIDs)
	fmt.Println("agents:", sub.Agents)
	fmt.Println("automatic tax:", sub.AutomaticTax)
	fmt.Println("first period:", sub.CurrentPeriodStart.UTC().Format(time.DateOnly), "to", sub.CurrentPeriodEnd.UTC().Format(time.DateOnly))
	// Output:
	// schedule: true schedule not_started
	// customer: true owner@acme.example
	// product: prod_ABC123XYZ Pro Plan [price_minutes price_overage]
	// agents: Sales Bot, Support Bot
	// automatic tax: true
	// first period: 2025-02-01 to 2025-03-01
}

func ExampleSubscriptionsService_CreateForDispute() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f901"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	signup := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	sub, err := client.Subscriptions.CreateForDispute(context.Background(), "65f0c1d2e3a4b5c6d7e8f901", &subkit.DisputeSubscriptionParams{
		SourceID:           "sub_1PqRsTuVwXyZ", // its ID in your billing system
		CreatedAt:          signup,
		StartDate:          signup,
		Frequency:          subkit.FrequencyMonth,
		FrequencyCount:     1,
		CancellationDate:   time.Date(2024, 8, 12, 17, 0, 0, 0, time.UTC),
		CancellationReason: subkit.ReasonTooExpensive,
		PlanName:           "Pro Monthly",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("id has 24 characters:", len(sub.ID) == 24)
	fmt.Println(sub.SourceID, sub.Status, sub.PlanName)
	fmt.Println("every", sub.FrequencyCount, sub.Frequency, "from", sub.StartDate.Format(time.RFC3339))
	fmt.Println("cancelled", sub.CancellationDate.Format(time.DateOnly), "as", sub.CancellationReason)
	fmt.Println("defaults:", sub.PricingModel, sub.CollectionMethod)
	// Output:
	// id has 24 characters: true
	// sub_1PqRsTuVwXyZ active Pro Monthly
	// every 1 month from 2024-05-01T09:30:00Z
	// cancelled 2024-08-12 as too_expensive
	// defaults: fixed_price automatically
}

func ExampleSubscriptionsService_CreateForCustomer() {
	srv := subkittest.NewServer(subkittest.WithClock(exampleClock))
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{ID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", Name: "Community"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{ID: "992fae2a-2a17-4b7a-8d9e-e287cf90131b", Email: "ada@example.com"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	sub, err := client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID:  product,
		CustomerID: customer,
		Metadata:   subkit.Metadata{"order_id": "ord_1001", "seats": 3, "vip": true},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.Status, sub.Product.Name, sub.Amount, sub.Currency, sub.RecurringInterval)
	fmt.Println("customer:", sub.CustomerID, *sub.Customer.Email)
	fmt.Println("period:", sub.CurrentPeriodStart.Format(time.DateOnly), "to", sub.CurrentPeriodEnd.Format(time.DateOnly))
	// Integers in metadata come back as int64, exactly.
	fmt.Printf("metadata: %v %v %v\n", sub.Metadata["order_id"], sub.Metadata["seats"], sub.Metadata["vip"])
	// Output:
	// active Community 0 usd month
	// customer: 992fae2a-2a17-4b7a-8d9e-e287cf90131b ada@example.com
	// period: 2025-01-15 to 2025-02-15
	// metadata: ord_1001 3 true
}

func ExampleSubscriptionsService_CreateForExternalCustomer() {
	srv := subkittest.NewServer()
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Team", RecurringInterval: "year"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	sub, err := client.Subscriptions.CreateForExternalCustomer(context.Background(), &subkit.ExternalCustomerSubscriptionParams{
		ProductID:          product,
		ExternalCustomerID: "usr_1337", // your system's ID for the customer
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.Status, sub.Product.Name, sub.RecurringInterval, *sub.Customer.ExternalID)

	// A customer Polar does not know is refused.
	_, err = client.Subscriptions.CreateForExternalCustomer(context.Background(), &subkit.ExternalCustomerSubscriptionParams{
		ProductID:          product,
		ExternalCustomerID: "usr_unknown",
	})
	var apiErr *subkit.APIError
	if errors.Is(err, subkit.ErrRejected) && errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Fields)
	}
	// Output:
	// active Team year usr_1337
	// 422 [external_customer_id: Customer does not exist.]
}

func ExampleValidationError() {
	srv := subkittest.NewServer()
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID:  "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		CustomerID: "c232ab00-9414-11ec-b3c8-9f6bdeced846", // a version 1 UUID
		Metadata:   subkit.Metadata{"plan": "", "seats": nil},
	})
	var verr *subkit.ValidationError
	if errors.As(err, &verr) {
		// Every problem at once, each by its wire path.
		for _, f := range verr.Fields {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
	fmt.Println("ErrInvalidParams:", errors.Is(err, subkit.ErrInvalidParams))
	fmt.Println("requests sent:", len(srv.Requests(subkit.Polar)))
	// Output:
	// customer_id: must be a version 4 UUID
	// metadata.plan: string values must not be empty
	// metadata.seats: values must not be null
	// ErrInvalidParams: true
	// requests sent: 0
}

func ExampleAPIError() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f901"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	// A dispute Chargeflow does not know.
	_, err = client.Subscriptions.CreateForDispute(context.Background(), "65f0c1d2e3a4b5c6d7e8f999", &subkit.DisputeSubscriptionParams{
		SourceID:  "sub_1PqRsTuVwXyZ",
		CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		StartDate: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Frequency: subkit.FrequencyMonth, FrequencyCount: 1,
	})
	var apiErr *subkit.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.API, apiErr.StatusCode, apiErr.Message, "after", apiErr.Attempts, "attempt")
		// The request ID is what the API's support asks for.
		fmt.Println("request ID known:", apiErr.RequestID == srv.Requests(subkit.Chargeflow)[0].ID)
	}
	fmt.Println("ErrNotFound:", errors.Is(err, subkit.ErrNotFound))
	fmt.Println("ErrOutcomeUnknown:", errors.Is(err, subkit.ErrOutcomeUnknown))
	// Output:
	// chargeflow 404 Dispute not found after 1 attempt
	// request ID known: true
	// ErrNotFound: true
	// ErrOutcomeUnknown: false
}

// A 5xx to a create is both ErrServer and ErrOutcomeUnknown: the create may
// have happened, so look it up before trying again.
func ExampleAPIError_serverError() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.InjectFault(subkit.Polar, 1, subkittest.Respond(503, `{"detail":"Service Unavailable"}`))
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	_, err = client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID:  "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		CustomerID: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
		Metadata:   subkit.Metadata{"order_id": "ord_1001"}, // to find it again
	})
	var apiErr *subkit.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message)
	}
	fmt.Println("ErrServer:", errors.Is(err, subkit.ErrServer))
	fmt.Println("ErrOutcomeUnknown:", errors.Is(err, subkit.ErrOutcomeUnknown))
	fmt.Println("retried:", len(srv.Requests(subkit.Polar)) > 1) // never, by default
	// Output:
	// 503 Service Unavailable
	// ErrServer: true
	// ErrOutcomeUnknown: true
	// retried: false
}

// A connection dropped after the request was sent: the SDK cannot know
// whether the create happened, and says so.
func Example_outcomeUnknown() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f901"})
	srv.InjectFault(subkit.Chargeflow, 1, subkittest.CloseAfterHandling())
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}

	var info subkit.ResponseInfo
	_, err = client.Subscriptions.CreateForDispute(context.Background(), "65f0c1d2e3a4b5c6d7e8f901", &subkit.DisputeSubscriptionParams{
		SourceID:  "sub_1PqRsTuVwXyZ",
		CreatedAt: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		StartDate: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC),
		Frequency: subkit.FrequencyMonth, FrequencyCount: 1,
	}, subkit.WithResponseInfo(&info))
	var apiErr *subkit.APIError
	fmt.Println("ErrOutcomeUnknown:", errors.Is(err, subkit.ErrOutcomeUnknown))
	fmt.Println("an answer arrived:", errors.As(err, &apiErr), info.StatusCode)
	fmt.Println("attempts:", info.Attempts)
	// Here the fake applied the create before dropping the connection: a
	// look-up (GET the dispute with ?expand=subscription) would find it.
	fmt.Println("held by the server:", len(srv.ChargeflowSubscriptions()))
	// Output:
	// ErrOutcomeUnknown: true
	// an answer arrived: false 0
	// attempts: 1
	// held by the server: 1
}

func ExampleWithResponseInfo() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddPolarProduct(subkittest.PolarProduct{ID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	// The first attempt is answered 429 without Retry-After: the SDK backs
	// off and tries again, as nothing was created.
	srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited(""))
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		fmt.Println(err)
		return
	}

	var info subkit.ResponseInfo
	_, err = client.Subscriptions.CreateForExternalCustomer(context.Background(), &subkit.ExternalCustomerSubscriptionParams{
		ProductID:          "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		ExternalCustomerID: "usr_1337",
	}, subkit.WithResponseInfo(&info))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.API, info.StatusCode, info.Outcome, "after", info.Attempts, "attempts")
	reqs := srv.Requests(subkit.Polar)
	fmt.Println("request ID is the second request's:", info.RequestID == reqs[1].ID)
	fmt.Println("statuses the server answered:", reqs[0].Status, reqs[1].Status)
	// Output:
	// polar 201 created after 2 attempts
	// request ID is the second request's: true
	// statuses the server answered: 429 201
}

func ExampleSubscriptionsService_Get() {
	srv := subkittest.NewServer(subkittest.WithClock(exampleClock))
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	created, err := client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
		ProductID:          product,
		ExternalCustomerID: "usr_1337",
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	sub, err := client.Subscriptions.Get(ctx, created.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sub.ID == created.ID, sub.Status, sub.Product.Name, *sub.Customer.ExternalID)
	fmt.Println("renews:", sub.CurrentPeriodEnd.Format(time.DateOnly))

	// An ID Polar does not know is ErrNotFound; one that is not a version 4
	// UUID is refused before anything is sent.
	_, err = client.Subscriptions.Get(ctx, "0b7c6a54-8a0e-4c4e-9d44-2f2f5b1f6a10")
	fmt.Println("unknown ID:", errors.Is(err, subkit.ErrNotFound))
	_, err = client.Subscriptions.Get(ctx, "sub_1")
	fmt.Println("not a UUID:", errors.Is(err, subkit.ErrInvalidParams))
	// Output:
	// true active Community usr_1337
	// renews: 2025-02-15
	// unknown ID: true
	// not a UUID: true
}

func ExampleSubscriptionsService_List() {
	srv := subkittest.NewServer(subkittest.WithClock(exampleClock))
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, user := range []string{"usr_1", "usr_2", "usr_3"} {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: user})
		plan := "pro"
		if user == "usr_2" {
			plan = "free"
		}
		_, err := client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID:          product,
			ExternalCustomerID: user,
			Metadata:           subkit.Metadata{"plan": plan},
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}

	// The active subscriptions on the pro plan, one per page to show the
	// paging: pages are fetched as the loop asks for them.
	var info subkit.ResponseInfo
	var users []string
	for sub, err := range client.Subscriptions.List(ctx, &subkit.SubscriptionListParams{
		ProductIDs: []string{product},
		Statuses:   []subkit.SubscriptionStatus{subkit.SubscriptionStatusActive},
		Metadata:   map[string]string{"plan": "pro"},
		PageSize:   1,
	}, subkit.WithResponseInfo(&info)) {
		if err != nil {
			fmt.Println(err) // yielded once; it ends the sequence
			return
		}
		users = append(users, *sub.Customer.ExternalID)
	}
	slices.Sort(users) // List yields newest first; these share one instant
	fmt.Println(users)
	fmt.Println("requests:", info.Attempts, "status of the last:", info.StatusCode)
	// Output:
	// [usr_1 usr_3]
	// requests: 2 status of the last: 200
}

func ExampleSubscriptionsService_FindByIdempotencyKeys() {
	srv := subkittest.NewServer()
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	type order struct{ key, user string }
	orders := []order{{"order-1001", "usr_1"}, {"order-1002", "usr_2"}, {"order-1003", "usr_3"}}
	for _, o := range orders {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: o.user})
	}
	ctx := context.Background()
	create := func(client *subkit.Client, o order, opts ...subkit.CallOption) {
		var info subkit.ResponseInfo
		_, err := client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID:          product,
			ExternalCustomerID: o.user,
		}, append(opts, subkit.WithIdempotencyKey(o.key), subkit.WithResponseInfo(&info))...)
		if err != nil {
			fmt.Println(o.key, err)
			return
		}
		fmt.Println(o.key, info.Outcome)
	}

	// A first run creates the first two orders' subscriptions, then stops.
	first, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, o := range orders[:2] {
		create(first, o)
	}

	// A rerun, in a new process (a store without the first run's records),
	// looks up every key of the batch in one request, and gives each create
	// what was found for its key: nothing is created twice, and no create
	// looks its key up on its own.
	rerun, err := srv.Client(subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
	if err != nil {
		fmt.Println(err)
		return
	}
	before := len(srv.Requests(subkit.Polar))
	byKey, err := rerun.Subscriptions.FindByIdempotencyKeys(ctx, []string{"order-1001", "order-1002", "order-1003"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("found:", len(byKey["order-1001"]), len(byKey["order-1002"]), len(byKey["order-1003"]))
	for _, o := range orders {
		create(rerun, o, subkit.WithKeyLookup(byKey[o.key]))
	}
	methods := map[string]int{}
	for _, r := range srv.Requests(subkit.Polar)[before:] {
		methods[r.Method]++
	}
	fmt.Println("rerun's requests:", methods["GET"], "GET,", methods["POST"], "POST")
	fmt.Println("subscriptions:", len(srv.PolarSubscriptions()))
	// Output:
	// order-1001 created
	// order-1002 created
	// found: 1 1 0
	// order-1001 replayed
	// order-1002 replayed
	// order-1003 created
	// rerun's requests: 1 GET, 1 POST
	// subscriptions: 3
}

func ExampleWithIdempotencyKey() {
	srv := subkittest.NewServer()
	defer srv.Close()
	community := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	team := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Team"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	subscribe := func(product string) (*subkit.Subscription, subkit.Outcome, error) {
		var info subkit.ResponseInfo
		params := &subkit.ExternalCustomerSubscriptionParams{ProductID: product, ExternalCustomerID: "usr_1337"}
		// The key is a stable business ID: the order this subscription is for.
		sub, err := client.Subscriptions.CreateForExternalCustomer(ctx, params,
			subkit.WithIdempotencyKey("order-1001"), subkit.WithResponseInfo(&info))
		return sub, info.Outcome, err
	}

	// The same create twice under one key (a retried job, a user's double
	// click): the second replays the first's subscription and sends nothing.
	for range 2 {
		sub, outcome, err := subscribe(community)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(outcome, sub.Product.Name, sub.IdempotencyKey())
	}
	fmt.Println("subscriptions:", len(srv.PolarSubscriptions()))

	// The key names one create: another product under it is a conflict, and
	// nothing is sent.
	_, _, err = subscribe(team)
	fmt.Println("another create under the key:", errors.Is(err, subkit.ErrIdempotencyConflict))
	// Output:
	// created Community order-1001
	// replayed Community order-1001
	// subscriptions: 1
	// another create under the key: true
}
