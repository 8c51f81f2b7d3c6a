// README.md's Go blocks, checked against the code: TestReadmeSnippetsCompile,
// and the snippets it finds here. The snippets are compiled, not called, and
// assign values a real program would go on to use:
//lint:file-ignore U1000 compiled to check the README, never called
//lint:file-ignore SA4006 the README's snippets assign what a real program would use

package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// TestReadmeSnippetsCompile checks that every Go block of README.md stands,
// line for line, in a test file of this module — an Example function or a
// snippet function below — so that `go vet` and `go test` compile it and a
// README that drifts from the API fails CI.
func TestReadmeSnippetsCompile(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var corpus strings.Builder
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, "_test.go") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			corpus.WriteString(normalizeCode(string(b)))
			corpus.WriteString("\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) < 10 {
		t.Fatalf("found %d Go blocks in README.md: the pattern is broken", len(blocks))
	}
	for _, b := range blocks {
		code := normalizeCode(b[1])
		if !strings.Contains(corpus.String(), code) {
			first, _, _ := strings.Cut(code, "\n")
			t.Errorf("README.md's block starting %q is in no test file: put it in readme_test.go or an Example", first)
		}
	}
}

// normalizeCode drops indentation, trailing space and empty lines, so that a
// block nested in a function matches the README's unindented copy.
func normalizeCode(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// The README's snippets, each in a function that compiles it (see
// TestReadmeSnippetsCompile). They are compiled, not run: the calls they show
// run in the Example functions and tests. Keep each block identical to the
// README's.

func readmeNew() {
	client, err := subkit.New(
		subkit.WithEnv(), // CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY, POLAR_ACCESS_TOKEN
		subkit.WithUserAgent("billing-svc/1.4"),
	)
	if err != nil {
		log.Fatal(err) // an invalid option or no credential at all; New never panics
	}
	_ = client
}

func readmeCreates(ctx context.Context, client *subkit.Client, signup, cancelledAt time.Time) {
	{
		sub, err := client.Subscriptions.CreateConnect(ctx, "acct_1NXWPnCo6bFb1KQe", &subkit.ConnectSubscriptionParams{
			ClientID: "64abc123def456789012345a",
			AgentIDs: []string{"64abc123def456789012345b"},
			SelectedProduct: subkit.ConnectProduct{
				ProductID: "prod_ABC123XYZ",
				StartDate: time.Now().Add(24 * time.Hour), // sent as Unix seconds
				Pricing:   subkit.ConnectPricing{Metrics: subkit.MetricMinutes},
			},
			TaxSettings: subkit.ConnectTaxSettings{Enabled: true},
		})
		// sub.ID == "sub_sched_…", sub.Status == "not_started", sub.Customer.ID == "cus_…"
		_, _ = sub, err
	}
	{
		sub, err := client.Subscriptions.CreateForDispute(ctx, "65f0c1d2e3a4b5c6d7e8f901", &subkit.DisputeSubscriptionParams{
			SourceID:           "sub_1PqRsTuVwXyZ", // its ID in your billing system
			CreatedAt:          signup,
			StartDate:          signup,
			Frequency:          subkit.FrequencyMonth,
			FrequencyCount:     1,
			CancellationDate:   cancelledAt,
			CancellationReason: subkit.ReasonTooExpensive,
			PlanName:           "Pro Monthly",
		})
		_, _ = sub, err
	}
	{
		sub, err := client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
			ProductID:  "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
			CustomerID: "992fae2a-2a17-4b7a-8d9e-e287cf90131b",
			Metadata:   subkit.Metadata{"order_id": "ord_1001", "seats": 3, "vip": true},
		})

		// or by your own ID for the customer:
		sub, err = client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID:          "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
			ExternalCustomerID: "usr_1337",
		})
		// sub.Status == subkit.SubscriptionStatusActive; sub.Product.Prices[0].AmountType == "fixed"; …
		_, _ = sub, err
	}
}

func readmeResponseInfo(ctx context.Context, client *subkit.Client, params *subkit.CustomerSubscriptionParams) {
	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateForCustomer(ctx, params, subkit.WithResponseInfo(&info))
	log.Printf("polar answered %d, request %s, after %d attempt(s): %s", info.StatusCode, info.RequestID, info.Attempts, info.Outcome)
	_, _ = sub, err
}

func readmeErrors(ctx context.Context, client *subkit.Client, disputeID, orderID string, params *subkit.DisputeSubscriptionParams) {
	sub, err := client.Subscriptions.CreateForDispute(ctx, disputeID, params, subkit.WithIdempotencyKey(orderID))
	class := subkit.Classify(err)
	switch class.Action {
	case subkit.ActionNone:
		log.Printf("recorded %s", sub.ID)
	case subkit.ActionRetry, subkit.ActionRetryLater:
		log.Printf("not applied (%s); try again after %s", class.Reason, class.RetryAfter)
	case subkit.ActionLookUp:
		log.Printf("may have been applied: retry with the same key, which finds it")
	case subkit.ActionFix:
		var badParams *subkit.ValidationError
		if errors.As(err, &badParams) {
			for _, f := range badParams.Fields { // every problem, by its wire path
				log.Printf("%s: %s", f.Field, f.Message) // "source_id: must be at most 128 characters, got 130"
			}
		}
	}
}

