package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

const fakeUsage = `usage: subkit fake [flags]

Serves fake ChatDash, Chargeflow and Polar APIs (package subkittest) on one
port, like stripe-mock: several processes, reruns, shards, a service's
instances and programs in any language can share it. It answers as the real
APIs do — each API's paths, IDs, answers, refusals and error bodies — and
holds what it is asked to create.

On start it prints, on stdout, shell lines to use it:

  export SUBKIT_FAKE_URL=http://127.0.0.1:12121
  export CHATDASH_AGENCY_KEY=…  CHARGEFLOW_API_KEY=…  POLAR_ACCESS_TOKEN=…
  export SUBKIT_FAKE_ADMIN_TOKEN=…

and then serves until Ctrl-C (or SIGTERM), when it finishes the requests in
flight, saves its state (-state) and says what it held. With -webhook it
also delivers Polar's signed webhook events of what it creates (and prints
SUBKIT_FAKE_WEBHOOK_SECRET, unless the environment sets it).

Like the real APIs it knows nothing it was not given: seed products,
customers, disputes and accounts with the flags below or -seed FILE, or take
every well-formed ID for an existing object with -implicit.

Admin API, for requests with "Authorization: Bearer $SUBKIT_FAKE_ADMIN_TOKEN"
(the token is drawn at start unless the environment sets it):
  GET  /_subkit/state           what it holds, as JSON
  GET  /_subkit/requests?api=A  the requests it received (credentials redacted)
  POST /_subkit/reset           forget every subscription, request and fault
  POST /_subkit/faults          queue a fault: {"api":"polar","fault":"close_after_handling","count":1,"on":["create"]}
  POST /_subkit/seed            seed more, in -seed FILE's format
  GET  /_subkit/webhooks        the webhook endpoints (-webhook), events and deliveries

flags:
`

// adminTokenVar names the environment variable that sets the admin token,
// instead of one drawn at start; webhookSecretVar the one that sets the
// webhooks' signing secret.
const (
	adminTokenVar    = "SUBKIT_FAKE_ADMIN_TOKEN"
	webhookSecretVar = "SUBKIT_FAKE_WEBHOOK_SECRET"
)

// defaultFakeAddr is where subkit fake listens unless -addr says otherwise.
const defaultFakeAddr = "127.0.0.1:12121"

// fakeConfig is what the flags of subkit fake ask for.
type fakeConfig struct {
	addr, state, seedFile string
	implicit              bool
	lags                  lagFlag
	rates                 rateFlag
	seeds                 seedFlags
	requests              int
	webhooks              listFlag
	webhookScale          float64
}

func parseFakeFlags(args []string, stdout, stderr io.Writer) (*fakeConfig, int) {
	c := &fakeConfig{lags: lagFlag{}, rates: rateFlag{}}
	fs := flag.NewFlagSet("fake", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", defaultFakeAddr, "listen on `host:port`; a port alone (:8080) listens on 127.0.0.1, and only an address that names another interface (0.0.0.0:8080) is reachable from other machines")
	fs.StringVar(&c.state, "state", "", "keep what the fake holds in `FILE`: loaded at start when it exists, saved every second while it changes and at shutdown, so that the fake survives a restart")
	fs.BoolVar(&c.implicit, "implicit", false, "take every well-formed ID for an existing product, customer, dispute, account or client (no real API does this; without it, only what is seeded exists)")
	fs.StringVar(&c.seedFile, "seed", "", "seed the objects in the JSON `FILE`: {\"polar\":{\"products\":[{\"id\":…}],\"customers\":[{\"external_id\":…}]},\"chargeflow\":{\"disputes\":[{\"id\":…}]},\"chatdash\":{\"accounts\":[…],\"clients\":[{\"id\":…}],\"products\":[{\"id\":…}]}}")
	c.seeds.register(fs)
	fs.Var(c.lags, "read-lag", "make creates on `API=MIN[-MAX]` invisible to look-ups for a lag drawn from MIN to MAX, as Polar's read replica (repeatable), e.g. polar=200ms-1s")
	fs.Var(c.rates, "rate", "limit `API=N/DURATION` as the API does: for Polar, its fixed windows and an empty 429 with Retry-After of the whole window (repeatable), e.g. polar=100/1m")
	fs.IntVar(&c.requests, "requests", 10000, "remember about the last `N` requests for the admin API (a fake serving for long would otherwise grow without end)")
	fs.Var(&c.webhooks, "webhook", "deliver Polar's signed webhook events of what the fake creates to `URL`, as Polar does (Standard Webhooks, retries, order), signed with $"+webhookSecretVar+" or a secret drawn at start (repeatable)")
	fs.Float64Var(&c.webhookScale, "webhook-time-scale", 1, "multiply the webhook deliveries' delays (retries, order guard, 10 s timeout) by `F`: 0.01 runs Polar's half hour of retries in 20 s")
	rest, err := parseArgs(fs, fakeUsage, args, stdout, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK
	case err != nil:
		return nil, exitUsage
	case len(rest) > 0:
		fmt.Fprintf(stderr, "subkit fake: unexpected arguments: %s\nrun \"subkit fake -h\" for the flags\n", clip(strings.Join(rest, " "), 200))
		return nil, exitUsage
	case c.requests < 1:
		fmt.Fprintln(stderr, "subkit fake: -requests: want at least 1")
		return nil, exitUsage
	case c.webhookScale <= 0:
		fmt.Fprintln(stderr, "subkit fake: -webhook-time-scale: want a positive factor")
		return nil, exitUsage
	}
	for _, u := range c.webhooks {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			fmt.Fprintf(stderr, "subkit fake: -webhook %q: want an http:// or https:// URL\n", clip(u, 200))
			return nil, exitUsage
		}
	}
	return c, exitOK
}

