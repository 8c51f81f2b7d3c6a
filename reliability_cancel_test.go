package subkit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// Cancellation at every phase of a call: the call returns promptly with
// context.Canceled, says ErrOutcomeUnknown exactly when the create may have
// happened, and leaves no goroutine behind. How long each cancellation took
// to return is logged; the only timing assertion is a generous bound that
// catches a hang.

const cancelHangBound = 2 * time.Second

// cancelPhase is one phase a call can be cancelled in.
type cancelPhase struct {
	name string
	// unknown: the create may have happened by the time of the cancel.
	unknown bool
	// run starts the call with ctx, in a world it sets up, and returns a
	// function that blocks until the call is in the phase (reached), the
	// call itself (call), what the server then holds (held), and a cleanup.
	run func(t *testing.T) (reached func(), call func(ctx context.Context) error, held func() int, cleanup func())
}

// waitFor polls cond until it holds or the hang bound passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the call never reached %s", what)
		}
	}
}

// fakeCancelWorld is a subkittest server with one fault queued, and a client
// for it under policy.
func fakeCancelWorld(t *testing.T, api subkit.API, f subkittest.Fault, policy subkit.RetryPolicy) (*subkittest.Server, *subkit.Client, func()) {
	t.Helper()
	srv := subkittest.NewServer(subkittest.WithImplicitResources())
	srv.InjectFault(api, 1, f)
	c, err := srv.Client(subkit.WithRetryPolicy(policy))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, func() { c.CloseIdleConnections(); srv.Close() }
}

// faultPlayed reports whether the server has received a request that met
// the fault named name.
func faultPlayed(srv *subkittest.Server, api subkit.API, name string) func() bool {
	return func() bool {
		for _, r := range srv.Requests(api) {
			if r.Fault == name {
				return true
			}
		}
		return false
	}
}

func polarCreate(c *subkit.Client, opts ...subkit.CallOption) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.Subscriptions.CreateForCustomer(ctx, relPolarParams(), opts...)
		return err
	}
}

func cancelPhases() []cancelPhase {
	fast := subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}
	return []cancelPhase{
		{
			name: "before sending (context already cancelled)",
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				srv, c, cleanup := fakeCancelWorld(t, subkit.Polar, subkittest.Delay(0), fast)
				return func() {}, polarCreate(c), func() int { return len(srv.Requests(subkit.Polar)) }, cleanup
			},
		},
		{
			name: "before sending (while connecting)",
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				srv := subkittest.NewServer(subkittest.WithImplicitResources())
				dialing := make(chan struct{}, 1)
				stop := make(chan struct{})
				tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					// A dialer that cannot get through (a proxy, a
					// firewall dropping SYNs) until the call gives up.
					dialing <- struct{}{}
					select {
					case <-ctx.Done():
						return nil, ctx.Err()
					case <-stop:
						return nil, errors.New("test over")
					}
				}}
				c, err := srv.Client(subkit.WithRetryPolicy(fast), subkit.WithHTTPClient(&http.Client{Transport: tr}))
				if err != nil {
					t.Fatal(err)
				}
				return func() { <-dialing }, polarCreate(c), func() int { return len(srv.Requests(subkit.Polar)) },
					func() { close(stop); tr.CloseIdleConnections(); srv.Close() }
			},
		},
		{
			name: "waiting out a 429's Retry-After",
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				f := subkittest.RateLimited("30").On(subkittest.OpCreate)
				srv, c, cleanup := fakeCancelWorld(t, subkit.Polar, f, fast)
				return func() {
						waitFor(t, "the 429", faultPlayed(srv, subkit.Polar, f.String()))
						time.Sleep(20 * time.Millisecond)
					},
					polarCreate(c), func() int { return len(srv.PolarSubscriptions()) }, cleanup
			},
		},
		{
			name: "waiting for a look-up before sending (keyed create's replay)",
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				f := subkittest.Delay(time.Minute).On(subkittest.OpLookup)
				srv, c, cleanup := fakeCancelWorld(t, subkit.Polar, f, fast)
				return func() { waitFor(t, "the look-up", faultPlayed(srv, subkit.Polar, f.String())) },
					polarCreate(c, subkit.WithIdempotencyKey("order-cancel-1")), func() int { return len(srv.PolarSubscriptions()) }, cleanup
			},
		},
		{
			name:    "waiting for the answer's headers",
			unknown: true,
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				f := subkittest.Delay(time.Minute).On(subkittest.OpCreate)
				srv, c, cleanup := fakeCancelWorld(t, subkit.Polar, f, fast)
				// Delay applies the create, then holds the answer back.
				applied := func() bool { return len(srv.PolarSubscriptions()) == 1 }
				return func() { waitFor(t, "the slow answer", applied) },
					polarCreate(c), func() int { return len(srv.PolarSubscriptions()) }, cleanup
			},
		},
		{
			name:    "reading the body (half sent, then the server stalls)",
			unknown: true,
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				body := strings.TrimSpace(fixture(t, "chatdash-create-subscription.json"))
				halfSent := make(chan struct{}, 1)
				stop := make(chan struct{})
				created := 0
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					created++ // the create is applied, then its answer stalls
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Length", fmt.Sprint(len(body)))
					w.WriteHeader(http.StatusCreated)
					_, _ = w.Write([]byte(body[:len(body)/2]))
					w.(http.Flusher).Flush()
					halfSent <- struct{}{}
					select {
					case <-r.Context().Done():
					case <-stop:
					}
				}))
				c, err := subkit.New(subkit.WithAgencyKey(testAgencyKey), subkit.WithBaseURL(subkit.ChatDash, ts.URL), subkit.WithRetryPolicy(fast))
				if err != nil {
					t.Fatal(err)
				}
				call := func(ctx context.Context) error {
					_, err := c.Subscriptions.CreateConnect(ctx, chatdashAccount, fullConnectParams())
					return err
				}
				// The handler's count is read after the call returned and
				// the handler signalled, so no lock is needed.
				return func() { <-halfSent; time.Sleep(20 * time.Millisecond) }, call, func() int { return created },
					func() { close(stop); c.CloseIdleConnections(); ts.Close() }
			},
		},
		{
			name:    "settling before a look-up (keyed create after a lost answer)",
			unknown: true,
			run: func(t *testing.T) (func(), func(context.Context) error, func() int, func()) {
				f := subkittest.CloseAfterHandling().On(subkittest.OpCreate)
				p := fast
				p.SettleTime = time.Minute
				srv, c, cleanup := fakeCancelWorld(t, subkit.Polar, f, p)
				return func() {
						waitFor(t, "the lost answer", faultPlayed(srv, subkit.Polar, f.String()))
						time.Sleep(20 * time.Millisecond)
					},
					polarCreate(c, subkit.WithIdempotencyKey("order-cancel-2")), func() int { return len(srv.PolarSubscriptions()) }, cleanup
			},
		},
	}
}

