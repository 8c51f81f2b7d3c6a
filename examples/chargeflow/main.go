// Command chargeflow records the subscription behind a disputed charge on
// Chargeflow through subkit, and shows how each kind of failure is recognised
// with errors.Is and errors.As.
//
//	go run ./examples/chargeflow                      # against the fake API
//	go run ./examples/chargeflow -fault server-error  # … with a failure injected
//	go run ./examples/chargeflow -live -dispute 65f0… -source-id sub_…
//
// By default it runs against subkittest's fake Chargeflow; -fault makes the
// fake fail in one of several ways. With -live it calls api.chargeflow.io with
// the key in CHARGEFLOW_API_KEY. Chargeflow has no sandbox: -live writes to
// the live account.
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
	demoDispute  = "65f0c1d2e3a4b5c6d7e8f901"
	demoSourceID = "sub_1PqRsTuVwXyZ"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chargeflow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	live := fs.Bool("live", false, "call the real Chargeflow API (live account) with the key in CHARGEFLOW_API_KEY")
	fault := fs.String("fault", "none", "fake only: the failure to inject, one of "+strings.Join(fakefault.Names(), ", "))
	timeout := fs.Duration("timeout", 30*time.Second, "deadline of the call, retries included")
	dispute := fs.String("dispute", "", "dispute `ID` (24 hex characters); fake default "+demoDispute)
	sourceID := fs.String("source-id", "", "the subscription's `ID` in your billing system; fake default "+demoSourceID)
	account := fs.String("account", "", "Chargeflow account `ID` (24 hex characters, optional)")
	signup := fs.String("signup", time.Now().AddDate(0, -3, 0).Format(time.DateOnly), "`date` the subscription was created and started (YYYY-MM-DD or RFC 3339)")
	cancelled := fs.String("cancelled", "", "`date` it was cancelled (optional)")
	reason := fs.String("reason", "", "cancellation `reason`: too_expensive, low_quality, unused, too_complex, missing_features")
	frequency := fs.String("frequency", string(subkit.FrequencyMonth), "billing `unit`: day, week, month or year")
	count := fs.Int("every", 1, "billing period in units of -frequency")
	plan := fs.String("plan", "Pro Monthly", "plan `name`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if !validFault(*fault) {
		fmt.Fprintf(stderr, "chargeflow: unknown -fault %q (one of %s)\n", *fault, strings.Join(fakefault.Names(), ", "))
		return 2
	}
	created, err := parseDate(*signup)
	if err != nil {
		fmt.Fprintln(stderr, "chargeflow: -signup:", err)
		return 2
	}
	var cancelledAt time.Time
	if *cancelled != "" {
		if cancelledAt, err = parseDate(*cancelled); err != nil {
			fmt.Fprintln(stderr, "chargeflow: -cancelled:", err)
			return 2
		}
	}

	ctx := context.Background()
	var client *subkit.Client
	var srv *subkittest.Server
	if *live {
		if *fault != "none" {
			fmt.Fprintln(stderr, "chargeflow: -fault works only against the fake API (without -live)")
			return 2
		}
		if strings.TrimSpace(os.Getenv("CHARGEFLOW_API_KEY")) == "" {
			fmt.Fprintln(stderr, "chargeflow: -live needs CHARGEFLOW_API_KEY in the environment")
			return 2
		}
		if *dispute == "" || *sourceID == "" {
			fmt.Fprintln(stderr, "chargeflow: -live needs -dispute and -source-id (real IDs)")
			return 2
		}
		client, err = subkit.New(subkit.WithEnv(), subkit.WithTimeout(*timeout), subkit.WithUserAgent("subkit-example-chargeflow"))
		if err != nil {
			fmt.Fprintln(stderr, "chargeflow:", err)
			return 2
		}
		fmt.Fprintln(stdout, "Chargeflow: live API (live account)")
	} else {
		*dispute, *sourceID = orDefault(*dispute, demoDispute), orDefault(*sourceID, demoSourceID)
		srv = subkittest.NewServer()
		defer srv.Close()
		if client, err = fakeClient(srv, *fault, *dispute, timeout); err != nil {
			fmt.Fprintln(stderr, "chargeflow:", err)
			return 1
		}
		fmt.Fprintf(stdout, "Chargeflow: fake API at %s, fault: %s\n", srv.URL(), *fault)
	}
	defer client.CloseIdleConnections()

	p := &subkit.DisputeSubscriptionParams{
		SourceID:           *sourceID,
		AccountID:          *account,
		CreatedAt:          created,
		StartDate:          created,
		Frequency:          subkit.Frequency(*frequency),
		FrequencyCount:     *count,
		CancellationDate:   cancelledAt,
		CancellationReason: subkit.CancellationReason(*reason),
		PlanName:           *plan,
	}
	if *fault == "invalid" {
		p.SourceID = strings.Repeat("x", 130)
		p.Frequency = "fortnight"
		p.CreatedAt = time.Time{}
	}
	fmt.Fprintf(stdout, "creating: dispute %s, source_id %s, plan %q, every %d %s since %s\n",
		*dispute, short(p.SourceID), p.PlanName, p.FrequencyCount, p.Frequency, p.StartDate.Format(time.DateOnly))

	var info subkit.ResponseInfo
	sub, err := client.Subscriptions.CreateForDispute(ctx, *dispute, p, subkit.WithResponseInfo(&info))
	if err != nil {
		explain.Error(stdout, subkit.Chargeflow, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, client, *dispute, p.SourceID)
		}
		if srv != nil {
			fmt.Fprintf(stdout, "fake:     holds %d subscription(s) (what the look-up should agree with)\n",
				len(srv.ChargeflowSubscriptions()))
		}
		return 1
	}
	fmt.Fprintf(stdout, "created:  %s, status %s, source_id %s, plan %q\n", sub.ID, sub.Status, sub.SourceID, sub.PlanName)
	fmt.Fprintf(stdout, "          every %d %s from %s, %s, collected %s",
		sub.FrequencyCount, sub.Frequency, explain.Date(sub.StartDate), sub.PricingModel, sub.CollectionMethod)
	if sub.CancellationDate != nil {
		fmt.Fprintf(stdout, ", cancelled %s (%s)", explain.Date(sub.CancellationDate), sub.CancellationReason)
	}
	fmt.Fprintln(stdout)
	explain.Call(stdout, info)
	return 0
}