// runFake serves the fake until a signal, and returns the exit status: 0
// after a clean stop, 2 when it cannot start, 1 when it could not save its
// state at the end.
func runFake(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c, code := parseFakeFlags(args, stdout, stderr)
	if c == nil {
		return code
	}
	seeds, err := c.seeds.gather(c.seedFile)
	if err != nil {
		fmt.Fprintf(stderr, "subkit fake: %v\n", err)
		return exitUsage
	}
	srv := subkittest.NewServer(c.serverOptions()...)
	defer srv.Close()
	loaded, err := loadState(srv, c.state)
	if err != nil {
		fmt.Fprintf(stderr, "subkit fake: -state %s: %v\n", c.state, err)
		return exitUsage
	}
	seeded := seeds.apply(srv)
	secret, err := c.addWebhooks(srv)
	if err != nil {
		fmt.Fprintf(stderr, "subkit fake: %v\n", err)
		return exitUsage
	}
	token, drawn := os.Getenv(adminTokenVar), false
	if token == "" {
		token, drawn = newAdminToken(), true
	}
	ln, err := net.Listen("tcp", listenAddr(c.addr))
	if err != nil {
		fmt.Fprintf(stderr, "subkit fake: %v\n", err)
		return exitUsage
	}
	base := "http://" + ln.Addr().String()
	hs := &http.Server{Handler: newFakeHandler(srv, token), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	describeFake(stderr, base, c, loaded, seeded, ln.Addr())
	printEnv(stdout, base, token, drawn, secret)
	saver := startSaver(srv, c.state, loaded >= 0, stderr)

	code = exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		fmt.Fprintf(stderr, "subkit fake: serving: %v\n", err)
		code = exitFailed
	}
	stop()
	fmt.Fprintln(stderr, "subkit fake: stopping: finishing the requests in flight")
	shutdown(hs, srv)
	if err := saver.stop(); err != nil {
		fmt.Fprintf(stderr, "subkit fake: -state %s: saving: %v\n", c.state, err)
		code = exitFailed
	}
	held := fmt.Sprintf("%d Polar, %d Chargeflow and %d ChatDash subscription(s)",
		len(srv.PolarSubscriptions()), len(srv.ChargeflowSubscriptions()), len(srv.ChatDashSubscriptions()))
	switch {
	case c.state == "":
		fmt.Fprintf(stderr, "subkit fake: stopped; it held %s, now gone (-state FILE keeps them)\n", held)
	case saver.failed:
		fmt.Fprintf(stderr, "subkit fake: stopped; it held %s, not saved\n", held)
	default:
		fmt.Fprintf(stderr, "subkit fake: stopped; it held %s, saved in %s for the next start\n", held, c.state)
	}
	return code
}

