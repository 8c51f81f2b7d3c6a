package exampletest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/subkit-go/subkit/examples/internal/fakefault"
)

// Faults returns a case for each fault -fault takes (fakefault.Names): the
// exit status, the fake's line for api and the meaning every per-API example
// prints for it, plus also[fault], what api's example prints besides (its
// look-up's verdict, its refusal). lookUp is the number of requests the
// example's look-up after an unknown outcome makes. A fault without an
// expectation here, or an entry of also that names no fault, fails t.
func Faults(t *testing.T, api string, lookUp int, also map[string][]string) map[string]Case {
	t.Helper()
	type expect struct {
		status         int
		requests, held int // the create's requests, and what the fake then holds
		looksUp        bool
		stdout         []string
	}
	every := map[string]expect{
		"none":            {0, 1, 1, false, []string{"1 attempt(s), outcome created"}},
		"rate-limit":      {0, 2, 1, false, []string{"2 attempt(s), outcome created"}},
		"rate-limit-long": {1, 1, 0, false, []string{"rate limited after 1 attempt(s)", "Try again in 1h0m0s."}},
		"server-error":    {1, 1, 0, true, []string{"OUTCOME UNKNOWN: the server answered 50", "finds nothing:"}},
		"reset":           {1, 1, 0, true, []string{"OUTCOME UNKNOWN: the connection broke after the request was sent", "finds nothing:"}},
		"lost-answer":     {1, 1, 1, true, []string{"OUTCOME UNKNOWN: the connection broke after the request was sent"}},
		"slow":            {1, 1, 1, true, []string{"OUTCOME UNKNOWN: the deadline passed after the request was sent"}},
		"malformed":       {1, 1, 1, true, []string{"but its body could not be read"}},
		"unauthorized":    {1, 1, 0, false, []string{"was refused"}},
		"refused":         {1, 1, 0, false, []string{"; nothing was"}},
		"invalid":         {1, 0, 0, false, []string{"invalid parameters; nothing was sent"}},
	}
	cases := map[string]Case{}
	for _, name := range fakefault.Names() {
		e, ok := every[name]
		if !ok {
			t.Fatalf("exampletest: no expectation for the fault %q", name)
		}
		if e.looksUp {
			e.requests += lookUp
		}
		cases["-fault "+name] = Case{Args: []string{"-fault", name}, Status: e.status,
			Stdout: slices.Concat(e.stdout, also[name]),
			Fake:   []string{fmt.Sprintf("%s received %d request(s) and holds %d subscription(s)", api, e.requests, e.held)}}
	}
	for name := range also {
		if _, ok := every[name]; !ok {
			t.Fatalf("exampletest: %q is not a fault", name)
		}
	}
	return cases
}
