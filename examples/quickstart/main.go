// Command quickstart creates one subscription on each of ChatDash, Chargeflow
// and Polar through subkit, then shows two errors the SDK handles: a
// validation error (nothing is sent) and a rate limit it retries by itself.
//
//	go run ./examples/quickstart
//
// By default it runs against subkittest, an in-process fake of the three APIs,
// so it needs no account and no key. With -live it calls the real APIs for
// whichever of CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY and POLAR_ACCESS_TOKEN
// are set (Polar on its sandbox unless -polar-production). Live calls create
// real subscriptions, so they also need the IDs of real objects: see -h.
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
	"github.com/subkit-go/subkit/subkittest"
)

// The credentials -live reads, through subkit.WithEnv.
var credentialVars = []string{"CHATDASH_AGENCY_KEY", "CHARGEFLOW_API_KEY", "POLAR_ACCESS_TOKEN"}

// IDs the fake is seeded with. Against the real APIs they come from flags.
const (
	demoAccountID    = "acct_1NXWPnCo6bFb1KQe"
	demoClientID     = "64abc123def456789012345a"
	demoAgentID      = "64abc123def456789012345b"
	demoStripeProdID = "prod_ABC123XYZ"
	demoDisputeID    = "65f0c1d2e3a4b5c6d7e8f901"
	demoSourceID     = "sub_1PqRsTuVwXyZ"
	demoPolarProduct = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	demoPolarCust    = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
	demoExternalID   = "usr_1337"
)

type config struct {
	live, polarProduction bool
	timeout               time.Duration

	cdAccount, cdClient, cdAgents, cdProduct string
	cfDispute, cfSourceID, cfPlan            string
	plProduct, plCustomer, plExternal        string
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	var cfg config
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: go run ./examples/quickstart [flags]

Creates one subscription on each API through subkit and shows how errors are
handled. Without -live everything runs against subkittest's fake APIs.

With -live, each API whose credential is set is called for real (and creates a
real subscription); an API whose credential or IDs are missing is skipped:
  ChatDash    CHATDASH_AGENCY_KEY   needs -chatdash-account, -chatdash-client, -chatdash-agents, -chatdash-product
  Chargeflow  CHARGEFLOW_API_KEY    needs -chargeflow-dispute, -chargeflow-source-id (a live account: no sandbox)
  Polar       POLAR_ACCESS_TOKEN    needs -polar-product and -polar-customer and/or -polar-external-customer
Each ID flag defaults to the environment variable named in its description.

flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&cfg.live, "live", false, "call the real APIs with the credentials in the environment")
	fs.BoolVar(&cfg.polarProduction, "polar-production", false, "with -live, use Polar production instead of its sandbox")
	fs.DurationVar(&cfg.timeout, "timeout", 60*time.Second, "deadline of each call, retries included")
	envFlag(fs, &cfg.cdAccount, "chatdash-account", "CHATDASH_ACCOUNT_ID", "ChatDash: Stripe connected account `ID` (acct_…)")
	envFlag(fs, &cfg.cdClient, "chatdash-client", "CHATDASH_CLIENT_ID", "ChatDash: client `ID`")
	envFlag(fs, &cfg.cdAgents, "chatdash-agents", "CHATDASH_AGENT_IDS", "ChatDash: agent `IDs`, comma-separated")
	envFlag(fs, &cfg.cdProduct, "chatdash-product", "CHATDASH_PRODUCT_ID", "ChatDash: Stripe product `ID` (prod_…)")
	envFlag(fs, &cfg.cfDispute, "chargeflow-dispute", "CHARGEFLOW_DISPUTE_ID", "Chargeflow: dispute `ID` (24 hex characters)")
	envFlag(fs, &cfg.cfSourceID, "chargeflow-source-id", "CHARGEFLOW_SOURCE_ID", "Chargeflow: the subscription's `ID` in your billing system")
	fs.StringVar(&cfg.cfPlan, "chargeflow-plan", "Pro Monthly", "Chargeflow: plan `name`")
	envFlag(fs, &cfg.plProduct, "polar-product", "POLAR_PRODUCT_ID", "Polar: free recurring product `UUID`")
	envFlag(fs, &cfg.plCustomer, "polar-customer", "POLAR_CUSTOMER_ID", "Polar: customer `UUID`")
	envFlag(fs, &cfg.plExternal, "polar-external-customer", "POLAR_EXTERNAL_CUSTOMER_ID", "Polar: customer's external `ID`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quickstart: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if cfg.polarProduction && !cfg.live {
		fmt.Fprintln(stderr, "quickstart: -polar-production only makes sense with -live")
		return 2
	}
	if cfg.live {
		return runLive(cfg, stdout, stderr)
	}
	return runFake(cfg, stdout, stderr)
}

