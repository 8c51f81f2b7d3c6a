package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/subkit-go/subkit"
)

const webhooksUsage = `usage: subkit webhooks catch-up -since WHEN [flags]

Has Polar send again every webhook event that was never delivered among
those whose deliveries failed in a window: what a receiver that was down
longer than Polar's retries (about 17–34 minutes) needs, since Polar then
gives the event up. Events your receiver got after all arrive again too;
a receiver that de-duplicates by webhook-id (subkit's webhook.WithDedupe)
ignores them. Re-enable a disabled endpoint first: Polar skips events for a
disabled endpoint, and makes none while it is disabled.

It needs POLAR_ACCESS_TOKEN with the webhooks:read and webhooks:write
scopes, and talks to Polar's sandbox unless -production (or -base-url).
WHEN is a duration ago (2h, 90m) or an RFC 3339 time; start the window
some 35 minutes before the receiver went down.

It writes one JSON line per event to standard output — its id, type,
created_at and outcome: redelivered (or would be, with -dry-run),
delivered (a later attempt succeeded: nothing to do), archived (too old to
send again) or failed (with the error) — and a summary to standard error.

Exit status: 0 every event redelivered or nothing to do; 1 some redelivery
failed (run it again); 2 bad usage or setup, nothing sent; 130 interrupted.

flags:
`

// webhooksConfig is what the flags of subkit webhooks catch-up ask for.
type webhooksConfig struct {
	since, until timeFlag
	endpoints    listFlag
	eventTypes   listFlag
	dryRun       bool
	production   bool
	baseURL      string
	timeout      time.Duration
}

// timeFlag reads a moment as a duration ago or an RFC 3339 time.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return errors.New("a duration ago must be positive")
		}
		f.t = time.Now().Add(-d)
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return errors.New("want a duration ago (2h) or an RFC 3339 time (2026-12-06T10:00:00Z)")
	}
	f.t = t
	return nil
}

// runWebhooks is subkit webhooks; it returns the exit status.
func runWebhooks(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "catch-up" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprint(stdout, webhooksUsage)
			return exitOK
		}
		fmt.Fprint(stderr, webhooksUsage)
		return exitUsage
	}
	c := &webhooksConfig{}
	fs := flag.NewFlagSet("webhooks catch-up", flag.ContinueOnError)
	fs.Var(&c.since, "since", "the window's start: a `WHEN` (a duration ago, or an RFC 3339 time); required")
	fs.Var(&c.until, "until", "the window's end, a `WHEN` (default: now)")
	fs.Var(&c.endpoints, "endpoint", "only the deliveries to the webhook endpoint `ID` (repeatable; default: every endpoint)")
	fs.Var(&c.eventTypes, "event-type", "only the events of `TYPE`, e.g. subscription.created (repeatable; default: all)")
	fs.BoolVar(&c.dryRun, "dry-run", false, "list what would be sent again, send nothing")
	fs.BoolVar(&c.production, "production", false, "use Polar production instead of its sandbox")
	fs.StringVar(&c.baseURL, "base-url", "", "send to the server at `URL` instead of Polar (a `subkit fake`, a proxy)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up after this long")
	rest, err := parseArgs(fs, webhooksUsage, args[1:], stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if c.since.t.IsZero() || len(rest) > 0 {
		fmt.Fprintln(stderr, "subkit webhooks catch-up: -since is required, and no argument is taken\nrun \"subkit webhooks catch-up -h\" for the flags")
		return exitUsage
	}
	if polar := envVar(subkit.Polar); strings.TrimSpace(os.Getenv(polar)) == "" {
		fmt.Fprintf(stderr, "subkit webhooks catch-up: %s is not set; nothing was sent\n", polar)
		return exitUsage
	}
	opts := []subkit.Option{subkit.WithEnv(), subkit.WithTimeout(0), subkit.WithUserAgent("subkit-webhooks/" + subkit.Version)}
	switch {
	case c.baseURL != "":
		opts = append(opts, subkit.WithBaseURL(subkit.Polar, c.baseURL))
	case !c.production:
		opts = append(opts, subkit.WithPolarSandbox())
	}
	client, err := subkit.New(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "subkit webhooks catch-up: %v\n", err) // never carries the token
		return exitUsage
	}
	defer client.CloseIdleConnections()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{Since: c.since.t, Until: c.until.t,
		EndpointIDs: c.endpoints, EventTypes: c.eventTypes, DryRun: c.dryRun})
	writeCatchUp(stdout, res)
	fmt.Fprintf(stderr, "subkit webhooks catch-up: %s\n", catchUpSummary(res, c.dryRun))
	switch {
	case errors.Is(err, subkit.ErrInvalidParams):
		fmt.Fprintf(stderr, "subkit webhooks catch-up: %v\n", err)
		return exitUsage
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), context.Canceled):
		return exitInterrupted
	case err != nil:
		fmt.Fprintf(stderr, "subkit webhooks catch-up: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// catchUpLine is one event of the report.
type catchUpLine struct {
	EventID   string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Outcome   string    `json:"outcome"`
	Error     string    `json:"error,omitempty"`
}

// writeCatchUp writes one JSON line per event the catch-up found, oldest
// first.
func writeCatchUp(w io.Writer, res *subkit.WebhookCatchUpResult) {
	outcome := map[string]string{}
	for _, id := range res.Redelivered {
		outcome[id] = "redelivered"
	}
	for _, id := range res.Delivered {
		outcome[id] = "delivered"
	}
	for _, id := range res.Archived {
		outcome[id] = "archived"
	}
	enc := json.NewEncoder(w)
	for _, ev := range res.Events {
		l := catchUpLine{EventID: ev.ID, Type: ev.Type, CreatedAt: ev.CreatedAt, Outcome: outcome[ev.ID]}
		if err := res.Failed[ev.ID]; err != nil {
			l.Outcome, l.Error = "failed", err.Error()
		}
		if l.Outcome == "" {
			l.Outcome = "not attempted" // the run ended before it
		}
		_ = enc.Encode(l)
	}
}

func catchUpSummary(res *subkit.WebhookCatchUpResult, dryRun bool) string {
	verb := "redelivered"
	if dryRun {
		verb = "to redeliver (dry run)"
	}
	return fmt.Sprintf("%d failed deliveries in the window, %d events: %d %s, %d delivered since, %d archived, %d failed",
		res.FailedDeliveries, len(res.Events), len(res.Redelivered), verb, len(res.Delivered), len(res.Archived), len(res.Failed))
}
