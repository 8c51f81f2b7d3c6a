package subkittest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// A test starts a server, seeds it, calls it through the subkit client that
// srv.Client configures, and then checks what the server holds and what it
// received.
func Example() {
	srv := subkittest.NewServer()
	defer srv.Close()
	// The server knows the products and customers the test registers, and
	// refuses others as Polar does.
	product := srv.AddPolarProduct(subkittest.PolarProduct{ID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", Name: "Pro"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "user-42"})

	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()

	sub, err := client.Subscriptions.CreateForExternalCustomer(context.Background(), &subkit.ExternalCustomerSubscriptionParams{
		ProductID: product, ExternalCustomerID: "user-42", Metadata: subkit.Metadata{"plan": "pro"}})
	if err != nil {
		fmt.Println(err)
		return
	}

	for _, held := range srv.PolarSubscriptions() {
		fmt.Println("held:", held.ID == sub.ID, held.ProductID, held.ExternalCustomerID, held.Metadata["plan"])
	}
	for _, r := range srv.Requests(subkit.Polar) {
		fmt.Println("received:", r.Method, r.Path, r.Status, r.Header.Get("Authorization"), string(r.Body))
	}
	// Output:
	// held: true d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23 user-42 pro
	// received: POST /v1/subscriptions/ 201 Bearer [REDACTED] {"product_id":"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23","external_customer_id":"user-42","metadata":{"plan":"pro"}}
}

// A fault makes the server fail the way a real API or network does. Here
// the create is applied and then answered with a 500: the caller gets an
// error saying the outcome is unknown, and the server holds the
// subscription all the same.
func ExampleServer_InjectFault() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddPolarProduct(subkittest.PolarProduct{ID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ID: "992fae2a-2a17-4b7a-8d9e-e287cf90131b"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()

	srv.InjectFault(subkit.Polar, 1, subkittest.RespondAfterHandling(500, "").On(subkittest.OpCreate))
	_, err = client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", CustomerID: "992fae2a-2a17-4b7a-8d9e-e287cf90131b"})

	reqs := srv.Requests(subkit.Polar)
	// The error carries the ID the server recorded the request under.
	fmt.Println(strings.ReplaceAll(err.Error(), reqs[0].ID, "<Request.ID>"))
	fmt.Println("outcome unknown:", errors.Is(err, subkit.ErrOutcomeUnknown))
	fmt.Printf("received: %d request(s), answered %d, fault %q, created %d\n",
		len(reqs), reqs[0].Status, reqs[0].Fault, len(reqs[0].Created))
	fmt.Println("held:", len(srv.PolarSubscriptions()))
	// Output:
	// subkit: polar: 500 Internal Server Error (request ID <Request.ID>) (outcome unknown: the request may have been applied)
	// outcome unknown: true
	// received: 1 request(s), answered 500, fault "respond 500 after handling", created 1
	// held: 1
}

// Each typed subscription carries the JSON the create answered, which
// decodes into subkit's own types. A Chargeflow dispute holds one
// subscription: a second create replaces the first.
func ExampleServer_ChargeflowSubscriptions() {
	srv := subkittest.NewServer()
	defer srv.Close()
	const dispute = "65f0c1d2e3a4b5c6d7e8f901"
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: dispute})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()

	start := time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC)
	var created []string
	for _, source := range []string{"sub_first", "sub_second"} {
		s, err := client.Subscriptions.CreateForDispute(context.Background(), dispute, &subkit.DisputeSubscriptionParams{
			SourceID: source, CreatedAt: start, StartDate: start, Frequency: subkit.FrequencyMonth, FrequencyCount: 1})
		if err != nil {
			fmt.Println(err)
			return
		}
		created = append(created, s.ID)
	}

	held := srv.ChargeflowSubscriptions()
	var answered subkit.DisputeSubscription
	if err := json.Unmarshal(held[0].Body, &answered); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("held:", len(held), held[0].DisputeID)
	fmt.Println("the second, replacing the first:", held[0].ID == created[1], held[0].Replaced == created[0])
	fmt.Println("answered:", answered.SourceID, answered.Frequency, answered.Status)
	// Output:
	// held: 1 65f0c1d2e3a4b5c6d7e8f901
	// the second, replacing the first: true true
	// answered: sub_second month active
}

// The server knows the ChatDash account, clients and products a test
// registers, and refuses a create for any other with ChatDash's own error.
func ExampleServer_AddChatDashClient() {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChatDashAccount("acct_1PqRsTuVwXyZ")
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: "prod_ABC123XYZ"})
	srv.AddChatDashClient(subkittest.ChatDashClient{ID: "64abc123def456789012345a"})
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.CloseIdleConnections()

	params := func(clientID string) *subkit.ConnectSubscriptionParams {
		return &subkit.ConnectSubscriptionParams{ClientID: clientID, AgentIDs: []string{"64abc123def456789012345b"},
			SelectedProduct: subkit.ConnectProduct{ProductID: "prod_ABC123XYZ", StartDate: time.Unix(1700000000, 0),
				Pricing: subkit.ConnectPricing{Metrics: subkit.MetricMinutes}}}
	}
	ctx := context.Background()
	if _, err := client.Subscriptions.CreateConnect(ctx, "acct_1PqRsTuVwXyZ", params("64abc123def456789012345a")); err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Subscriptions.CreateConnect(ctx, "acct_1PqRsTuVwXyZ", params("64abc123def4567890123999"))
	reqs := srv.Requests(subkit.ChatDash)
	fmt.Println(strings.ReplaceAll(err.Error(), reqs[1].ID, "<Request.ID>"))
	fmt.Println("not found:", errors.Is(err, subkit.ErrNotFound))

	for _, held := range srv.ChatDashSubscriptions() {
		fmt.Println("held:", held.AccountID, held.ClientID, held.ProductID, strings.HasPrefix(held.ID, "sub_sched_"))
	}
	// Output:
	// subkit: chatdash: 404 Not Found: Client not found (request ID <Request.ID>)
	// not found: true
	// held: acct_1PqRsTuVwXyZ 64abc123def456789012345a prod_ABC123XYZ true
}
