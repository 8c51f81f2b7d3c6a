// Command polar subscribes an existing Polar customer — by Polar's customer
// ID or by your own external ID — to a free recurring product through subkit,
// and shows how each kind of failure is recognised with errors.Is and
// errors.As.
//
//	go run ./examples/polar                          # against the fake API
//	go run ./examples/polar -external-customer usr_1337 -metadata order_id=ord_1001,seats=3
//	go run ./examples/polar -fault refused           # … with a failure injected
//	go run ./examples/polar -live -product … -customer …
//
// By default it runs against subkittest's fake Polar; -fault makes the fake
// fail in one of several ways. With -live it calls Polar's sandbox (or
// production with -production) with the token in POLAR_ACCESS_TOKEN.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/explain"
	"github.com/subkit-go/subkit/examples/internal/fakefault"
	"github.com/subkit-go/subkit/subkittest"
)

// IDs the fake uses when a flag is not given.
const (
	demoProduct  = "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23"
	demoCustomer = "992fae2a-2a17-4b7a-8d9e-e287cf90131b"
	demoExternal = "usr_1337"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("polar", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "call the real Polar API (sandbox) with the token in POLAR_ACCESS_TOKEN")
	production := fs.Bool("production", false, "with -live, use Polar production instead of the sandbox")
	fault := fs.String("fault", "none", "fake only: the failure to inject, one of "+strings.Join(fakefault.Names(), ", "))
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of the call, retries included")
	product := fs.String("product", "", "free recurring product `UUID`; fake default "+demoProduct)
	customer := fs.String("customer", "", "customer `UUID`; fake default "+demoCustomer+" (unless -external-customer)")
	external := fs.String("external-customer", "", "the customer's `ID` in your system, instead of -customer")
	metadata := fs.String("metadata", "order_id=ord_1001", "metadata `pairs` key=value,…: integers, true/false and strings")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if !validFault(*fault) {
		fmt.Fprintf(stderr, "polar: unknown -fault %q (one of %s)\n", *fault, strings.Join(fakefault.Names(), ", "))
		return 2
	}
	if *customer != "" && *external != "" {
		fmt.Fprintln(stderr, "polar: give -customer or -external-customer, not both")
		return 2
	}
	md, err := parseMetadata(*metadata)
	if err != nil {
		fmt.Fprintln(stderr, "polar: -metadata:", err)
		return 2
	}

	ctx := context.Background()
	var client *subkit.Client
	var srv *subkittest.Server
	if *live {
		if *fault != "none" {
			fmt.Fprintln(stderr, "polar: -fault works only against the fake API (without -live)")
			return 2
		}
		if strings.TrimSpace(os.Getenv("POLAR_ACCESS_TOKEN")) == "" {
			fmt.Fprintln(stderr, "polar: -live needs POLAR_ACCESS_TOKEN in the environment")
			return 2
		}
		if *product == "" || (*customer == "" && *external == "") {
			fmt.Fprintln(stderr, "polar: -live needs -product and -customer or -external-customer (real IDs)")
			return 2
		}
		opts := []subkit.Option{subkit.WithEnv(), subkit.WithTimeout(*timeout), subkit.WithUserAgent("subkit-example-polar")}
		where := "production"
		if !*production {
			opts, where = append(opts, subkit.WithPolarSandbox()), "sandbox"
		}
		if client, err = subkit.New(opts...); err != nil {
			fmt.Fprintln(stderr, "polar:", err)
			return 2
		}
		fmt.Fprintf(stdout, "Polar: live API (%s)\n", where)
	} else {
		if *production {
			fmt.Fprintln(stderr, "polar: -production only makes sense with -live")
			return 2
		}
		*product = orDefault(*product, demoProduct)
		if *external == "" {
			*customer = orDefault(*customer, demoCustomer)
		}
		srv = subkittest.NewServer()
		defer srv.Close()
		if client, err = fakeClient(srv, *fault, *product, *customer, *external, timeout); err != nil {
			fmt.Fprintln(stderr, "polar:", err)
			return 1
		}
		fmt.Fprintf(stdout, "Polar: fake API at %s, fault: %s\n", srv.URL(), *fault)
	}
	defer client.CloseIdleConnections()

	if *fault == "invalid" {
		*product = "not-a-uuid"
		md["subkit-demo-key-that-is-longer-than-forty-characters"] = "x"
		md["empty"] = ""
	}
	var info subkit.ResponseInfo
	var sub *subkit.Subscription
	if *external != "" {
		fmt.Fprintf(stdout, "creating: product %s for external customer %s, metadata %s\n", *product, *external, show(md))
		sub, err = client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID: *product, ExternalCustomerID: *external, Metadata: md}, subkit.WithResponseInfo(&info))
	} else {
		fmt.Fprintf(stdout, "creating: product %s for customer %s, metadata %s\n", *product, *customer, show(md))
		sub, err = client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
			ProductID: *product, CustomerID: *customer, Metadata: md}, subkit.WithResponseInfo(&info))
	}
	if err != nil {
		explain.Error(stdout, subkit.Polar, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, client, *product, *customer, *external, md)
		}
		if srv != nil {
			fmt.Fprintf(stdout, "fake:     holds %d subscription(s) (what the look-up should agree with)\n",
				len(srv.PolarSubscriptions()))
		}
		return 1
	}
	email := "-"
	if sub.Customer.Email != nil {
		email = *sub.Customer.Email
	}
	fmt.Fprintf(stdout, "created:  %s, status %s, customer %s <%s>\n", sub.ID, sub.Status, sub.CustomerID, email)
	fmt.Fprintf(stdout, "          product %q: %d %s every %d %s, period %s → %s, metadata %s\n",
		sub.Product.Name, sub.Amount, sub.Currency, sub.RecurringIntervalCount, sub.RecurringInterval,
		sub.CurrentPeriodStart.UTC().Format(time.DateOnly), explain.Date(sub.CurrentPeriodEnd), show(sub.Metadata))
	explain.Call(stdout, info)
	return 0
}

