// Package exampletest runs an example's run function the way its main does
// and checks what it printed and returned, so that CI proves the examples
// work. Every run that reaches the fake prints, through setup.Env.PrintFake,
// what the fake received and holds: the checks read the server's side there.
package exampletest

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// RunFunc is an example's run: its arguments, where it writes, its exit
// status.
type RunFunc func(args []string, stdout, stderr io.Writer) int

// Case is one run of an example and what it must show.
type Case struct {
	Args []string
	// Env is set (t.Setenv) for the run; such a case does not run in
	// parallel with the others.
	Env map[string]string
	// Status is the exit status the run must return.
	Status int
	// Stdout and Stderr list text each must contain.
	Stdout, Stderr []string
	// Fake lists the fake's lines, one for each API the example calls, e.g.
	// "Polar received 2 request(s) and holds 1 subscription(s)". The IDs
	// they hold must also be named elsewhere in stdout: what the example
	// created, or its look-up found, is what the fake holds.
	Fake []string
}

// Run runs each case in its own subtest, then checks that no goroutine
// outlived them: an example closes its client and its fake.
func Run(t *testing.T, run RunFunc, cases map[string]Case) {
	t.Helper()
	t.Run("cases", func(t *testing.T) {
		for name, c := range cases {
			t.Run(name, func(t *testing.T) {
				for k, v := range c.Env {
					t.Setenv(k, v)
				}
				if len(c.Env) == 0 {
					t.Parallel()
				}
				c.check(t, run)
			})
		}
	})
	goleak.VerifyNone(t)
}

var fakeLine = regexp.MustCompile(`(?m)^fake: +(.*) \[(.*)\]$`)

func (c Case) check(t *testing.T, run RunFunc) {
	t.Helper()
	var stdout, stderr strings.Builder
	status := run(c.Args, &stdout, &stderr)
	out := stdout.String()
	report := fmt.Sprintf("run %q: status %d\nstdout:\n%s\nstderr:\n%s", c.Args, status, out, stderr.String())
	if status != c.Status {
		t.Errorf("exit status %d, want %d", status, c.Status)
	}
	for _, want := range c.Stdout {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	for _, want := range c.Stderr {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	lines := fakeLine.FindAllStringSubmatch(out, -1)
	if len(lines) != len(c.Fake) {
		t.Errorf("%d lines of the fake, want %d", len(lines), len(c.Fake))
	}
	for i, m := range lines[:min(len(lines), len(c.Fake))] {
		if m[1] != c.Fake[i] {
			t.Errorf("the fake's line is %q, want %q", m[1], c.Fake[i])
		}
		for _, id := range strings.Fields(m[2]) {
			if strings.Count(out, id) < 2 {
				t.Errorf("the fake holds %s, which the example did not name", id)
			}
		}
	}
	if t.Failed() {
		t.Log(report)
	}
}
