package subkitredis_test

import (
	"context"
	"errors"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkitredis"
)

// Every process of a fleet makes its Client with a Store on the same Redis:
// a create under one key then happens once, whichever process runs it.
func ExampleNewStore() {
	rdb := redis.NewClient(&redis.Options{
		Addr:                  "localhost:6379",
		ContextTimeoutEnabled: true, // the call's deadline bounds Redis too
	})
	defer rdb.Close()
	client, err := subkit.New(subkit.WithEnv(), subkit.WithIdempotencyStore(subkitredis.NewStore(rdb)))
	if err != nil {
		log.Fatal(err)
	}
	sub, err := client.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: "d8e3c8a3-…", CustomerID: "1c7a5a4e-…"},
		subkit.WithIdempotencyKey("order-1042"))
	switch {
	case errors.Is(err, subkit.ErrStoreUnavailable):
		log.Fatal("Redis is down; nothing was sent, try again later: ", err)
	case err != nil:
		log.Fatal(err)
	}
	log.Println("subscription", sub.ID)
}
