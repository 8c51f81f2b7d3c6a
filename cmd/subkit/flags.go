package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

// config is what the flags of subkit bulk ask for.
type config struct {
	input, format                  string
	key, keyPrefix, create         string
	set                            setFlag
	report, summary                string
	concurrency                    int
	dryRun, live, production       bool
	baseURL                        string
	rates                          rateFlag
	shard                          shardFlag
	store                          storeFlags
	progress                       string
	progressEvery, settle, timeout time.Duration
	lease                          time.Duration
}

const bulkUsage = `usage: subkit bulk [flags] FILE

Makes the subscription create each line of FILE asks for, each exactly once
under its key, paced at the API's limit, and writes one JSON line per input
line to the report. FILE is CSV with a header line, or JSON Lines (one object
a line); "-" reads standard input. Flags may come before or after FILE.
Rerunning the same input resumes: what was created is replayed, only what is
missing is created.

Where it sends: by default (-dry-run) the built-in fake APIs, seeded with what
the input names, which live and die with this run; -base-url a server that
outlives it, such as "subkit fake" (credentials from the environment, or the
fake's own on this machine); -live the real APIs.

What it remembers: the idempotency store, in the SQLite state file
.subkit-state.db in the current directory (-state FILE for another, -state off
for none), so that a run stopped or killed, rerun at once in the same
directory — or several processes on this host sharing the file — create each
key once, with no server. Its records belong to the target they were made for
(API, base URL, credential): a dry run's never answer for a live run. -redis
or -postgres share one store between the machines of a fleet (one store at a
time).

Columns (CSV) or fields (JSON Lines), named as the APIs name them:
  key                     the idempotency key (another column with -key)
  create                  polar-customer, polar-external-customer or chargeflow-dispute (or -create)
  polar-customer:          product_id, customer_id, metadata.NAME…
  polar-external-customer: product_id, external_customer_id, metadata.NAME…
  chargeflow-dispute:      dispute_id, source_id, created_at, start_date, frequency, frequency_count,
                           account_id, collection_method, updated_at, end_date, cancellation_date,
                           cancellation_reason, trial_start, trial_end, renews_at, plan_name,
                           pricing_model, status (dates: RFC 3339 or YYYY-MM-DD)
ChatDash creates are refused: ChatDash stores nothing a create can be found by.

The input is checked as a whole first: a missing column, an empty input or a
header with no lines under it ends the command (status 2) before anything is
sent. A line that cannot be read (bad quoting, invalid UTF-8, a bad value) is
reported failed, and the other lines run.

Exit status: 0 every item created, replayed or reconciled; 1 some item failed
or conflicted; 2 bad usage, setup or input, nothing sent; 3 some outcome
unknown or not attempted (rerun the same input); 130 interrupted (the report
is complete; rerun to resume).

flags:
`

// parseFlags reads the flags of subkit bulk. It returns nil and the exit
// status when the command should end: 0 after -h, 2 on a usage error.
func parseFlags(args []string, stdout, stderr io.Writer) (*config, int) {
	c := &config{set: setFlag{}, rates: rateFlag{}}
	fs := flag.NewFlagSet("bulk", flag.ContinueOnError)
	fs.StringVar(&c.format, "format", "", "input format, csv or jsonl (default: from FILE's extension)")
	fs.StringVar(&c.key, "key", "key", "the `column` that holds each line's idempotency key")
	fs.StringVar(&c.keyPrefix, "key-prefix", "", "put `TEXT` in front of every key, e.g. a campaign's name, so that the same input for another product gets other keys")
	fs.StringVar(&c.create, "create", "", "the `create` every line makes (polar-customer, polar-external-customer, chargeflow-dispute); default: each line's create column")
	fs.Var(c.set, "set", "`column=value` for every line that leaves the column empty, e.g. -set product_id=UUID (repeatable)")
	fs.StringVar(&c.report, "report", "-", "write the JSON Lines report to `FILE` (- is standard output)")
	fs.StringVar(&c.summary, "summary", "", "also write the summary as JSON to `FILE`")
	fs.IntVar(&c.concurrency, "concurrency", 8, "creates in flight at once")
	fs.BoolVar(&c.dryRun, "dry-run", false, "run against the built-in fake APIs, seeded with what the input names: nothing real is created (the default, without -live and -base-url)")
	fs.BoolVar(&c.live, "live", false, "call the real APIs with the credentials in CHATDASH_AGENCY_KEY, CHARGEFLOW_API_KEY, POLAR_ACCESS_TOKEN (Polar's sandbox unless -production)")
	fs.BoolVar(&c.production, "production", false, "with -live, use Polar production instead of its sandbox")
	fs.StringVar(&c.baseURL, "base-url", "", "send every API's requests to `URL`, such as a \"subkit fake\" or a proxy, with the credentials in the environment (on this machine, the fake's own when the environment has none)")
	fs.Var(c.rates, "rate", "pace `API=N/DURATION`: at most N requests in any DURATION, e.g. polar=500/1m (repeatable). Default: Polar's published limit on Polar's own servers; nothing elsewhere")
	fs.Var(&c.shard, "shard", "take only the lines of shard `i/n` (0 ≤ i < n), by a stable hash of the key, to split one input between n processes")
	c.store.register(fs)
	fs.StringVar(&c.progress, "progress", "auto", "progress display: bar, lines, none, or auto (a bar on a terminal, lines otherwise)")
	fs.DurationVar(&c.progressEvery, "progress-every", 10*time.Second, "with -progress lines, how often to print one")
	fs.DurationVar(&c.settle, "settle", subkit.DefaultRetryPolicy().SettleTime, "how long a create may take to become visible to look-ups (the client's RetryPolicy.SettleTime)")
	fs.DurationVar(&c.lease, "lease", subkit.DefaultLockLease, "how long a key stays locked in the idempotency store by a process that dies holding it "+
		"(renewed every third of it while a create runs): a rerun right after a kill waits up to this long for the keys the killed run had in flight")
	fs.DurationVar(&c.timeout, "timeout", 60*time.Second, "deadline of each request, from when it may go: a wait for a turn on the rate limiter is not counted (0: none)")
	files, err := parseArgs(fs, bulkUsage, args, stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK
	case err != nil:
		return nil, exitUsage
	case len(files) != 1:
		fmt.Fprintf(stderr, "subkit bulk: want one input FILE (- for standard input), got %d: %s\n"+
			"run \"subkit bulk -h\" for the flags\n", len(files), clip(strings.Join(files, " "), 200))
		return nil, exitUsage
	}
	c.input = files[0]
	if err := c.store.check(fs); err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
		return nil, exitUsage
	}
	if err := c.check(); err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
		return nil, exitUsage
	}
	return c, exitOK
}