func readmeExactlyOnce(ctx context.Context, client *subkit.Client, params *subkit.CustomerSubscriptionParams) {
	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateForCustomer(ctx, params,
		subkit.WithIdempotencyKey("order-1001"), // a stable business ID: the order this subscription pays for
		subkit.WithResponseInfo(&info))
	// info.Outcome: created, replayed (an earlier call with this key created it) or reconciled
	_, _ = sub, err
}

func readmeLookups(ctx context.Context, client *subkit.Client, customerID string, connectParams *subkit.ConnectSubscriptionParams) error {
	var info subkit.ResponseInfo
	// Polar: one subscription, or every subscription matching filters (ORed within a field, ANDed across).
	sub, err := client.Subscriptions.Get(ctx, "0b7c6a54-8a0e-4c4e-9d44-2f2f5b1f6a10")
	for sub, err := range client.Subscriptions.List(ctx, &subkit.SubscriptionListParams{
		CustomerIDs: []string{customerID},
		Statuses:    []subkit.SubscriptionStatus{subkit.SubscriptionStatusActive},
		Metadata:    map[string]string{"order_id": "1001"},
	}, subkit.WithResponseInfo(&info)) {
		if err != nil {
			return err
		}
		fmt.Println(sub.ID, sub.Status)
	}
	// Polar: the subscriptions of many idempotency keys, 100 keys a request.
	byKey, err := client.Subscriptions.FindByIdempotencyKeys(ctx, []string{"order-1001", "order-1002"})

	// Chargeflow: the subscription a dispute holds; errors.Is(err, subkit.ErrNotFound) if none.
	ds, err := client.Subscriptions.GetForDispute(ctx, "65f0c1d2e3a4b5c6d7e8f901")

	// ChatDash: one subscription of a connected account; a list (nil params: the active ones only;
	// every status with ConnectListStatuses); the subscription a create with these params made.
	cs, err := client.Subscriptions.GetConnect(ctx, "acct_1NXWPnCo6bFb1KQe", "sub_1ABC")
	for cs, err := range client.Subscriptions.ListConnect(ctx, "acct_1NXWPnCo6bFb1KQe",
		&subkit.ConnectListParams{Statuses: subkit.ConnectListStatuses()}) {
		if err != nil {
			return err
		}
		fmt.Println(cs.ID, cs.Status)
	}
	made, err := client.Subscriptions.FindConnect(ctx, "acct_1NXWPnCo6bFb1KQe", connectParams)
	_, _, _, _, _, _ = sub, byKey, ds, cs, made, err
	return nil
}

func readmeSubkittest() {
	srv := subkittest.NewServer() // subkittest.WithClock(now) fixes its timestamps
	defer srv.Close()
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, // retry waits in milliseconds
	}))
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})             // free, monthly; returns its UUID
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})                 // unknown customer → 422
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "65f0c1d2e3a4b5c6d7e8f901"}) // unknown dispute → 404
	srv.AddChatDashAccount("acct_1NXWPnCo6bFb1KQe")                                        // unknown account → 404
	srv.AddChatDashClient(subkittest.ChatDashClient{ID: "64abc123def456789012345a"})       // NoAdmin: true → 400
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: "prod_ABC123XYZ", Name: "Pro Plan"})
	_, _, _ = client, err, product
}

func TestSubscribe(t *testing.T) {
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: "usr_1337"})
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	params := &subkit.ExternalCustomerSubscriptionParams{
		ProductID: product, ExternalCustomerID: "usr_1337", Metadata: subkit.Metadata{"order_id": "ord_1001"}}

	// A 429 is retried: one call, two requests, one subscription.
	srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited(""))
	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateForExternalCustomer(context.Background(), params, subkit.WithResponseInfo(&info))
	if err != nil || info.Attempts != 2 {
		t.Fatalf("error %v after %d attempts", err, info.Attempts)
	}
	if reqs := srv.Requests(subkit.Polar); len(reqs) != 2 || reqs[1].ID != info.RequestID ||
		!slices.Equal(reqs[1].Created, []string{sub.ID}) {
		t.Errorf("requests %+v", reqs)
	}

	// A connection lost after the create was applied: the SDK does not retry
	// and says it cannot know; the server shows the create happened.
	srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling())
	_, err = client.Subscriptions.CreateForExternalCustomer(context.Background(), params)
	if !errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("error %v, want ErrOutcomeUnknown", err)
	}
	if held := srv.PolarSubscriptions(); len(held) != 2 || held[1].Metadata["order_id"] != "ord_1001" {
		t.Errorf("the server holds %+v", held)
	}
}
