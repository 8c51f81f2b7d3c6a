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
// agency key in CHATDASH_AGENCY_KEY, and creates a real schedule.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/explain"
	"github.com/subkit-go/subkit/examples/internal/fakefault"
	"github.com/subkit-go/subkit/subkittest"
)

// IDs the fake uses when a flag is not given.
const (
	demoAccount = "acct_1NXWPnCo6bFb1KQe"
	demoClient  = "64abc123def456789012345a"
	demoAgent   = "64abc123def456789012345b"
	demoProduct = "prod_ABC123XYZ"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chatdash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "call the real ChatDash API with the agency key in CHATDASH_AGENCY_KEY")
	fault := fs.String("fault", "none", "fake only: the failure to inject, one of "+strings.Join(fakefault.Names(), ", "))
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of the call, retries included")
	account := fs.String("account", "", "Stripe connected account `ID` (acct_…); fake default "+demoAccount)
	clientID := fs.String("client", "", "ChatDash client `ID`; fake default "+demoClient)
	agents := fs.String("agents", "", "ChatDash agent `IDs`, comma-separated; fake default "+demoAgent)
	product := fs.String("product", "", "Stripe product `ID` (prod_…); fake default "+demoProduct)
	startIn := fs.Duration("start-in", 24*time.Hour, "billing starts this long from now")
	metric := fs.String("metric", string(subkit.MetricMinutes), "usage `metric` billed")
	coupon := fs.String("coupon", "", "Stripe coupon `ID` (optional)")
	tax := fs.Bool("tax", false, "enable Stripe automatic tax")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if !validFault(*fault) {
		fmt.Fprintf(stderr, "chatdash: unknown -fault %q (one of %s)\n", *fault, strings.Join(fakefault.Names(), ", "))
		return 2
	}

	ctx := context.Background()
	var client *subkit.Client
	var srv *subkittest.Server
	if *live {
		if *fault != "none" {
			fmt.Fprintln(stderr, "chatdash: -fault works only against the fake API (without -live)")
			return 2
		}
		if strings.TrimSpace(os.Getenv("CHATDASH_AGENCY_KEY")) == "" {
			fmt.Fprintln(stderr, "chatdash: -live needs CHATDASH_AGENCY_KEY in the environment")
			return 2
		}
		if *account == "" || *clientID == "" || *agents == "" || *product == "" {
			fmt.Fprintln(stderr, "chatdash: -live needs -account, -client, -agents and -product (real IDs)")
			return 2
		}
		var err error
		client, err = subkit.New(subkit.WithEnv(), subkit.WithTimeout(*timeout), subkit.WithUserAgent("subkit-example-chatdash"))
		if err != nil {
			fmt.Fprintln(stderr, "chatdash:", err)
			return 2
		}
		fmt.Fprintln(stdout, "ChatDash: live API")
	} else {
		*account, *clientID = orDefault(*account, demoAccount), orDefault(*clientID, demoClient)
		*agents, *product = orDefault(*agents, demoAgent), orDefault(*product, demoProduct)
		srv = subkittest.NewServer()
		defer srv.Close()
		var err error
		if client, err = fakeClient(srv, *fault, *account, *clientID, *agents, *product, timeout); err != nil {
			fmt.Fprintln(stderr, "chatdash:", err)
			return 1
		}
		fmt.Fprintf(stdout, "ChatDash: fake API at %s, fault: %s\n", srv.URL(), *fault)
	}
	defer client.CloseIdleConnections()

	p := &subkit.ConnectSubscriptionParams{
		ClientID: *clientID,
		AgentIDs: splitList(*agents),
		SelectedProduct: subkit.ConnectProduct{
			ProductID: *product,
			StartDate: time.Now().Add(*startIn),
			Pricing:   subkit.ConnectPricing{Metrics: subkit.UsageMetric(*metric)},
		},
		CouponID:    *coupon,
		TaxSettings: subkit.ConnectTaxSettings{Enabled: *tax},
	}
	if *fault == "invalid" {
		p.AgentIDs = append(p.AgentIDs, "")
		p.SelectedProduct.StartDate = time.Time{}
		p.SelectedProduct.Pricing.Metrics = ""
	}
	fmt.Fprintf(stdout, "creating: account %s, client %s, agents %v, product %s, starts %s\n",
		*account, p.ClientID, p.AgentIDs, p.SelectedProduct.ProductID, p.SelectedProduct.StartDate.UTC().Format(time.RFC3339))

	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateConnect(ctx, *account, p, subkit.WithResponseInfo(&info))
	if err != nil {
		explain.Error(stdout, subkit.ChatDash, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, client, *account, p)
		}
		if srv != nil {
			fmt.Fprintf(stdout, "fake:     holds %d schedule(s) (what the look-up should agree with)\n",
				len(srv.ChatDashSubscriptions()))
		}
		return 1
	}
	fmt.Fprintf(stdout, "created:  %s (%s), status %s\n", sub.ID, sub.Type, sub.Status)
	fmt.Fprintf(stdout, "          customer %s <%s>, product %s %q, prices %v\n",
		sub.Customer.ID, sub.Customer.Email, sub.Product.ID, sub.Product.Name, sub.PriceIDs)
	fmt.Fprintf(stdout, "          agents %q, automatic tax %t, coupon %q, period %s → %s\n",
		sub.Agents, sub.AutomaticTax, sub.Coupon, explain.Date(sub.CurrentPeriodStart), explain.Date(sub.CurrentPeriodEnd))
	explain.Call(stdout, info)
	return 0
}

