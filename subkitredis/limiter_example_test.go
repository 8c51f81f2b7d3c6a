package subkitredis_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkitredis"
)

// Every process of a fleet paces its Polar requests with a Limiter of the
// same name: together they stay within the organization's 500 requests a
// minute, however Polar aligns its windows. A call whose turn would come
// after its deadline fails at once, with nothing sent.
func ExampleNewLimiter() {
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", ContextTimeoutEnabled: true})
	defer rdb.Close()
	budget := subkitredis.NewLimiter(rdb, "polar:org_1", subkit.PolarRateLimit, time.Minute)
	client, err := subkit.New(subkit.WithEnv(), subkit.WithRateLimiter(subkit.Polar, budget))
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = client.Subscriptions.Get(ctx, "9b4bd8a0-…")
	if errors.Is(err, subkitredis.ErrWaitBeyondDeadline) {
		log.Println("the fleet's budget is spent for more than 10 s; nothing was sent:", err)
	}
}
