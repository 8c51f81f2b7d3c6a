package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit/internal/chaos"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Resource bounds: what a hostile or broken server can make the SDK spend.

// relPolarParams is a valid Polar create for the fakes.
func relPolarParams() *subkit.CustomerSubscriptionParams {
	return &subkit.CustomerSubscriptionParams{ProductID: productID, CustomerID: customerID}
}

// TestOversizedAnswerIsRefusedWithinAMemoryBound sends a 64 MiB success body,
// with its Content-Length and chunked, and measures what the call allocates
// in all (runtime.MemStats.TotalAlloc). The SDK reads at most 4 MiB of a
// body, so a call must stay far below the body's size; the bound is a memory
// bound, not a timing one.
func TestOversizedAnswerIsRefusedWithinAMemoryBound(t *testing.T) {
	const size = 64 << 20
	const bound = 8 << 20
	for _, declared := range []bool{true, false} {
		name := "chunked"
		if declared {
			name = "Content-Length"
		}
		t.Run(name, func(t *testing.T) {
			srv := subkittest.NewServer(subkittest.WithImplicitResources())
			defer srv.Close()
			c, err := srv.Client(subkit.WithTimeout(30 * time.Second))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			// Warm up: the first call allocates the connection and the
			// transport's buffers, which are not the body's doing.
			if _, err := c.Subscriptions.CreateForCustomer(context.Background(), relPolarParams()); err != nil {
				t.Fatal(err)
			}
			srv.InjectFault(subkit.Polar, 1, subkittest.OversizedBody(size, declared).On(subkittest.OpCreate))

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = c.Subscriptions.CreateForCustomer(context.Background(), relPolarParams())
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc

			var ae *subkit.APIError
			if !errors.As(err, &ae) || ae.StatusCode != http.StatusCreated || !errors.Is(err, subkit.ErrOutcomeUnknown) {
				t.Fatalf("error %v: want an *APIError 201 matching ErrOutcomeUnknown", err)
			}
			if !strings.Contains(err.Error(), "larger than") {
				t.Errorf("error %q does not say the body was too large", err)
			}
			if len(ae.Body) != 0 {
				t.Errorf("APIError.Body holds %d bytes of a refused body", len(ae.Body))
			}
			t.Logf("64 MiB body (%s): refused after allocating %d bytes (%.2f MiB) in all", name, alloc, float64(alloc)/(1<<20))
			if alloc > bound {
				t.Errorf("refusing a %d-byte body allocated %d bytes, want at most %d", size, alloc, bound)
			}
			if got := len(srv.PolarSubscriptions()); got != 2 {
				t.Errorf("server holds %d subscriptions, want 2 (the create was applied; only its answer was lost)", got)
			}
		})
	}
}

// connCounter counts a test server's connections by state.
type connCounter struct {
	mu       sync.Mutex
	opened   int
	maxConns int
	open     map[net.Conn]bool
}

func (cc *connCounter) track(c net.Conn, s http.ConnState) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.open == nil {
		cc.open = map[net.Conn]bool{}
	}
	switch s {
	case http.StateNew:
		cc.opened++
		cc.open[c] = true
		cc.maxConns = max(cc.maxConns, len(cc.open))
	case http.StateClosed, http.StateHijacked:
		delete(cc.open, c)
	}
}

func (cc *connCounter) snapshot() (opened, open, maxConns int) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return cc.opened, len(cc.open), cc.maxConns
}