// envFlag defines a string flag whose default is the environment variable
// env (IDs only: credentials are read by subkit.WithEnv, never by a flag).
func envFlag(fs *flag.FlagSet, dst *string, name, env, usage string) {
	fs.StringVar(dst, name, os.Getenv(env), usage+" (env "+env+")")
}

// runFake seeds a fake server with the demo objects, creates one subscription
// on each API, and plays the two handled errors.
func runFake(cfg config, stdout, stderr io.Writer) int {
	srv := subkittest.NewServer()
	defer srv.Close()
	srv.AddChatDashAccount(demoAccountID)
	srv.AddChatDashClient(subkittest.ChatDashClient{ID: demoClientID, AdminEmail: "owner@acme.example",
		Agents: map[string]string{demoAgentID: "Sales Bot"}})
	srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: demoStripeProdID, Name: "Pro Plan"})
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: demoDisputeID})
	srv.AddPolarProduct(subkittest.PolarProduct{ID: demoPolarProduct, Name: "Community"})
	srv.AddPolarCustomer(subkittest.PolarCustomer{ID: demoPolarCust, ExternalID: demoExternalID, Name: "Ada"})

	// Short backoffs keep the demo quick; a Retry-After is still honoured.
	client, err := srv.Client(subkit.WithTimeout(cfg.timeout), subkit.WithUserAgent("subkit-quickstart"),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}))
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	defer client.CloseIdleConnections()

	fmt.Fprintf(stdout, "subkit quickstart against the fake APIs (subkittest) at %s\n", srv.URL())
	ctx := context.Background()
	start := time.Now().Add(24 * time.Hour).Truncate(time.Second)
	q := &quickstart{out: stdout, client: client}
	ok := q.chatdash(ctx, demoAccountID, demoClientID, []string{demoAgentID}, demoStripeProdID, start)
	ok = q.chargeflow(ctx, demoDisputeID, demoSourceID, cfg.cfPlan, time.Now().Add(-90*24*time.Hour)) && ok
	ok = q.polarCustomer(ctx, demoPolarProduct, demoPolarCust) && ok
	ok = q.polarExternal(ctx, demoPolarProduct, demoExternalID) && ok
	ok = q.validationError(ctx, srv) && ok
	ok = q.rateLimit(ctx, srv) && ok

	held := len(srv.Subscriptions(subkit.ChatDash)) + len(srv.Subscriptions(subkit.Chargeflow)) + len(srv.Subscriptions(subkit.Polar))
	if !ok {
		fmt.Fprintf(stdout, "\nFAILED (the fake holds %d subscriptions)\n", held)
		return 1
	}
	fmt.Fprintf(stdout, "\nok: the fake holds %d subscriptions, one per successful create; errors were handled\n", held)
	return 0
}