// fakeClient seeds srv with the product and customer, queues the fault and
// returns a client.
func fakeClient(srv *subkittest.Server, fault, product, customer, external string, timeout *time.Duration) (*subkit.Client, error) {
	// Only well-formed UUIDs can be registered; anything else is for the
	// SDK's validation to refuse.
	if uuidPattern.MatchString(product) {
		srv.AddPolarProduct(subkittest.PolarProduct{ID: product, Name: "Community"})
	}
	switch {
	case fault == "refused":
		// Another customer is known: the one asked for is not.
		srv.AddPolarCustomer(subkittest.PolarCustomer{Name: "Someone else"})
	case external != "":
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: external, Name: "Ada"})
	case uuidPattern.MatchString(customer):
		srv.AddPolarCustomer(subkittest.PolarCustomer{ID: customer, Name: "Ada"})
	}
	return fakefault.Setup{API: subkit.Polar, UserAgent: "subkit-example-polar",
		ServerError: subkittest.Respond(502, "<html><body>502 Bad Gateway</body></html>"), WrongCredential: subkit.WithOrganizationToken("polar_oat_not_the_token")}.Client(srv, fault, timeout)
}

// lookUp is what a caller does after ErrOutcomeUnknown: list the customer's
// subscriptions to the product, filtered by the metadata sent with the create
// (a reference such as order_id makes the match exact).
func lookUp(ctx context.Context, w io.Writer, client *subkit.Client, product, customer, external string, md subkit.Metadata) {
	filter := &subkit.SubscriptionListParams{ProductIDs: []string{product}, Metadata: map[string]string{}}
	if external != "" {
		filter.ExternalCustomerIDs = []string{external}
	} else {
		filter.CustomerIDs = []string{customer}
	}
	for k, v := range md {
		filter.Metadata[k] = fmt.Sprint(v)
	}
	var found []string
	for sub, err := range client.Subscriptions.List(ctx, filter) {
		if err != nil {
			explain.LookUpFailed(w, err)
			return
		}
		found = append(found, sub.ID)
	}
	by := "product, customer and metadata " + show(md)
	if len(found) == 0 {
		explain.NotCreated(w, "List by "+by)
		return
	}
	fmt.Fprintf(w, "look-up:  List by %s finds %v:\n", by, found)
	if len(md) == 0 {
		fmt.Fprintln(w, "          without a reference in the metadata, that may be an older subscription")
		return
	}
	fmt.Fprintln(w, "          the create happened; do not send it again")
}

// parseMetadata reads key=value pairs: integers and true/false keep their
// type, everything else is a string.
func parseMetadata(s string) (subkit.Metadata, error) {
	md := subkit.Metadata{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not key=value", pair)
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			md[k] = n
		} else if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
			md[k] = b
		} else {
			md[k] = v
		}
	}
	return md, nil
}

// show prints metadata in a stable order.
func show(md subkit.Metadata) string {
	if len(md) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%v", k, md[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func validFault(f string) bool {
	for _, g := range fakefault.Names() {
		if f == g {
			return true
		}
	}
	return false
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
