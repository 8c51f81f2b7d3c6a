package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

func main() {
	// go-redis logs its connection pool's troubles (a refused dial, four
	// times over) on stderr by default, through a logger of its own that
	// only this process-wide setting reaches; its errors, which the command
	// reports itself, say the same. The command is the process: it decides.
	redis.SetLogger(silentLogger{})
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// silentLogger drops go-redis's log lines.
type silentLogger struct{}

func (silentLogger) Printf(context.Context, string, ...any) {}

const usage = `usage: subkit <command> [flags]

commands:
  fake     serve fake ChatDash, Chargeflow and Polar APIs on a port, which
           runs, processes and programs in any language can share
  bulk     make many subscription creates from a CSV or JSON Lines file,
           exactly once, resumable
  webhooks catch-up: have Polar send again the webhook events a receiver
           missed while it was down
  version  print subkit's version

"subkit <command> -h" describes a command and its flags.
`

// run is the command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "bulk":
		return runBulk(args[1:], stdin, stdout, stderr)
	case "fake":
		return runFake(args[1:], stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "subkit %s (%s, %s/%s)\n", subkit.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "webhooks":
		return runWebhooks(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "subkit: unknown command %q\n%s", clip(args[0], 100), usage)
	return exitUsage
}

// stopGrace is how long a create already on its way may run on after
// Ctrl-C: the fake and the real APIs answer well within it, and Ctrl-C
// returns soon after whatever a server does (bulk.Options.StopGrace).
const stopGrace = time.Second

func runBulk(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The signals are caught first, so that a Ctrl-C at any moment stops the
	// run cleanly: before the run starts, every line is reported not
	// attempted.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	c, code := parseFlags(args, stdout, stderr)
	if c == nil {
		return code
	}
	format, err := formatOf(c.format, c.input)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
		return exitUsage
	}
	data, err := readInput(c.input, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %v\n", err)
		return exitUsage
	}
	s := &schema{keyColumn: c.key, keyPrefix: c.keyPrefix, create: c.create, defaults: c.set}
	sc, err := c.scan(format, data, s)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: %s: %v; nothing was sent\n", clip(c.input, 200), err)
		return exitUsage
	}
	if len(sc.unknownColumns) > 0 {
		fmt.Fprintf(stderr, "subkit bulk: ignoring column(s) nothing reads: %s\n", clip(fmt.Sprint(sc.unknownColumns), 500))
	}
	out, closeOut, err := openReport(c.report, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: -report: %v\n", err)
		return exitUsage
	}
	defer closeOut()
	e, code := c.connect(ctx, sc, stderr)
	if e == nil {
		return code
	}
	defer e.close()

	disp := newDisplay(c.progress, c.progressEvery, stderr)
	rep := newReport(out)
	ls := &lines{sc: sc, made: map[string]int{}}
	counts := map[bulk.Outcome]int{}
	otherShards := 0
	start := time.Now()
	items := c.itemsOf(format, data, s, &otherShards)
	// The resume rule's wait is needed only where the store cannot vouch
	// for earlier runs: a store that outlives the run holds every create an
	// earlier run with it sent, and a built-in fake is new, so no earlier
	// run sent it anything.
	remembers := e.shared.remembers || e.fake != nil
	for res := range bulk.Run(ctx, e.client, items, bulk.Options{Concurrency: c.concurrency, Total: sc.items,
		SettleTime: c.settle, StoreRemembersEarlierRuns: remembers, ProgressInterval: reportEvery, StopGrace: stopGrace, Progress: func(p bulk.Progress) {
			_ = rep.flush() // the report so far is on disk should the process die
			disp.show(p)
		}}) {
		counts[res.Outcome]++
		rep.write(ls.of(res))
	}
	sum := newSummary(counts, e, otherShards, time.Since(start), ctx.Err() != nil)
	if err := rep.flush(); err != nil {
		fmt.Fprintf(stderr, "subkit bulk: writing the report: %v\n", err)
		sum.ExitCode = exitUsage
	}
	fmt.Fprintf(stderr, "subkit bulk: %s\n", sum)
	if c.summary != "" {
		if err := writeSummary(c.summary, sum); err != nil {
			fmt.Fprintf(stderr, "subkit bulk: -summary: %v\n", err)
			return exitUsage
		}
	}
	return sum.ExitCode
}

// readInput reads the whole input: it is read twice, once to check it as a
// whole and count the items, once to make them.
func readInput(path string, stdin io.Reader) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(path)
}

func openReport(path string, stdout io.Writer) (io.Writer, func(), error) {
	if path == "-" {
		return stdout, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}

func writeSummary(path string, s *summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