func (c *config) check() error {
	switch {
	case c.live && c.baseURL != "":
		return errors.New("give -live or -base-url, not both")
	case c.dryRun && (c.live || c.baseURL != ""):
		return errors.New("-dry-run runs against the built-in fake: give it without -live and -base-url")
	case c.production && !c.live:
		return errors.New("-production only makes sense with -live")
	case c.concurrency < 1:
		return fmt.Errorf("-concurrency %d: want at least 1", c.concurrency)
	case c.key == "":
		return errors.New("-key: want a column name")
	case c.progress != "auto" && c.progress != "bar" && c.progress != "lines" && c.progress != "none":
		return fmt.Errorf("-progress %q: want bar, lines, none or auto", c.progress)
	case c.progressEvery <= 0, c.settle <= 0, c.lease <= 0, c.timeout < 0:
		return errors.New("-progress-every, -settle and -lease must be positive, -timeout not negative")
	}
	if c.create != "" {
		c.create = normalCreate(c.create)
		if _, ok := bulk.KindNamed(c.create); !ok {
			return fmt.Errorf("-create %q: want one of %s (ChatDash creates cannot be made in bulk)", clip(c.create, 100), strings.Join(createNames(), ", "))
		}
	}
	return nil
}

// setFlag is -set column=value, repeatable.
type setFlag map[string]string

func (s setFlag) String() string { return "" }

func (s setFlag) Set(v string) error {
	col, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(col) == "" {
		return fmt.Errorf("want column=value, got %q", clip(v, 100))
	}
	s[strings.TrimSpace(col)] = val
	return nil
}

// rate is a budget: at most events requests in any window of per.
type rate struct {
	events int
	per    time.Duration
}

// rateFlag is -rate api=N/DURATION, repeatable.
type rateFlag map[subkit.API]rate

func (r rateFlag) String() string { return "" }

func (r rateFlag) Set(v string) error {
	api, budget, err := perAPI(v, "N/DURATION")
	if err != nil {
		return err
	}
	n, d, ok := strings.Cut(budget, "/")
	events, err := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err != nil || events < 1 {
		return fmt.Errorf("want N/DURATION with N a positive whole number, got %q", clip(budget, 100))
	}
	per, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || per <= 0 {
		return fmt.Errorf("want N/DURATION with a positive duration such as 1m or 1s, got %q", clip(budget, 100))
	}
	r[api] = rate{events: events, per: per}
	return nil
}

// shardFlag is -shard i/n; the zero value is the whole input.
type shardFlag struct{ i, n int }

func (s *shardFlag) String() string {
	if s.n == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.i, s.n)
}

func (s *shardFlag) Set(v string) error {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return fmt.Errorf("want i/n with 0 ≤ i < n, got %q", clip(v, 100))
	}
	s.i, s.n = i, n
	return nil
}