// runLive calls each API whose credential is set, with the IDs from flags.
func runLive(cfg config, stdout, stderr io.Writer) int {
	set := map[string]bool{}
	for _, v := range credentialVars {
		set[v] = strings.TrimSpace(os.Getenv(v)) != ""
	}
	if !set["CHATDASH_AGENCY_KEY"] && !set["CHARGEFLOW_API_KEY"] && !set["POLAR_ACCESS_TOKEN"] {
		fmt.Fprintf(stderr, "quickstart: -live needs at least one of %s in the environment; none is set.\n"+
			"Run without -live to use the built-in fake APIs.\n", strings.Join(credentialVars, ", "))
		return 2
	}
	opts := []subkit.Option{subkit.WithEnv(), subkit.WithTimeout(cfg.timeout), subkit.WithUserAgent("subkit-quickstart")}
	polarWhere := "production"
	if !cfg.polarProduction {
		opts = append(opts, subkit.WithPolarSandbox())
		polarWhere = "sandbox"
	}
	client, err := subkit.New(opts...)
	if err != nil {
		fmt.Fprintln(stderr, "quickstart:", err) // never carries a credential
		return 2
	}
	defer client.CloseIdleConnections()
	fmt.Fprintf(stdout, "subkit quickstart against the real APIs (Polar: %s)\n", polarWhere)

	ctx := context.Background()
	q := &quickstart{out: stdout, client: client}
	ok, ran := true, 0
	skip := func(api, why string) { fmt.Fprintf(stdout, "\n%-10s skipped: %s\n", api, why) }

	switch agents := splitList(cfg.cdAgents); {
	case !set["CHATDASH_AGENCY_KEY"]:
		skip("ChatDash", "CHATDASH_AGENCY_KEY is not set")
	case cfg.cdAccount == "" || cfg.cdClient == "" || len(agents) == 0 || cfg.cdProduct == "":
		skip("ChatDash", "needs -chatdash-account, -chatdash-client, -chatdash-agents and -chatdash-product")
	default:
		ran++
		start := time.Now().Add(24 * time.Hour).Truncate(time.Second)
		ok = q.chatdash(ctx, cfg.cdAccount, cfg.cdClient, agents, cfg.cdProduct, start) && ok
	}
	switch {
	case !set["CHARGEFLOW_API_KEY"]:
		skip("Chargeflow", "CHARGEFLOW_API_KEY is not set")
	case cfg.cfDispute == "" || cfg.cfSourceID == "":
		skip("Chargeflow", "needs -chargeflow-dispute and -chargeflow-source-id")
	default:
		ran++
		ok = q.chargeflow(ctx, cfg.cfDispute, cfg.cfSourceID, cfg.cfPlan, time.Now().Add(-30*24*time.Hour)) && ok
	}
	switch {
	case !set["POLAR_ACCESS_TOKEN"]:
		skip("Polar", "POLAR_ACCESS_TOKEN is not set")
	case cfg.plProduct == "" || (cfg.plCustomer == "" && cfg.plExternal == ""):
		skip("Polar", "needs -polar-product and -polar-customer and/or -polar-external-customer")
	default:
		if cfg.plCustomer != "" {
			ran++
			ok = q.polarCustomer(ctx, cfg.plProduct, cfg.plCustomer) && ok
		}
		if cfg.plExternal != "" {
			ran++
			ok = q.polarExternal(ctx, cfg.plProduct, cfg.plExternal) && ok
		}
	}
	switch {
	case ran == 0:
		fmt.Fprintln(stderr, "\nquickstart: nothing to do: every API was skipped (see -h for the IDs each needs)")
		return 2
	case !ok:
		fmt.Fprintln(stdout, "\nFAILED")
		return 1
	}
	fmt.Fprintf(stdout, "\nok: %d subscription(s) created\n", ran)
	return 0
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

// quickstart runs the calls and prints a few lines for each.
type quickstart struct {
	out    io.Writer
	client *subkit.Client
}

func (q *quickstart) header(api, call string) {
	fmt.Fprintf(q.out, "\n%-10s %s\n", api, call)
}

func (q *quickstart) line(label, format string, args ...any) {
	fmt.Fprintf(q.out, "  %-6s %s\n", label, fmt.Sprintf(format, args...))
}

// answer prints the ResponseInfo line every call ends with.
func (q *quickstart) answer(info subkit.ResponseInfo) {
	q.line("answer", "HTTP %d, request ID %s, %s, outcome %s", info.StatusCode, orNone(info.RequestID),
		plural(info.Attempts, "attempt"), orNone(string(info.Outcome)))
}

// failed prints a call's error the way a caller would judge it.
func (q *quickstart) failed(err error, info subkit.ResponseInfo) bool {
	q.line("error", "%v", err)
	var apiErr *subkit.APIError
	switch {
	case errors.Is(err, subkit.ErrInvalidParams):
		q.line("", "nothing was sent: fix the parameters")
	case errors.Is(err, subkit.ErrOutcomeUnknown):
		q.line("", "the subscription MAY exist: look it up before trying again (see README, \"Retries\")")
	case errors.Is(err, subkit.ErrUnauthorized), errors.Is(err, subkit.ErrForbidden):
		q.line("", "the credential was refused; nothing was created")
	case errors.As(err, &apiErr):
		q.line("", "refused with %d %s; nothing was created", apiErr.StatusCode, orNone(apiErr.Code))
	}
	q.line("answer", "HTTP %d, request ID %s, %s", info.StatusCode, orNone(info.RequestID), plural(info.Attempts, "attempt"))
	return false
}

func (q *quickstart) chatdash(ctx context.Context, account, clientID string, agents []string, product string, start time.Time) bool {
	q.header("ChatDash", "CreateConnect on account "+account)
	p := &subkit.ConnectSubscriptionParams{
		ClientID: clientID,
		AgentIDs: agents,
		SelectedProduct: subkit.ConnectProduct{
			ProductID: product,
			StartDate: start,
			Pricing:   subkit.ConnectPricing{Metrics: subkit.MetricMinutes},
		},
	}
	q.line("sent", "client %s, agents %s, product %s, starts %s, metrics %s",
		clientID, strings.Join(agents, ","), product, day(start), p.SelectedProduct.Pricing.Metrics)
	var info subkit.ResponseInfo
	sub, err := q.client.Subscriptions.CreateConnect(ctx, account, p, subkit.WithResponseInfo(&info))
	if err != nil {
		return q.failed(err, info)
	}
	q.line("got", "%s: %s %s", sub.ID, sub.Type, sub.Status)
	q.line("", "customer %s <%s>, product %q, agents %q, period ends %s",
		sub.Customer.ID, sub.Customer.Email, sub.Product.Name, sub.Agents, dayPtr(sub.CurrentPeriodEnd))
	q.answer(info)
	return true
}

func (q *quickstart) chargeflow(ctx context.Context, dispute, sourceID, plan string, signup time.Time) bool {
	q.header("Chargeflow", "CreateForDispute on dispute "+dispute)
	p := &subkit.DisputeSubscriptionParams{
		SourceID:       sourceID,
		CreatedAt:      signup,
		StartDate:      signup,
		Frequency:      subkit.FrequencyMonth,
		FrequencyCount: 1,
		PlanName:       plan,
	}
	q.line("sent", "source_id %s, plan %q, every %d %s since %s", sourceID, plan, p.FrequencyCount, p.Frequency, day(signup))
	var info subkit.ResponseInfo
	sub, err := q.client.Subscriptions.CreateForDispute(ctx, dispute, p, subkit.WithResponseInfo(&info))
	if err != nil {
		return q.failed(err, info)
	}
	q.line("got", "%s: %s", sub.ID, sub.Status)
	q.line("", "source_id %s, plan %q, %s, collected %s", sub.SourceID, sub.PlanName, sub.PricingModel, sub.CollectionMethod)
	q.answer(info)
	return true
}

func (q *quickstart) polarCustomer(ctx context.Context, product, customer string) bool {
	q.header("Polar", "CreateForCustomer")
	md := subkit.Metadata{"order_id": "ord_1001", "seats": 3}
	q.line("sent", "product %s, customer %s, metadata order_id=ord_1001 seats=3", product, customer)
	var info subkit.ResponseInfo
	sub, err := q.client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
		ProductID: product, CustomerID: customer, Metadata: md}, subkit.WithResponseInfo(&info))
	if err != nil {
		return q.failed(err, info)
	}
	q.polarResult(sub, info)
	return true
}

