// Command webhooks receives Polar's webhooks with subkit's webhook package,
// on the fake APIs:
//
//	go run ./examples/webhooks
//
// Two processes of a fleet receive the endpoint's events behind one load
// balancer, sharing one idempotency store (a MemoryStore here; Redis or SQL
// across machines). The fake creates subscriptions and delivers their
// events — created, active, updated — signed, retried, and as unkindly as a
// test asks: each event of one create twice at once, and, while the
// receiver is down, every event of another until Polar gives up and
// disables the endpoint. Each event still reaches the handler once: the
// duplicates are answered 200 without it, and after the downtime a
// catch-up (client.Webhooks.CatchUp) has Polar send the missed ones
// again.
//
// With -listen it serves the same handler for the real Polar instead, with
// the secrets in POLAR_WEBHOOK_SECRET (comma-separated: the new one first
// while a rotation is under way):
//
//	POLAR_WEBHOOK_SECRET=whsec_… go run ./examples/webhooks -listen :8080
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

func main() {
	listen := flag.String("listen", "", "serve the handler on `ADDR` for Polar, with the secrets in POLAR_WEBHOOK_SECRET")
	flag.Parse()
	if *listen != "" {
		log.Fatal(serve(*listen))
	}
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webhooks:", err)
		os.Exit(1)
	}
}

// access is the application: whether each subscription's customer may use
// the product, kept from the subscription events the handler is handed.
type access struct {
	mu      sync.Mutex
	granted map[string]bool
	events  int
}

// handle is the handler's fn: it runs once per event, and never with an
// older state of a subscription after a newer one. An error makes Polar
// deliver the event again.
func (a *access) handle(_ context.Context, ev *webhook.Event) error {
	if !ev.IsSubscription() {
		return nil // orders, customers, …: not this application's
	}
	sub, err := ev.Subscription()
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events++
	switch ev.Type {
	case webhook.SubscriptionRevoked:
		a.granted[sub.ID] = false // access ends now
	case webhook.SubscriptionCanceled:
		// Not the end: access goes on until sub.EndsAt, when Polar revokes
		// the subscription.
	default:
		a.granted[sub.ID] = sub.Status == subkit.SubscriptionStatusActive || sub.Status == subkit.SubscriptionStatusTrialing
	}
	return nil
}

// serve receives the real Polar's webhooks on addr.
func serve(addr string) error {
	secrets := strings.Split(os.Getenv("POLAR_WEBHOOK_SECRET"), ",")
	rcv, err := webhook.NewPolarReceiver(secrets)
	if err != nil {
		return err
	}
	app := &access{granted: map[string]bool{}}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// One process: a MemoryStore. A fleet shares subkitredis.NewStore or
	// subkitsql.NewStore, the same store its subkit Clients use.
	http.Handle("POST /webhooks/polar", rcv.Handler(app.handle, webhook.WithDedupe(subkit.NewMemoryStore()), webhook.WithLogger(logger)))
	log.Printf("receiving Polar's webhooks on %s/webhooks/polar", addr)
	return http.ListenAndServe(addr, nil)
}

func run(w io.Writer) error {
	secret := subkittest.NewPolarWebhookSecret() // the endpoint's secret, as Polar shows it
	store := subkit.NewMemoryStore()             // shared by the fleet: its receivers and its Clients
	app := &access{granted: map[string]bool{}}

	// Two processes, each its own Receiver and Handler, one store.
	var procs []http.Handler
	for range 2 {
		rcv, err := webhook.NewPolarReceiver([]string{secret})
		if err != nil {
			return err
		}
		procs = append(procs, rcv.Handler(app.handle, webhook.WithDedupe(store)))
	}
	// The load balancer: round robin, and down when asked. It counts the
	// deliveries answered without running the handler.
	var next, duplicates atomic.Int64
	var down atomic.Bool
	lb := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(rw, "no backend", http.StatusBadGateway)
			return
		}
		rec := httptest.NewRecorder()
		procs[next.Add(1)%2].ServeHTTP(rec, r)
		if strings.HasPrefix(rec.Body.String(), "duplicate") {
			duplicates.Add(1)
		}
		for k, v := range rec.Header() {
			rw.Header()[k] = v
		}
		rw.WriteHeader(rec.Code)
		_, _ = rw.Write(rec.Body.Bytes())
	}))
	defer lb.Close()

	// The fake Polar, delivering to the load balancer a thousand times
	// faster than Polar's own retry schedule.
	srv := subkittest.NewServer(subkittest.WithPolarWebhook(subkittest.PolarWebhook{URL: lb.URL, Secret: secret,
		TimeScale: 0.001, Timeout: 5 * time.Second}))
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{Name: "Ada"})
	client, err := srv.Client(subkit.WithIdempotencyStore(store))
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	ctx := context.Background()
	create := func(key string) (*subkit.Subscription, error) {
		return client.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer},
			subkit.WithIdempotencyKey(key))
	}
	settle := func() error {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		return srv.WaitPolarWebhooks(wctx)
	}

	first, err := create("order-1")
	if err != nil {
		return err
	}
	if err := settle(); err != nil {
		return err
	}
	fmt.Fprintf(w, "1. created %s: its 3 events delivered and handled\n", first.ID)

	srv.InjectWebhookFault(subkittest.WebhookDuplicate(2))
	second, err := create("order-2")
	if err != nil {
		return err
	}
	if err := settle(); err != nil {
		return err
	}
	fmt.Fprintf(w, "2. created %s: each event delivered twice at once; %d duplicate(s) answered 200 without the handler\n", second.ID, duplicates.Load())

	since := time.Now().Add(-time.Minute)
	down.Store(true)
	var missed []string
	for i := range 4 {
		sub, err := create(fmt.Sprintf("order-%d", 3+i))
		if err != nil {
			return err
		}
		missed = append(missed, sub.ID)
	}
	if err := settle(); err != nil {
		return err
	}
	ep := srv.PolarWebhookEndpoints()[0]
	fmt.Fprintf(w, "3. created %d more while the receiver was down: Polar gave their events up; endpoint enabled: %v\n", len(missed), ep.Enabled)

	down.Store(false)
	srv.SetPolarWebhookEnabled(ep.ID, true) // in Polar's dashboard, or PATCH /v1/webhooks/endpoints/{id}
	res, err := client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{Since: since})
	if err != nil {
		return err
	}
	if err := settle(); err != nil {
		return err
	}
	fmt.Fprintf(w, "4. caught up: %d failed deliveries, %d events redelivered\n", res.FailedDeliveries, len(res.Redelivered))

	app.mu.Lock()
	defer app.mu.Unlock()
	granted := 0
	for _, ok := range app.granted {
		if ok {
			granted++
		}
	}
	fmt.Fprintf(w, "the handler ran %d times for %d subscriptions; %d have access\n", app.events, len(app.granted), granted)
	if app.events != 3*6 || granted != 6 {
		return errors.New("each event should reach the handler exactly once")
	}
	return nil
}