// settleGoroutines waits until the number of goroutines is at most want, and
// returns the last count.
func settleGoroutines(want int, limit time.Duration) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(limit); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// TestTenThousandCallsLeaveNoGrowth makes 10,000 sequential calls, successes
// and every kind of refusal mixed, through the SDK's default transport, and
// counts the server's connections and the process's goroutines: one
// connection carries every call (bodies are drained and closed, so it is
// always reused), and nothing is left behind once idle connections close.
func TestTenThousandCallsLeaveNoGrowth(t *testing.T) {
	const calls = 10000
	created := fixtureBytes(t, "chargeflow-create-subscription.json")
	var n int
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch i % 8 {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Too Many Requests"}`))
		case 3:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message":"Invalid request body: frequency must be one of day, week, month, year"}`))
		case 5:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("<html><body>upstream connect error</body></html>"))
		case 7:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"Dispute not found"}`))
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(created)
		}
	})
	ts := httptest.NewUnstartedServer(h)
	var cc connCounter
	ts.Config.ConnState = cc.track
	ts.Start()
	defer ts.Close()

	runtime.GC()
	baseline := runtime.NumGoroutine()
	c, err := subkit.New(subkit.WithChargeflowKey(testCFKey), subkit.WithBaseURL(subkit.Chargeflow, ts.URL),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	params := minimalDisputeParams()
	kinds := map[string]int{}
	start := time.Now()
	for range calls {
		_, err := c.Subscriptions.CreateForDispute(context.Background(), disputeID, params)
		kinds[relOutcome(err)]++
	}
	elapsed := time.Since(start)
	opened, open, maxConns := cc.snapshot()
	during := runtime.NumGoroutine()
	c.CloseIdleConnections()
	deadline := time.Now().Add(5 * time.Second)
	for open > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		_, open, _ = cc.snapshot()
	}
	after := settleGoroutines(baseline, 5*time.Second)
	t.Logf("%d calls in %v (%v); server: %d connection(s) opened, at most %d at once, %d open after CloseIdleConnections; goroutines: %d before, %d after the calls (idle connection kept), %d after CloseIdleConnections",
		calls, elapsed.Round(time.Millisecond), chaos.Counts(kinds), opened, maxConns, open, baseline, during, after)
	// One connection serves them all on a quiet machine. Under load the next
	// call can start before net/http has put the last one back in its idle
	// pool, and dials: a few. A body left unread or unclosed stops reuse for
	// every call of its kind (thousands here): at most one in a hundred.
	if opened > calls/100 {
		t.Errorf("%d connections opened for %d sequential calls, want at most %d (a body left unread or unclosed stops reuse)", opened, calls, calls/100)
	}
	if open != 0 {
		t.Errorf("%d connections still open after CloseIdleConnections", open)
	}
	// One idle connection is a few goroutines (the client's read and write
	// loops, the server's connection); a leak per call would be thousands.
	if during > baseline+8 {
		t.Errorf("%d goroutines after the calls, %d before: more than one idle connection's worth", during, baseline)
	}
	if after > baseline {
		t.Errorf("%d goroutines after CloseIdleConnections, %d before", after, baseline)
	}
	for _, k := range []string{"created", "rejected", "unknown", "not_found"} {
		if kinds[k] == 0 {
			t.Errorf("no call ended %s: %v", k, chaos.Counts(kinds))
		}
	}
	if len(kinds) != 4 {
		t.Errorf("unexpected outcomes: %v", chaos.Counts(kinds))
	}
}

// relOutcome names how a call ended, for tallies.
func relOutcome(err error) string {
	switch {
	case err == nil:
		return "created"
	case errors.Is(err, subkit.ErrOutcomeUnknown):
		return "unknown"
	case errors.Is(err, subkit.ErrRejected):
		return "rejected"
	case errors.Is(err, subkit.ErrNotFound):
		return "not_found"
	case errors.Is(err, subkit.ErrRateLimited):
		return "rate_limited"
	}
	return fmt.Sprintf("other (%v)", err)
}

func fixtureBytes(t *testing.T, name string) []byte {
	t.Helper()
	return []byte(fixture(t, name))
}

// TestBodyLimitBoundary reads success bodies of exactly the limit (4 MiB)
// and one byte more, declared and chunked, and a body cut short of its
// Content-Length, over real sockets.
func TestBodyLimitBoundary(t *testing.T) {
	const limit = 4 << 20
	fx := strings.TrimSpace(fixture(t, "chatdash-create-subscription.json"))
	padded := func(n int) []byte { return []byte(fx + strings.Repeat(" ", n-len(fx))) }
	cases := []struct {
		name     string
		body     []byte
		declared bool
		cut      bool // declare the whole body, send half of it, hang up
		want     string
	}{
		{"limit, Content-Length", padded(limit), true, false, "ok"},
		{"limit, chunked", padded(limit), false, false, "ok"},
		{"limit+1, Content-Length", padded(limit + 1), true, false, "larger than"},
		{"limit+1, chunked", padded(limit + 1), false, false, "larger than"},
		{"cut short of its Content-Length", padded(64 << 10), true, true, "reading the body"},
		{"chunked, cut short", padded(64 << 10), false, true, "reading the body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tc.declared {
					w.Header().Set("Content-Length", fmt.Sprint(len(tc.body)))
				}
				w.WriteHeader(http.StatusOK)
				if tc.cut {
					_, _ = w.Write(tc.body[:len(tc.body)/2])
					w.(http.Flusher).Flush()
					panic(http.ErrAbortHandler) // closes the connection mid-body
				}
				_, _ = w.Write(tc.body)
			}))
			defer ts.Close()
			c, err := subkit.New(subkit.WithAgencyKey(testAgencyKey), subkit.WithBaseURL(subkit.ChatDash, ts.URL))
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			sub, err := c.Subscriptions.CreateConnect(context.Background(), chatdashAccount, fullConnectParams())
			if tc.want == "ok" {
				if err != nil || sub.ID != "sub_sched_1ABC123DEF456GHI" {
					t.Fatalf("got %+v, %v", sub, err)
				}
				return
			}
			var ae *subkit.APIError
			if !errors.As(err, &ae) || ae.StatusCode != 200 || !errors.Is(err, subkit.ErrOutcomeUnknown) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v: want an *APIError 200, ErrOutcomeUnknown, %q", err, tc.want)
			}
		})
	}
}
