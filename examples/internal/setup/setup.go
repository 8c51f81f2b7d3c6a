// Package setup is the prologue the examples share: their common flags and
// the client those flags ask for. By default the client talks to
// subkittest's fake APIs, started for the run and seeded with the IDs the
// example's creates name. With -live it talks to the real APIs whose
// credentials are in the environment (Polar on its sandbox unless asked for
// production), and the IDs must name real objects.
package setup

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/fakefault"
)

// Config says what an example calls.
type Config struct {
	// APIs are the APIs the example calls. With more than one, the flags
	// that belong to one API carry its name (-polar-product); with one they
	// do not (-product).
	APIs []subkit.API
	// Faults adds -fault, which makes the fake fail (see package fakefault).
	Faults bool
}

// Flags are the shared flags, defined on an example's FlagSet by Register.
type Flags struct {
	fs              *flag.FlagSet
	cfg             Config
	live, polarProd bool
	baseURL         string
	fault           string
	timeout         time.Duration
	ids             IDs
	agents          string // ChatDash agent IDs, comma-separated
}

// Register defines on fs the flags an example calling cfg.APIs shares with
// the others: -live, -timeout, Polar's -production, each API's IDs and,
// with cfg.Faults, -fault. The example defines its own flags on fs too, then
// calls Start.
func Register(fs *flag.FlagSet, cfg Config) *Flags {
	f := &Flags{fs: fs, cfg: cfg, fault: "none"}
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: go run ./examples/%s [flags]

Without -live it runs against subkittest's fake APIs, seeded with the IDs.
With -base-url it calls a fake that outlives the run ("subkit fake -implicit").
With -live it calls each API whose credential and IDs are set, and creates
real subscriptions. Each ID flag defaults to the environment variable named.

flags:
`, fs.Name())
		fs.PrintDefaults()
	}
	vars := make([]string, len(cfg.APIs))
	for i, api := range cfg.APIs {
		vars[i] = credentialVar(api)
	}
	fs.BoolVar(&f.live, "live", false, "call the real APIs with the credentials in the environment: "+strings.Join(vars, ", "))
	if slices.Contains(cfg.APIs, subkit.Polar) {
		fs.BoolVar(&f.polarProd, f.flagName(subkit.Polar, "production"), false, "with -live, use Polar production instead of its sandbox")
	}
	fs.StringVar(&f.baseURL, "base-url", "", "call the fake APIs at `URL`, such as a \"subkit fake -implicit\" that outlives the run, with the credentials in the environment (the fake's own when it has none); the IDs default to the fake's demo ones")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "deadline of each call, retries included")
	if cfg.Faults {
		fs.StringVar(&f.fault, "fault", "none", "fake only: the failure to inject, one of "+strings.Join(fakefault.Names(), ", "))
	}
	for _, id := range f.idFlags() {
		usage := fmt.Sprintf("%s: %s (env %s", apiName(id.api), id.usage, id.env)
		if id.demo != "" {
			usage += "; fake default " + id.demo
		}
		fs.StringVar(id.dst, f.flagName(id.api, id.name), os.Getenv(id.env), usage+")")
	}
	return f
}

// Start parses args and makes the client the flags ask for. When it returns
// a nil Env, the example ends with the status it returns: 0 after -h, 2 when
// the flags are wrong or -live has nothing to call (said on stderr), 1 when
// the client cannot be made.
func (f *Flags) Start(args []string, stdout, stderr io.Writer) (*Env, int) {
	f.fs.SetOutput(stderr)
	if err := f.fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f.fs.Name(), err)
		return nil, 2
	}
	if !f.live {
		f.fillDemo()
	}
	for _, a := range strings.Split(f.agents, ",") {
		if a = strings.TrimSpace(a); a != "" {
			f.ids.ChatDashAgents = append(f.ids.ChatDashAgents, a)
		}
	}
	switch {
	case f.live:
		return f.startLive(stdout, stderr)
	case f.baseURL != "":
		return f.startBaseURL(stdout, stderr)
	}
	return f.startFake(stdout, stderr)
}

func (f *Flags) check() error {
	switch {
	case f.fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments %q", f.fs.Args())
	case !fakefault.Known(f.fault):
		return fmt.Errorf("unknown -fault %q (one of %s)", f.fault, strings.Join(fakefault.Names(), ", "))
	case f.live && f.fault != "none":
		return errors.New("-fault works only against the fake APIs (without -live)")
	case f.live && f.baseURL != "":
		return errors.New("give -live or -base-url, not both")
	case f.baseURL != "" && f.fault != "none":
		return errors.New("-fault works only against the built-in fake: a subkit fake takes faults through its admin API (POST /_subkit/faults)")
	case !f.live && f.polarProd:
		return fmt.Errorf("-%s only makes sense with -live", f.flagName(subkit.Polar, "production"))
	case f.ids.PolarCustomer != "" && f.ids.PolarExternalCustomer != "":
		return fmt.Errorf("give -%s or -%s, not both",
			f.flagName(subkit.Polar, "customer"), f.flagName(subkit.Polar, "external-customer"))
	}
	return nil
}

func (f *Flags) userAgent() string { return "subkit-example-" + f.fs.Name() }

// flagName is the name of one of api's flags.
func (f *Flags) flagName(api subkit.API, name string) string {
	if len(f.cfg.APIs) > 1 {
		return string(api) + "-" + name
	}
	return name
}