func (c *fakeConfig) serverOptions() []subkittest.ServerOption {
	opts := []subkittest.ServerOption{subkittest.WithoutListener(), subkittest.WithRequestLog(c.requests)}
	if c.implicit {
		opts = append(opts, subkittest.WithImplicitResources())
	}
	for api, l := range c.lags {
		opts = append(opts, subkittest.WithReadLag(api, l.min, l.max))
	}
	for api, r := range c.rates {
		opts = append(opts, subkittest.WithRateLimit(api, r.events, r.per))
	}
	return opts
}

// listenAddr puts a host-less address on the loopback interface: the fake
// answers only this machine unless told otherwise by name.
func listenAddr(addr string) string {
	if strings.HasPrefix(addr, ":") {
		return "127.0.0.1" + addr
	}
	return addr
}

// newAdminToken draws the admin token: 128 random bits and more.
func newAdminToken() string { return "subkit_admin_" + rand.Text() }

// printEnv prints, on stdout, the shell lines that point a program at the
// fake. The credentials are the fake's own, public test values.
func printEnv(w io.Writer, base, token string, drawn bool, webhookSecret string) {
	fmt.Fprintf(w, "export SUBKIT_FAKE_URL=%s\n", base)
	fmt.Fprintf(w, "export CHATDASH_AGENCY_KEY=%s\n", subkittest.AgencyKey)
	fmt.Fprintf(w, "export CHARGEFLOW_API_KEY=%s\n", subkittest.ChargeflowKey)
	fmt.Fprintf(w, "export POLAR_ACCESS_TOKEN=%s\n", subkittest.PolarToken)
	if webhookSecret != "" {
		fmt.Fprintf(w, "export %s=%s\n", webhookSecretVar, webhookSecret)
	}
	if drawn {
		fmt.Fprintf(w, "export %s=%s\n", adminTokenVar, token)
	}
	fmt.Fprintln(w, "# subkit fake is serving") // the last line: a program reading these knows it has them all
}

// addWebhooks adds the -webhook endpoints, all signed with the secret of
// the environment or one drawn here, which it returns when it drew it (to
// be printed; one from the environment is not).
func (c *fakeConfig) addWebhooks(srv *subkittest.Server) (string, error) {
	if len(c.webhooks) == 0 {
		return "", nil
	}
	secret, drawn := os.Getenv(webhookSecretVar), false
	if secret == "" {
		secret, drawn = subkittest.NewPolarWebhookSecret(), true
	}
	if _, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_")); err != nil {
		return "", fmt.Errorf("%s: want whsec_ and base64, as Polar's secrets are", webhookSecretVar) // never the secret itself
	}
	for _, u := range c.webhooks {
		srv.AddPolarWebhook(subkittest.PolarWebhook{URL: u, Secret: secret, TimeScale: c.webhookScale})
	}
	if drawn {
		return secret, nil
	}
	return "", nil
}

// describeFake says on stderr what the fake serves and how to use it.
func describeFake(w io.Writer, base string, c *fakeConfig, loaded int, seeded string, addr net.Addr) {
	fmt.Fprintf(w, "subkit fake: serving ChatDash, Chargeflow and Polar at %s\n", base)
	if tcp, ok := addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		fmt.Fprintf(w, "subkit fake: listening on %s: reachable from other machines\n", addr)
	}
	switch {
	case c.state != "" && loaded >= 0:
		fmt.Fprintf(w, "subkit fake: state from %s: %d subscription(s)\n", c.state, loaded)
	case c.state != "":
		fmt.Fprintf(w, "subkit fake: no %s yet: starting empty, saving there\n", c.state)
	}
	if seeded != "" {
		fmt.Fprintf(w, "subkit fake: seeded %s\n", seeded)
	}
	if c.implicit {
		fmt.Fprintln(w, "subkit fake: -implicit: every well-formed ID names an existing object")
	}
	for _, u := range c.webhooks {
		fmt.Fprintf(w, "subkit fake: Polar's webhook events of what it creates go to %s, signed with $%s\n", u, webhookSecretVar)
	}
	fmt.Fprintf(w, "subkit fake: try: subkit bulk -base-url %s users.csv (the fake's credentials are on stdout; subkit bulk uses them by itself)\n", base)
	fmt.Fprintf(w, "subkit fake: admin API at %s/_subkit/ with \"Authorization: Bearer $%s\"; Ctrl-C stops\n", base, adminTokenVar)
}

