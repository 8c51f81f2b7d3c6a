package bulk_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkittest"
)

// Subscribe a user base to a free Polar product by external ID, then run the
// same input again, as after a crash: nothing is created twice.
func Example() {
	// The fake Polar; against the real one the client would be
	// subkit.New(subkit.WithEnv()), paced to Polar's limit by default.
	srv := subkittest.NewServer()
	defer srv.Close()
	product := srv.AddPolarProduct(subkittest.PolarProduct{Name: "Community"})
	var items []bulk.Item
	for _, user := range []string{"user-1", "user-2", "user-3"} {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: user})
		items = append(items, bulk.Item{Key: "spring/" + user, ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{
			ProductID: product, ExternalCustomerID: user}})
	}
	// The fake shows a create to look-ups at once, unlike Polar's lagging
	// replica: the resume rule's wait (SettleTime, 6 s by default) need not
	// cover any lag.
	client, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{SettleTime: 100 * time.Millisecond}))
	if err != nil {
		log.Fatal(err)
	}

	for range 2 {
		outcomes := make([]bulk.Outcome, len(items))
		for res := range bulk.Run(context.Background(), client, bulk.Items(items...), bulk.Options{}) {
			if res.Err != nil {
				log.Printf("%s: %v (%s)", res.Item.Key, res.Err, subkit.Classify(res.Err).Action)
			}
			outcomes[res.Index] = res.Outcome
		}
		fmt.Println(outcomes)
	}
	fmt.Println(len(srv.PolarSubscriptions()), "subscriptions")
	// Output:
	// [created created created]
	// [replayed replayed replayed]
	// 3 subscriptions
}

func ExampleShard() {
	for _, key := range []string{"user-00000", "user-00001", "user-00002"} {
		fmt.Println(key, bulk.Shard(key, 3))
	}
	// Output:
	// user-00000 0
	// user-00001 2
	// user-00002 2
}