func TestCancellationAtEveryPhase(t *testing.T) {
	for _, ph := range cancelPhases() {
		t.Run(ph.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			reached, call, held, cleanup := ph.run(t)
			ctx, cancel := context.WithCancel(context.Background())
			type result struct {
				err error
				at  time.Time
			}
			done := make(chan result, 1)
			preCancelled := strings.Contains(ph.name, "already cancelled")
			if preCancelled {
				cancel()
			}
			go func() {
				err := call(ctx)
				done <- result{err, time.Now()}
			}()
			reached()
			cancelledAt := time.Now()
			cancel()
			var res result
			select {
			case res = <-done:
			case <-time.After(cancelHangBound):
				cleanup()
				t.Fatalf("the call did not return within %v of its cancellation", cancelHangBound)
			}
			latency := res.at.Sub(cancelledAt)
			if preCancelled {
				latency = 0 // it never started
			}
			t.Logf("cancelled %s: returned after %v: %v", ph.name, latency, res.err)

			if !errors.Is(res.err, context.Canceled) {
				t.Errorf("error %v: want context.Canceled in its chain", res.err)
			}
			if got := errors.Is(res.err, subkit.ErrOutcomeUnknown); got != ph.unknown {
				t.Errorf("errors.Is(err, ErrOutcomeUnknown) = %v, want %v: %v", got, ph.unknown, res.err)
			}
			// The server's side: an unknown outcome here did happen (the
			// fakes apply the create before stalling); a definite failure
			// created nothing.
			want := 0
			if ph.unknown {
				want = 1
			}
			if got := held(); got != want {
				t.Errorf("the server holds %d subscriptions (or requests), want %d", got, want)
			}
			cleanup()
			goleak.VerifyNone(t, ignore)
		})
	}
}

// TestFailedCustomDialIsRetried: a dialer of the caller's (a proxy dialer, a
// custom DialContext) reports no connect events to httptrace, and its errors
// need not be *net.OpError. A dial that failed still provably sent nothing,
// so it is retried, and a call that gives up on it says the request was not
// sent.
func TestFailedCustomDialIsRetried(t *testing.T) {
	srv := subkittest.NewServer(subkittest.WithImplicitResources())
	defer srv.Close()
	var dials atomic.Int32
	var d net.Dialer
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if dials.Add(1) <= 2 {
			return nil, errors.New("proxy: upstream unavailable")
		}
		return d.DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	c, err := srv.Client(subkit.WithHTTPClient(&http.Client{Transport: tr}),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	var info subkit.ResponseInfo
	if _, err := c.Subscriptions.CreateForCustomer(context.Background(), relPolarParams(), subkit.WithResponseInfo(&info)); err != nil {
		t.Fatalf("error %v: two failed dials then a good one should succeed", err)
	}
	if info.Attempts != 3 || len(srv.PolarSubscriptions()) != 1 {
		t.Errorf("attempts %d, subscriptions %d; want 3 and 1", info.Attempts, len(srv.PolarSubscriptions()))
	}

	dials.Store(-100) // every dial fails from now on
	tr.CloseIdleConnections()
	_, err = c.Subscriptions.CreateForCustomer(context.Background(), relPolarParams(), subkit.WithResponseInfo(&info))
	if err == nil || errors.Is(err, subkit.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "not sent") || info.Attempts != 4 {
		t.Errorf("error %v after %d attempts: want a definite error after 4 attempts", err, info.Attempts)
	}
}
