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
// the live account. The client is made, and the fake seeded with the IDs,
// by examples/internal/setup.
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
	"github.com/subkit-go/subkit/examples/internal/setup"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chargeflow", flag.ContinueOnError)
	shared := setup.Register(fs, setup.Config{APIs: []subkit.API{subkit.Chargeflow}, Faults: true})
	account := fs.String("account", "", "Chargeflow account `ID` (24 hex characters, optional)")
	created := time.Now().AddDate(0, -3, 0).UTC().Truncate(24 * time.Hour)
	fs.Func("signup", "`date` the subscription was created and started, YYYY-MM-DD or RFC 3339 (default three months ago)", dateFlag(&created))
	var cancelled time.Time
	fs.Func("cancelled", "`date` it was cancelled (optional)", dateFlag(&cancelled))
	reason := fs.String("reason", "", "cancellation `reason`: too_expensive, low_quality, unused, too_complex, missing_features")
	frequency := fs.String("frequency", string(subkit.FrequencyMonth), "billing `unit`: day, week, month or year")
	count := fs.Int("every", 1, "billing period in units of -frequency")
	plan := fs.String("plan", "Pro Monthly", "plan `name`")
	env, status := shared.Start(args, stdout, stderr)
	if env == nil {
		return status
	}
	defer env.Close()
	ctx, ids := context.Background(), env.IDs

	p := &subkit.DisputeSubscriptionParams{
		SourceID:           ids.ChargeflowSourceID,
		AccountID:          *account,
		CreatedAt:          created,
		StartDate:          created,
		Frequency:          subkit.Frequency(*frequency),
		FrequencyCount:     *count,
		CancellationDate:   cancelled,
		CancellationReason: subkit.CancellationReason(*reason),
		PlanName:           *plan,
	}
	if env.Fault == "invalid" {
		p.SourceID = strings.Repeat("x", 130)
		p.Frequency = "fortnight"
		p.CreatedAt = time.Time{}
	}
	fmt.Fprintf(stdout, "creating: dispute %s, source_id %s, plan %q, every %d %s since %s\n",
		ids.ChargeflowDispute, short(p.SourceID), p.PlanName, p.FrequencyCount, p.Frequency, p.StartDate.Format(time.DateOnly))

	var info subkit.ResponseInfo
	sub, err := env.Client.Subscriptions.CreateForDispute(ctx, ids.ChargeflowDispute, p, subkit.WithResponseInfo(&info))
	if err != nil {
		explain.Error(stdout, subkit.Chargeflow, err, info)
		if errors.Is(err, subkit.ErrOutcomeUnknown) {
			lookUp(ctx, stdout, env.Client, ids.ChargeflowDispute, p.SourceID)
		}
		env.PrintFake(stdout)
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
	env.PrintFake(stdout)
	return 0
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

// dateFlag reads a flag's date into dst: YYYY-MM-DD or RFC 3339.
func dateFlag(dst *time.Time) func(string) error {
	return func(s string) error {
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			if t, err = time.Parse(time.RFC3339, s); err != nil {
				return errors.New("not a date (YYYY-MM-DD) nor an RFC 3339 time")
			}
		}
		*dst = t
		return nil
	}
}

func short(s string) string {
	if len(s) > 40 {
		return s[:20] + "…(" + fmt.Sprint(len(s)) + " characters)"
	}
	return s
}
