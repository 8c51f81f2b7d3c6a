// The README's Bulk snippet is compiled here, not called (the calls it shows
// run in Example and the tests):
//lint:file-ignore U1000 compiled to check the README, never called

package bulk_test

import (
	"context"
	"log"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

type readmeUser struct{ ID string }

// readmeBulk is the README's "## Bulk" Go block; keep it identical.
func readmeBulk(ctx context.Context, client *subkit.Client, users []readmeUser, productID string, record func(key, id string)) {
	items := func(yield func(bulk.Item, error) bool) {
		for _, u := range users {
			if !yield(bulk.Item{Key: "spring/" + u.ID, ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{
				ProductID: productID, ExternalCustomerID: u.ID}}, nil) {
				return
			}
		}
	}
	for res := range bulk.Run(ctx, client, items, bulk.Options{Concurrency: 8, Total: len(users),
		Progress: func(p bulk.Progress) { log.Printf("%d/%d, %.1f/s, ETA %s", p.Done, p.Total, p.Rate, p.ETA) }}) {
		switch {
		case res.Outcome.OK(): // created, replayed or reconciled
			record(res.Item.Key, res.SubscriptionID())
		default: // conflicted, failed, unknown or not attempted
			log.Printf("%s: %s: %v (%s)", res.Item.Key, res.Outcome, res.Err, subkit.Classify(res.Err).Action)
		}
	}
}
