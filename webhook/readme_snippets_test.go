// The README's webhook snippets are compiled here, not called, and assign
// values a real program would go on to use:
//lint:file-ignore U1000 compiled to check the README, never called
//lint:file-ignore SA4006 the README's snippets assign what a real program would use

package webhook_test

import (
	"context"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// What the README's handler calls: the application's own work.
func revokeAccess(context.Context, string) error                   { return nil }
func scheduleEnd(context.Context, string, *time.Time) error        { return nil }
func saveSubscription(context.Context, *subkit.Subscription) error { return nil }

func readmeHandler(store subkit.IdempotencyStore) {
	// store: the fleet's shared store — subkitredis.NewStore(rdb), or subkitsql.NewStore(ctx, db, subkitsql.Postgres) —
	// the same one its subkit Clients use (WithIdempotencyStore).
	rcv, err := webhook.NewPolarReceiver([]string{os.Getenv("POLAR_WEBHOOK_SECRET")})
	if err != nil {
		log.Fatal(err) // no secret, or an invalid option; no error ever shows a secret
	}
	http.Handle("POST /webhooks/polar", rcv.Handler(func(ctx context.Context, ev *webhook.Event) error {
		if !ev.IsSubscription() {
			return nil // orders, customers, checkouts, …: passed through by type
		}
		sub, err := ev.Subscription()
		if err != nil {
			return err
		}
		switch ev.Type {
		case webhook.SubscriptionRevoked:
			return revokeAccess(ctx, sub.ID) // access ends now
		case webhook.SubscriptionCanceled:
			return scheduleEnd(ctx, sub.ID, sub.EndsAt) // access goes on until the period's end
		default:
			return saveSubscription(ctx, sub) // never an older state after a newer one
		}
	}, webhook.WithDedupe(store)))
}

func readmeRotation(newSecret, oldSecret string) {
	rcv, err := webhook.NewPolarReceiver([]string{newSecret, oldSecret}) // the newest first
	_, _ = rcv, err
}

func readmeCatchUp(ctx context.Context, client *subkit.Client, wentDown time.Time) {
	res, err := client.Webhooks.CatchUp(ctx, &subkit.WebhookCatchUpParams{
		Since: wentDown.Add(-35 * time.Minute), // events made up to Polar's last retry before the outage
	})
	// res.Redelivered: the events Polar sends again (the handler de-duplicates any that had arrived);
	// res.Delivered: failed at first, delivered since; res.Archived: older than 90 days, gone.
	_, _ = res, err
}

func readmeTesting(secret string, held subkittest.PolarSubscription, handler http.Handler, receiver *httptest.Server) {
	req := subkittest.NewPolarWebhookRequest(secret, webhook.SubscriptionCanceled, held.Body)
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req) // rec.Code == 200

	srv := subkittest.NewServer(subkittest.WithPolarWebhook(subkittest.PolarWebhook{
		URL: receiver.URL, Secret: secret,
		TimeScale: 0.001, // Polar's delays a thousand times shorter: ten attempts in 1–2 s
	}))
	srv.InjectWebhookFault(subkittest.WebhookDuplicate(3)) // the next create's events, three times at once
	srv.Close()
}
