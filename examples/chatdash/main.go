// Command chatdash creates a Stripe Connect subscription (a subscription
// schedule) for a ChatDash agency client through subkit, and shows how each
// kind of failure is recognised with errors.Is and errors.As.
//
//	go run ./examples/chatdash                      # against the fake API
//	go run ./examples/chatdash -fault lost-answer   # … with a failure injected
//	go run ./examples/chatdash -live -account acct_… -client … -agents … -product prod_…
//
// By default it runs against subkittest's fake ChatDash; -fault makes the fake
// fail in one of several ways. With -live it calls api.chat-dash.com with the
// agency key in CHATDASH_AGENCY_KEY, and creates a real schedule. The client
// is made, and the fake seeded with the IDs, by examples/internal/setup.
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
	"github.com/subkit-go/subkit/examples/internal/explain"
	"github.com/subkit-go/subkit/examples/internal/setup"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatdash", flag.ContinueOnError)
	shared := setup.Register(fs, setup.Config{APIs: []subkit.API{subkit.ChatDash}, Faults: true})
	startIn := fs.Duration("start-in", 24*time.Hour, "billing starts this long from now")
	metric := fs.String("metric", string(subkit.MetricMinutes), "usage `metric` billed")
	coupon := fs.String("coupon", "", "Stripe coupon `ID` (optional)")
	tax := fs.Bool("tax", false, "enable Stripe automatic tax")
	env, status := shared.Start(args, stdout, stderr)
	if env == nil {
		return status
	}
	defer env.Close()
	ctx, ids := context.Background(), env.IDs

	p := &subkit.ConnectSubscriptionParams{
		ClientID: ids.ChatDashClient,
		AgentIDs: ids.ChatDashAgents,
		SelectedProduct: subkit.ConnectProduct{
			ProductID: ids.ChatDashProduct,
			StartDate: time.Now().Add(*startIn),
			Pricing:   subkit.ConnectPricing{Metrics: subkit.UsageMetric(*metric)},
		},
		CouponID:    *coupon,
		TaxSettings: subkit.ConnectTaxSettings{Enabled: *tax},
	}
	if env.Fault == "invalid" {
		p.AgentIDs = append(p.AgentIDs, "")
		p.SelectedProduct.StartDate = time.Time{}
		p.SelectedProduct.Pricing.Metrics = ""
	}
	fmt.Fprintf(stdout, "creating: account %s, client %s, agents %v, product %s, starts %s\n",
		ids.ChatDashAccount, p.ClientID, p.AgentIDs, p.SelectedProduct.ProductID, p.SelectedProduct.StartDate.UTC().Format(time.RFC3339))

	var info subkit.ResponseInfo
	sub, err := env.Client.Subscriptions.CreateConnect(ctx, ids.ChatDashAccount, p, subkit.WithResponseInfo(&info))
	if err != nil {
		explain.Error(stdout, subkit.ChatDash, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, env.Client, ids.ChatDashAccount, p)
		}
		env.PrintFake(stdout)
		return 1
	}
	fmt.Fprintf(stdout, "created:  %s (%s), status %s\n", sub.ID, sub.Type, sub.Status)
	fmt.Fprintf(stdout, "          customer %s <%s>, product %s %q, prices %v\n",
		sub.Customer.ID, sub.Customer.Email, sub.Product.ID, sub.Product.Name, sub.PriceIDs)
	fmt.Fprintf(stdout, "          agents %q, automatic tax %t, coupon %q, period %s → %s\n",
		sub.Agents, sub.AutomaticTax, sub.Coupon, explain.Date(sub.CurrentPeriodStart), explain.Date(sub.CurrentPeriodEnd))
	explain.Call(stdout, info)
	env.PrintFake(stdout)
	return 0
}

// lookUp is what a caller does after ErrOutcomeUnknown: FindConnect lists
// the account's subscriptions in every status a fresh create can have and
// looks for this product and start date. Nothing in a ChatDash subscription
// records which client it was made for, so two clients on the same product
// and start date cannot be told apart: FindConnect then says so.
func lookUp(ctx context.Context, w io.Writer, client *subkit.Client, account string, p *subkit.ConnectSubscriptionParams) {
	sub, err := client.Subscriptions.FindConnect(ctx, account, p)
	var ambiguous *subkit.AmbiguousMatchError
	switch {
	case errors.Is(err, subkit.ErrNotFound):
		explain.NotCreated(w, "FindConnect for this product and start date")
	case errors.As(err, &ambiguous):
		fmt.Fprintf(w, "look-up:  FindConnect finds %d candidates; decide by hand before creating again\n", len(ambiguous.Candidates))
	case err != nil:
		explain.LookUpFailed(w, err)
	default:
		fmt.Fprintf(w, "look-up:  FindConnect finds %s (status %s) for this product and start date:\n", sub.ID, sub.Status)
		fmt.Fprintln(w, "          the create happened; do not send it again")
	}
}
