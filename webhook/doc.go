// Package webhook receives Polar's webhooks: it verifies their Standard
// Webhooks signatures, decodes their events, and hands each event to your
// code once and in order, across every process of a fleet. It needs only
// the standard library and subkit.
//
//	rcv, err := webhook.NewPolarReceiver([]string{os.Getenv("POLAR_WEBHOOK_SECRET")})
//	if err != nil {
//		log.Fatal(err)
//	}
//	http.Handle("POST /webhooks/polar", rcv.Handler(func(ctx context.Context, ev *webhook.Event) error {
//		if !ev.IsSubscription() {
//			return nil // other types: pass them on, or ignore them
//		}
//		sub, err := ev.Subscription()
//		if err != nil {
//			return err
//		}
//		return grantAccess(ctx, sub) // an error answers 500: Polar retries
//	}, webhook.WithDedupe(store))
//
// # What Polar sends
//
// Every event is POSTed with the headers webhook-id (the event's ID, the
// same on every retry), webhook-timestamp (Unix seconds of this attempt)
// and webhook-signature ("v1,<base64 HMAC-SHA256>" of
// "<id>.<timestamp>.<body>"), and the body {"type", "timestamp", "data"}.
// An event counts as delivered only on a 2xx within 10 s; otherwise Polar
// retries it, 10 attempts in all over about 17–34 minutes, then gives up,
// and after 10 events given up in a row it disables the endpoint. Events
// arrive at least once and in no guaranteed order.
//
// # Secrets
//
// Polar signs with the endpoint's secret in one of two ways: secrets made
// before 2026-09-08 use the UTF-8 bytes of the whole secret as the HMAC
// key; later ones the base64 after "whsec_", as Standard Webhooks does. A
// Receiver tries both for every secret it holds. A secret's rotation
// replaces it at once and Polar sends one signature only, so give the
// receiver the new secret and the old one until the deliveries queued
// before the rotation are through (at most Polar's 34 minutes of retries).
//
// # Once and in order
//
// Handler with WithDedupe keeps two kinds of record in a
// subkit.IdempotencyStore: per event ID ("webhook:polar:<id>"), that it was
// handled; per subscription ("webhook:polar:subscription:<id>"), the newest
// state handed to fn. Share the store across the fleet (subkitredis,
// subkitsql) and every process agrees. See Handler for what each case is
// answered.
//
// # Catching up
//
// A receiver down for longer than Polar's retries loses the events made
// meanwhile. subkit's WebhooksService.CatchUp (and `subkit webhooks
// catch-up`) finds every event of a window that was never delivered and
// has Polar send it again; this Handler de-duplicates the ones that had
// arrived after all.
package webhook
