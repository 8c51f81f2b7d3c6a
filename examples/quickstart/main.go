// Command quickstart creates one subscription on each of ChatDash, Chargeflow
// and Polar through subkit, then shows how a caller handles an error.
//
//	go run ./examples/quickstart
//
// It runs against subkittest, an in-process fake of the three APIs, so it
// needs no account and no key. With -live it calls the real APIs for whichever
// of CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY and POLAR_ACCESS_TOKEN are set
// (Polar on its sandbox unless -polar-production) and creates real
// subscriptions, for the real objects -h lists.
//
// The client is made by setup.Start (examples/internal/setup), either way.
// examples/chatdash, chargeflow and polar show more of each call and of the
// ways it can fail.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/setup"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	apis := []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar}
	env, status := setup.Register(fs, setup.Config{APIs: apis}).Start(args, stdout, stderr)
	if env == nil {
		return status
	}
	defer env.Close()
	ctx, client, ids := context.Background(), env.Client, env.IDs

	// ChatDash: an agency puts one of its clients on a Stripe Connect
	// subscription, billed by the minute from tomorrow.
	if env.Calls(subkit.ChatDash) {
		sub, err := client.Subscriptions.CreateConnect(ctx, ids.ChatDashAccount, &subkit.ConnectSubscriptionParams{
			ClientID: ids.ChatDashClient,
			AgentIDs: ids.ChatDashAgents,
			SelectedProduct: subkit.ConnectProduct{
				ProductID: ids.ChatDashProduct,
				StartDate: time.Now().Add(24 * time.Hour),
				Pricing:   subkit.ConnectPricing{Metrics: subkit.MetricMinutes},
			},
		})
		if err != nil {
			return failed(stderr, "ChatDash", err)
		}
		fmt.Fprintf(stdout, "ChatDash    %s: %s for %s\n", sub.ID, sub.Status, sub.Customer.Email)
	}

	// Chargeflow: a merchant records the monthly subscription behind a
	// disputed charge, so that the dispute can be won.
	if env.Calls(subkit.Chargeflow) {
		signup := time.Now().AddDate(0, -3, 0)
		sub, err := client.Subscriptions.CreateForDispute(ctx, ids.ChargeflowDispute, &subkit.DisputeSubscriptionParams{
			SourceID:       ids.ChargeflowSourceID,
			CreatedAt:      signup,
			StartDate:      signup,
			Frequency:      subkit.FrequencyMonth,
			FrequencyCount: 1,
		})
		if err != nil {
			return failed(stderr, "Chargeflow", err)
		}
		fmt.Fprintf(stdout, "Chargeflow  %s: %s for source_id %s\n", sub.ID, sub.Status, sub.SourceID)
	}

	// Polar: an organization subscribes an existing customer to a free
	// recurring product. The customer is named by Polar's ID or by your own.
	if env.Calls(subkit.Polar) {
		var sub *subkit.Subscription
		var err error
		if ids.PolarExternalCustomer != "" {
			sub, err = client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
				ProductID: ids.PolarProduct, ExternalCustomerID: ids.PolarExternalCustomer})
		} else {
			sub, err = client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
				ProductID: ids.PolarProduct, CustomerID: ids.PolarCustomer})
		}
		if err != nil {
			return failed(stderr, "Polar", err)
		}
		fmt.Fprintf(stdout, "Polar       %s: %s for %s\n", sub.ID, sub.Status, sub.CustomerID)
	}

	// An error, handled: parameters the API would refuse are refused before
	// anything is sent, every problem named by its wire path. errors.Is tells
	// the kind of error; errors.As gives its details.
	_, err := client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: "not-a-uuid"})
	var invalid *subkit.ValidationError
	if !errors.Is(err, subkit.ErrInvalidParams) || !errors.As(err, &invalid) {
		return failed(stderr, "Polar", fmt.Errorf("want a validation error, got %w", err))
	}
	fmt.Fprintln(stdout, "Polar       bad parameters refused, nothing sent:")
	for _, f := range invalid.Fields {
		fmt.Fprintf(stdout, "              %s: %s\n", f.Field, f.Message)
	}

	env.PrintFake(stdout) // on the fake: what it received and holds
	return 0
}

// failed ends the run after an unexpected error. With -live that is most
// often a refused credential or an ID that names nothing; examples/chatdash,
// chargeflow and polar explain every kind of error.
func failed(stderr io.Writer, api string, err error) int {
	fmt.Fprintf(stderr, "quickstart: %s: %v\n", api, err)
	return 1
}
