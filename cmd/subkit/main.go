package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/subkit-go/subkit/bulk"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

const usage = `usage: subkit <command> [flags]

commands:
  bulk    make many subscription creates from a CSV or JSON Lines file, exactly once, resumable

"subkit bulk -h" describes its flags.
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
	case "webhooks":
		return runWebhooks(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "subkit: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func runBulk(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c, code := parseFlags(args, stderr)
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
		fmt.Fprintf(stderr, "subkit bulk: %s: %v\n", c.input, err)
		return exitUsage
	}
	if len(sc.unknownColumns) > 0 {
		fmt.Fprintf(stderr, "subkit bulk: ignoring column(s) nothing reads: %v\n", sc.unknownColumns)
	}
	out, closeOut, err := openReport(c.report, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "subkit bulk: -report: %v\n", err)
		return exitUsage
	}
	defer closeOut()
	e, code := c.connect(sc, stderr)
	if e == nil {
		return code
	}
	defer e.close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	disp := newDisplay(c.progress, c.progressEvery, stderr, sc.items)
	rep := newReport(out)
	counts := map[bulk.Outcome]int{}
	otherShards := 0
	start := time.Now()
	items := c.itemsOf(format, data, s, &otherShards)
	for res := range bulk.Run(ctx, e.client, items, bulk.Options{Concurrency: c.concurrency, Total: sc.items,
		SettleTime: c.settle, ProgressInterval: disp.interval(), Progress: func(p bulk.Progress) {
			disp.show(p)
			_ = rep.flush() // the report so far is on disk should the process die
		}}) {
		counts[res.Outcome]++
		rep.write(res)
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

// readInput reads the whole input: it is read twice, once to count the
// items and find what they name, once to make them.
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