func (q *quickstart) polarExternal(ctx context.Context, product, external string) bool {
	q.header("Polar", "CreateForExternalCustomer")
	q.line("sent", "product %s, external customer %s", product, external)
	var info subkit.ResponseInfo
	sub, err := q.client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
		ProductID: product, ExternalCustomerID: external}, subkit.WithResponseInfo(&info))
	if err != nil {
		return q.failed(err, info)
	}
	q.polarResult(sub, info)
	return true
}

func (q *quickstart) polarResult(sub *subkit.Subscription, info subkit.ResponseInfo) {
	who := sub.CustomerID
	if sub.Customer.Email != nil {
		who = *sub.Customer.Email
	}
	q.line("got", "%s: %s", sub.ID, sub.Status)
	q.line("", "product %q (%d %s every %d %s), customer %s, period ends %s",
		sub.Product.Name, sub.Amount, sub.Currency, sub.RecurringIntervalCount, sub.RecurringInterval,
		who, dayPtr(sub.CurrentPeriodEnd))
	q.answer(info)
}

// validationError sends parameters with several mistakes: the SDK reports
// every one, by its wire path, and sends nothing.
func (q *quickstart) validationError(ctx context.Context, srv *subkittest.Server) bool {
	fmt.Fprintf(q.out, "\nHandled errors\n")
	before := len(srv.Requests(subkit.Chargeflow))
	_, err := q.client.Subscriptions.CreateForDispute(ctx, "not-a-dispute-id", &subkit.DisputeSubscriptionParams{
		SourceID:       "",
		StartDate:      time.Now(),
		Frequency:      "fortnight",
		FrequencyCount: 1,
	})
	var verr *subkit.ValidationError
	if !errors.As(err, &verr) || !errors.Is(err, subkit.ErrInvalidParams) {
		fmt.Fprintf(q.out, "  validation  UNEXPECTED: %v\n", err)
		return false
	}
	sent := len(srv.Requests(subkit.Chargeflow)) - before
	fmt.Fprintf(q.out, "  validation  CreateForDispute with bad params: ErrInvalidParams, %s, %s sent:\n",
		plural(len(verr.Fields), "problem"), plural(sent, "request"))
	for _, f := range verr.Fields {
		fmt.Fprintf(q.out, "                %s: %s\n", f.Field, f.Message)
	}
	return sent == 0
}

// rateLimit makes the fake answer Polar's next request with 429 and
// Retry-After: 1. The SDK waits the second and tries again: the call succeeds.
func (q *quickstart) rateLimit(ctx context.Context, srv *subkittest.Server) bool {
	srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited("1"))
	var info subkit.ResponseInfo
	sub, err := q.client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
		ProductID: demoPolarProduct, CustomerID: demoPolarCust, Metadata: subkit.Metadata{"order_id": "ord_1002"},
	}, subkit.WithResponseInfo(&info))
	if err != nil || info.Attempts != 2 {
		fmt.Fprintf(q.out, "  rate limit  UNEXPECTED: error %v after %s\n", err, plural(info.Attempts, "attempt"))
		return false
	}
	fmt.Fprintf(q.out, "  rate limit  Polar answered 429 (Retry-After: 1) first; subkit waited and retried:\n")
	fmt.Fprintf(q.out, "                %s after %s, HTTP %d, request ID %s, subscription %s\n",
		info.Outcome, plural(info.Attempts, "attempt"), info.StatusCode, info.RequestID, sub.ID)
	return true
}

func day(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

func dayPtr(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return day(*t)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