// fakeClient seeds srv with the dispute, queues the fault and returns a client.
func fakeClient(srv *subkittest.Server, fault, dispute string, timeout *time.Duration) (*subkit.Client, error) {
	if fault == "refused" {
		// Another dispute is known: the one asked for is not.
		srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: "aaaaaaaaaaaaaaaaaaaaaaaa"})
	} else if len(dispute) == 24 {
		srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: dispute, AccountID: "65f0c1d2e3a4b5c6d7e8f9aa"})
	}
	return fakefault.Setup{API: subkit.Chargeflow, UserAgent: "subkit-example-chargeflow",
		ServerError: subkittest.Respond(502, `{"message":"Internal server error"}`), WrongCredential: subkit.WithChargeflowKey("cf_not_the_key")}.Client(srv, fault, timeout)
}

// lookUp is what a caller does after ErrOutcomeUnknown. A dispute holds one
// subscription: if it is the one with this source_id, the create happened.
func lookUp(ctx context.Context, w io.Writer, client *subkit.Client, dispute, sourceID string) {
	sub, err := client.Subscriptions.GetForDispute(ctx, dispute)
	switch {
	case errors.Is(err, subkit.ErrNotFound):
		explain.NotCreated(w, "GetForDispute (ErrNotFound)")
	case err != nil:
		explain.LookUpFailed(w, err)
	case sub.SourceID == sourceID:
		fmt.Fprintf(w, "look-up:  GetForDispute: the dispute holds %s with source_id %s:\n", sub.ID, sub.SourceID)
		fmt.Fprintln(w, "          the create happened; do not send it again")
	default:
		fmt.Fprintf(w, "look-up:  GetForDispute: the dispute holds %s, but for source_id %s:\n", sub.ID, sub.SourceID)
		fmt.Fprintln(w, "          this create did not replace it")
	}
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
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

func short(s string) string {
	if len(s) > 40 {
		return s[:20] + "…(" + fmt.Sprint(len(s)) + " characters)"
	}
	return s
}
