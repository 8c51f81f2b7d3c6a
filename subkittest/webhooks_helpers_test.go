package subkittest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// hookReceiver is a user's webhook endpoint: subkit's webhook Handler with
// a de-duplicating store, on a loopback server, recording what arrived and
// what reached fn. While down it closes every connection unanswered.
type hookReceiver struct {
	srv  *httptest.Server
	down atomic.Bool
	// loseAnswers handles each delivery and then closes the connection
	// unanswered: the work is done, and Polar sees a failure.
	loseAnswers atomic.Bool
	handler     atomic.Pointer[http.Handler]
	store       *subkit.MemoryStore
	// fail, when set, decides fn's error.
	fail func(ev *webhook.Event) error

	mu       sync.Mutex
	arrivals []arrival
	handled  []*webhook.Event
}

// arrival is one delivery as the receiver answered it.
type arrival struct {
	id     string
	status int
}

func newHookReceiver(t *testing.T, secrets ...string) *hookReceiver {
	t.Helper()
	hr := &hookReceiver{store: subkit.NewMemoryStore()}
	hr.rekey(t, secrets...)
	hr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if hr.down.Load() {
			panic(http.ErrAbortHandler) // the connection closes with no answer
		}
		sw := &statusWriter{ResponseWriter: w, lose: hr.loseAnswers.Load()}
		(*hr.handler.Load()).ServeHTTP(sw, req)
		hr.mu.Lock()
		hr.arrivals = append(hr.arrivals, arrival{id: req.Header.Get("webhook-id"), status: sw.status})
		hr.mu.Unlock()
		if sw.lose {
			panic(http.ErrAbortHandler)
		}
	}))
	t.Cleanup(hr.srv.Close)
	return hr
}

// rekey makes the receiver hold secrets from now on, as a deployment
// with a new configuration does; what it handled is kept.
func (hr *hookReceiver) rekey(t *testing.T, secrets ...string) {
	t.Helper()
	r, err := webhook.NewPolarReceiver(secrets)
	require.NoError(t, err)
	h := r.Handler(func(_ context.Context, ev *webhook.Event) error {
		if hr.fail != nil {
			if err := hr.fail(ev); err != nil {
				return err
			}
		}
		hr.mu.Lock()
		defer hr.mu.Unlock()
		hr.handled = append(hr.handled, ev)
		return nil
	}, webhook.WithDedupe(hr.store))
	hr.handler.Store(&h)
}

// statusWriter notes the status written; with lose set it writes nothing.
type statusWriter struct {
	http.ResponseWriter
	status int
	lose   bool
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	if !w.lose {
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.lose {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// events returns the events fn was handed, in order.
func (hr *hookReceiver) events() []*webhook.Event {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return append([]*webhook.Event(nil), hr.handled...)
}

func (hr *hookReceiver) answered() []arrival {
	hr.mu.Lock()
	defer hr.mu.Unlock()
	return append([]arrival(nil), hr.arrivals...)
}

// fast is a delivery schedule for tests: a thousandth of Polar's delays
// (the ten attempts in 1–2 s), with a timeout a busy machine always meets.
func fast(url, secret string) subkittest.PolarWebhook {
	return subkittest.PolarWebhook{URL: url, Secret: secret, TimeScale: 0.001, Timeout: 10 * time.Second}
}

// polarFake is a fake with one product and one customer, delivering to w.
type polarFake struct {
	srv               *subkittest.Server
	client            *subkit.Client
	product, customer string
}

func newPolarFake(t *testing.T, opts ...subkittest.ServerOption) *polarFake {
	t.Helper()
	srv := subkittest.NewServer(opts...)
	t.Cleanup(srv.Close)
	client, err := srv.Client()
	require.NoError(t, err)
	t.Cleanup(client.CloseIdleConnections)
	return &polarFake{srv: srv, client: client,
		product:  srv.AddPolarProduct(subkittest.PolarProduct{Name: "Free"}),
		customer: srv.AddPolarCustomer(subkittest.PolarCustomer{})}
}

// create makes a subscription, under key when it is not "".
func (f *polarFake) create(t *testing.T, key string) *subkit.Subscription {
	t.Helper()
	var opts []subkit.CallOption
	if key != "" {
		opts = append(opts, subkit.WithIdempotencyKey(key))
	}
	sub, err := f.client.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer}, opts...)
	require.NoError(t, err)
	return sub
}

// wait waits until the fake has no delivery in flight or scheduled.
func (f *polarFake) wait(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, f.srv.WaitPolarWebhooks(ctx))
}

// typesBySubscription groups the types fn was handed by subscription, in
// the order fn got them.
func typesBySubscription(t *testing.T, evs []*webhook.Event) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, ev := range evs {
		sub, err := ev.Subscription()
		require.NoError(t, err)
		out[sub.ID] = append(out[sub.ID], ev.Type)
	}
	return out
}
