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
// production with -production) with the token in POLAR_ACCESS_TOKEN. The
// client is made, and the fake seeded with the IDs, by
// examples/internal/setup.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/explain"
	"github.com/subkit-go/subkit/examples/internal/setup"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("polar", flag.ContinueOnError)
	shared := setup.Register(fs, setup.Config{APIs: []subkit.API{subkit.Polar}, Faults: true})
	md := subkit.Metadata{"order_id": "ord_1001"}
	fs.Func("metadata", "metadata `pairs` key=value,…: integers, true/false and strings (default order_id=ord_1001)", metadataFlag(&md))
	env, status := shared.Start(args, stdout, stderr)
	if env == nil {
		return status
	}
	defer env.Close()
	ctx, ids := context.Background(), env.IDs

	if env.Fault == "invalid" {
		ids.PolarProduct = "not-a-uuid"
		md["subkit-demo-key-that-is-longer-than-forty-characters"] = "x"
		md["empty"] = ""
	}
	var info subkit.ResponseInfo
	var sub *subkit.Subscription
	var err error
	if ids.PolarExternalCustomer != "" {
		fmt.Fprintf(stdout, "creating: product %s for external customer %s, metadata %s\n", ids.PolarProduct, ids.PolarExternalCustomer, show(md))
		sub, err = env.Client.Subscriptions.CreateForExternalCustomer(ctx, &subkit.ExternalCustomerSubscriptionParams{
			ProductID: ids.PolarProduct, ExternalCustomerID: ids.PolarExternalCustomer, Metadata: md}, subkit.WithResponseInfo(&info))
	} else {
		fmt.Fprintf(stdout, "creating: product %s for customer %s, metadata %s\n", ids.PolarProduct, ids.PolarCustomer, show(md))
		sub, err = env.Client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{
			ProductID: ids.PolarProduct, CustomerID: ids.PolarCustomer, Metadata: md}, subkit.WithResponseInfo(&info))
	}
	if err != nil {
		explain.Error(stdout, subkit.Polar, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, env.Client, ids, md)
		}
		env.PrintFake(stdout)
		return 1
	}
	email := "-"
	if sub.Customer.Email != nil {
		email = *sub.Customer.Email
	}
	fmt.Fprintf(stdout, "created:  %s, status %s, customer %s <%s>\n", sub.ID, sub.Status, sub.CustomerID, email)
	fmt.Fprintf(stdout, "          product %q: %d %s every %d %s, period %s → %s, metadata %s\n",
		sub.Product.Name, sub.Amount, sub.Currency, sub.RecurringIntervalCount, sub.RecurringInterval,
		explain.Date(&sub.CurrentPeriodStart), explain.Date(sub.CurrentPeriodEnd), show(sub.Metadata))
	explain.Call(stdout, info)
	env.PrintFake(stdout)
	return 0
}

// lookUp is what a caller does after ErrOutcomeUnknown: list the customer's
// subscriptions to the product, filtered by the metadata sent with the create
// (a reference such as order_id makes the match exact).
func lookUp(ctx context.Context, w io.Writer, client *subkit.Client, ids setup.IDs, md subkit.Metadata) {
	filter := &subkit.SubscriptionListParams{ProductIDs: []string{ids.PolarProduct}, Metadata: map[string]string{}}
	if ids.PolarExternalCustomer != "" {
		filter.ExternalCustomerIDs = []string{ids.PolarExternalCustomer}
	} else {
		filter.CustomerIDs = []string{ids.PolarCustomer}
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
	by := "List by product, customer and metadata " + show(md)
	if len(found) == 0 {
		explain.NotCreated(w, by)
		return
	}
	fmt.Fprintf(w, "look-up:  %s finds %v:\n", by, found)
	if len(md) == 0 {
		fmt.Fprintln(w, "          without a reference in the metadata, that may be an older subscription")
		return
	}
	fmt.Fprintln(w, "          the create happened; do not send it again")
}

// metadataFlag reads key=value pairs into a new *dst: integers and
// true/false keep their type, everything else is a string.
func metadataFlag(dst *subkit.Metadata) func(string) error {
	return func(s string) error {
		md := subkit.Metadata{}
		for _, pair := range strings.Split(s, ",") {
			if pair = strings.TrimSpace(pair); pair == "" {
				continue
			}
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				return fmt.Errorf("%q is not key=value", pair)
			}
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				md[k] = n
			} else if v == "true" || v == "false" {
				md[k] = v == "true"
			} else {
				md[k] = v
			}
		}
		*dst = md
		return nil
	}
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