// fakeClient seeds srv with the IDs, queues the fault and returns a client.
func fakeClient(srv *subkittest.Server, fault, account, clientID, agents, product string, timeout *time.Duration) (*subkit.Client, error) {
	srv.AddChatDashAccount(account)
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: product, Name: "Pro Plan"})
	names := map[string]string{}
	for i, id := range splitList(agents) {
		names[id] = fmt.Sprintf("Agent %c", 'A'+i%26)
	}
	srv.AddChatDashClient(subkittest.ChatDashClient{ID: clientID, Agents: names, NoAdmin: fault == "refused"})

	return fakefault.Setup{API: subkit.ChatDash, UserAgent: "subkit-example-chatdash",
		ServerError: subkittest.Respond(503, `{"message":"Service Unavailable"}`), WrongCredential: subkit.WithAgencyKey("CD.not-the-agency-key")}.Client(srv, fault, timeout)
}

// lookUp is what a caller does after ErrOutcomeUnknown: list the account's
// scheduled subscriptions and look for one with this product and start date.
// Nothing in a ChatDash schedule records who asked for it, so a match is
// likely, not certain, to be this create.
func lookUp(ctx context.Context, w io.Writer, client *subkit.Client, account string, p *subkit.ConnectSubscriptionParams) {
	start := p.SelectedProduct.StartDate.Unix()
	var matches []string
	for sub, err := range client.Subscriptions.ListConnect(ctx, account, &subkit.ConnectListParams{Status: subkit.ConnectListScheduled}) {
		if err != nil {
			explain.LookUpFailed(w, err)
			return
		}
		if sub.Product.ID == p.SelectedProduct.ProductID && sub.StartDate != nil && sub.StartDate.Unix() == start {
			matches = append(matches, sub.ID)
		}
	}
	if len(matches) == 0 {
		explain.NotCreated(w, "ListConnect(scheduled) for this product and start date")
		return
	}
	fmt.Fprintf(w, "look-up:  ListConnect(scheduled) shows %v for this product and start date:\n", matches)
	fmt.Fprintln(w, "          the create most likely happened; do not send it again")
}

func validFault(f string) bool {
	for _, g := range fakefault.Names() {
		if f == g {
			return true
		}
	}
	return false
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
