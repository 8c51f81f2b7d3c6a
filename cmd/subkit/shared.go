package main

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkitredis"
)

// sharedState is what -rate and -redis add to the client — the limiters and
// the idempotency store — and how to release them.
type sharedState struct {
	options []subkit.Option
	close   func()
}

// shared makes the limiters of -rate, and with -redis the store and the
// limiters that the processes sharing the Redis share.
func (c *config) shared() (*sharedState, error) {
	s := &sharedState{close: func() {}}
	var rdb *redis.Client
	if c.redisAddr != "" {
		rdb = redis.NewClient(&redis.Options{Addr: c.redisAddr, ContextTimeoutEnabled: true})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := rdb.Ping(ctx).Err(); err != nil {
			_ = rdb.Close()
			return nil, err
		}
		s.close = func() { _ = rdb.Close() }
		s.options = append(s.options, subkit.WithIdempotencyStore(subkitredis.NewStore(rdb)))
	}
	for api, r := range c.rates {
		s.options = append(s.options, subkit.WithRateLimiter(api, subkit.NewLimiter(r.events, r.per)))
	}
	return s, nil
}
