// Package chaos holds what the randomised reliability suites of every module
// share (the root package's chaos runs, the fleet runs on each store): the
// seed and size switches read from the environment, per-call fixtures, how
// an outcome is named in a tally, the exactly-once faults, the fleet run
// itself on any idempotency store (RunFleet) and the keyed-create benchmark
// (BenchKeyedCreate). It is for tests only.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

// Seed is the seed of a randomised run: SUBKIT_CHAOS_SEED when set (to
// replay a failure the log printed), else the clock.
func Seed(t testing.TB) uint64 {
	t.Helper()
	if v := os.Getenv("SUBKIT_CHAOS_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SUBKIT_CHAOS_SEED=%q: %v", v, err)
		}
		return s
	}
	return uint64(time.Now().UnixNano())
}

// EnvInt is the positive integer in the environment variable name, or def
// when it is unset.
func EnvInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// Dispute is a dispute ID of its own for call i: Chargeflow keeps one
// subscription per dispute, and a second create would replace the first.
func Dispute(i int) string { return fmt.Sprintf("c4a05%019x", i) }

// ErrorKind names an error by the sentinels and causes it matches.
func ErrorKind(err error) string {
	var kinds []string
	for _, s := range []struct {
		name string
		err  error
	}{
		{"unknown", subkit.ErrOutcomeUnknown}, {"rate_limited", subkit.ErrRateLimited}, {"server", subkit.ErrServer},
		{"rejected", subkit.ErrRejected}, {"not_found", subkit.ErrNotFound}, {"deadline", context.DeadlineExceeded},
		{"store", subkit.ErrStoreUnavailable}, {"lease_lost", subkit.ErrLockLost}, {"not_sent", subkit.ErrNotSent},
	} {
		if errors.Is(err, s.err) {
			kinds = append(kinds, s.name)
		}
	}
	var ae *subkit.APIError
	if errors.As(err, &ae) {
		kinds = append(kinds, strconv.Itoa(ae.StatusCode))
	}
	if len(kinds) == 0 {
		return "other: " + err.Error()
	}
	return strings.Join(kinds, "+")
}

// Counts writes m as {k=v, …} in key order.
func Counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