// shutdown stops serving: no new connection, the requests in flight
// answered within a bound; then the fake ends what it still delays
// (Delay, CommitLate faults) at once.
func shutdown(hs *http.Server, srv *subkittest.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		srv.Close()
		_ = hs.Close()
	}
	srv.Close()
}

// loadState loads path into srv and returns the number of subscriptions
// loaded, or -1 when there is no state to load.
func loadState(srv *subkittest.Server, path string) (int, error) {
	if path == "" {
		return -1, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := srv.LoadState(f); err != nil {
		return 0, err
	}
	return len(srv.PolarSubscriptions()) + len(srv.ChargeflowSubscriptions()) + len(srv.ChatDashSubscriptions()), nil
}

// saver writes the state to its file every saveEvery while it changes, and
// once more when stopped.
type saver struct {
	srv    *subkittest.Server
	path   string
	mark   string
	failed bool // the last save failed
	done   chan struct{}
	ended  chan struct{}
}

// saveEvery is how often the state is saved while it changes: a fake
// killed outright loses at most that much.
const saveEvery = time.Second

// startSaver starts saving srv's state to path (nothing when path is "").
// A state just loaded from path is not written again until it changes; a
// new one is written at the first save.
func startSaver(srv *subkittest.Server, path string, loaded bool, stderr io.Writer) *saver {
	s := &saver{srv: srv, path: path, done: make(chan struct{}), ended: make(chan struct{})}
	if loaded {
		s.mark = srv.StateMark()
	}
	if path == "" {
		close(s.ended)
		return s
	}
	go func() {
		defer close(s.ended)
		t := time.NewTicker(saveEvery)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				if err := s.save(); err != nil {
					fmt.Fprintf(stderr, "subkit fake: -state %s: saving: %v\n", path, err)
				}
			}
		}
	}()
	return s
}

// stop ends the periodic saves and saves a last time.
func (s *saver) stop() error {
	if s.path == "" {
		return nil
	}
	close(s.done)
	<-s.ended
	err := s.save()
	s.failed = err != nil
	return err
}

// save writes the state when it changed since the last save, to a file
// beside path that replaces it whole: a crash mid-save leaves the last
// state, never half of one.
func (s *saver) save() error {
	mark := s.srv.StateMark()
	if mark == s.mark {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), "."+filepath.Base(s.path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if err := s.srv.SaveState(tmp); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return err
	}
	s.mark = mark
	return nil
}

// lagFlag is -read-lag api=MIN[-MAX], repeatable.
type lagFlag map[subkit.API]lagRange

type lagRange struct{ min, max time.Duration }

func (l lagFlag) String() string { return "" }

func (l lagFlag) Set(v string) error {
	api, spec, err := perAPI(v, "MIN[-MAX]")
	if err != nil {
		return err
	}
	lo, hi, ranged := strings.Cut(spec, "-")
	minLag, err1 := time.ParseDuration(strings.TrimSpace(lo))
	maxLag, err2 := minLag, error(nil)
	if ranged {
		maxLag, err2 = time.ParseDuration(strings.TrimSpace(hi))
	}
	if err1 != nil || err2 != nil || minLag < 0 || maxLag < minLag {
		return fmt.Errorf("want MIN[-MAX], durations with 0 ≤ MIN ≤ MAX such as 200ms-1s, got %q", clip(spec, 100))
	}
	l[api] = lagRange{minLag, maxLag}
	return nil
}

// perAPI reads a flag value API=SETTING, and returns the API and the
// setting; form names the setting's form in the error.
func perAPI(v, form string) (subkit.API, string, error) {
	name, setting, ok := strings.Cut(v, "=")
	api, known := apiNamed(name)
	if !ok || !known {
		return "", "", fmt.Errorf("want API=%s with API polar, chargeflow or chatdash, got %q", form, clip(v, 100))
	}
	return api, setting, nil
}

// apiNamed reads an API's name as the flags take it.
func apiNamed(name string) (subkit.API, bool) {
	api := subkit.API(strings.ToLower(strings.TrimSpace(name)))
	_, known := api.Info()
	return api, known
}
