// Command exactlyonce shows subkit's exactly-once creates on the fake APIs:
//
//	go run ./examples/exactlyonce
//
// A Polar create runs under an idempotency key (an order ID). The fake applies
// it and then drops the connection, so the answer is lost: without a key that
// is ErrOutcomeUnknown. With the key, subkit waits SettleTime, looks the key
// up, finds the subscription and reports it as reconciled. A second call with
// the same key — a retry after a crash, say — sends nothing and replays the
// subscription. The same then happens for Chargeflow, whose creates are
// identified by their dispute and source_id. The server holds one
// subscription for each.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

const (
	productID  = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	customerID = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
	disputeID  = "65f0c1d2e3a4b5c6d7e8f901"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "exactlyonce:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	srv := subkittest.NewServer()
	defer srv.Close()
	// The objects the creates name, registered as they exist on the real APIs.
	srv.AddPolarProduct(subkittest.PolarProduct{ID: productID, Name: "Community"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ID: customerID, Name: "Ada"})
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: disputeID})
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{
		MinBackoff: 10 * time.Millisecond,
		SettleTime: 200 * time.Millisecond, // how long a create may still be running on the server
	}))
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	ctx := context.Background()

	fmt.Fprintln(w, "Polar, under the idempotency key order-1001")
	srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
	create := func() (*subkit.Subscription, subkit.ResponseInfo, error) {
		var info subkit.ResponseInfo
		sub, err := client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
			ProductID: productID, CustomerID: customerID, Metadata: subkit.Metadata{"order_id": "1001"},
		}, subkit.WithIdempotencyKey("order-1001"), subkit.WithResponseInfo(&info))
		return sub, info, err
	}
	first, info, err := create()
	if err != nil {
		return fmt.Errorf("first create: %w", err)
	}
	fmt.Fprintf(w, "  1st call: the server created it and dropped the connection; subkit looked it up\n")
	fmt.Fprintf(w, "            -> %s, subscription %s, %d create attempt(s)\n", info.Outcome, first.ID, info.Attempts)
	second, info, err := create()
	if err != nil {
		return fmt.Errorf("second create: %w", err)
	}
	fmt.Fprintf(w, "  2nd call, same key: nothing sent\n")
	fmt.Fprintf(w, "            -> %s, subscription %s, %d create attempt(s)\n", info.Outcome, second.ID, info.Attempts)
	held := srv.PolarSubscriptions()
	fmt.Fprintf(w, "  the server holds %d subscription(s)\n\n", len(held))
	if first.ID != second.ID || len(held) != 1 || info.Outcome != subkit.OutcomeReplayed {
		return fmt.Errorf("expected one subscription, replayed; got %d held, outcome %s", len(held), info.Outcome)
	}

	fmt.Fprintln(w, "Chargeflow, dispute "+disputeID+", source_id sub_1PqRsTuVwXyZ")
	srv.InjectFault(subkit.Chargeflow, 1, subkittest.Respond(502, `{"message":"Bad Gateway"}`).On(subkittest.OpCreate))
	params := &subkit.DisputeSubscriptionParams{
		SourceID: "sub_1PqRsTuVwXyZ", CreatedAt: time.Now().AddDate(0, -3, 0), StartDate: time.Now().AddDate(0, -3, 0),
		Frequency: subkit.FrequencyMonth, FrequencyCount: 1,
	}
	var cfInfo subkit.ResponseInfo
	ds, err := client.Subscriptions.CreateForDispute(ctx, disputeID, params,
		subkit.WithIdempotencyKey("dispute-"+disputeID), subkit.WithResponseInfo(&cfInfo))
	if err != nil {
		return fmt.Errorf("chargeflow create: %w", err)
	}
	fmt.Fprintf(w, "  1st call: a 502 that was not applied; the look-up proved it, so subkit created it again\n")
	fmt.Fprintf(w, "            -> %s, subscription %s, %d create attempt(s)\n", cfInfo.Outcome, ds.ID, cfInfo.Attempts)
	ds2, err := client.Subscriptions.CreateForDispute(ctx, disputeID, params,
		subkit.WithIdempotencyKey("dispute-"+disputeID), subkit.WithResponseInfo(&cfInfo))
	if err != nil {
		return fmt.Errorf("chargeflow replay: %w", err)
	}
	fmt.Fprintf(w, "  2nd call, same key: nothing sent\n")
	fmt.Fprintf(w, "            -> %s, subscription %s\n", cfInfo.Outcome, ds2.ID)
	fmt.Fprintf(w, "  the server holds %d subscription(s)\n", len(srv.ChargeflowSubscriptions()))
	if ds.ID != ds2.ID || cfInfo.Outcome != subkit.OutcomeReplayed {
		return fmt.Errorf("expected a replay of %s, got %s (%s)", ds.ID, ds2.ID, cfInfo.Outcome)
	}
	return nil
}
