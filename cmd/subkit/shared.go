package main

import (
	"context"
	"maps"
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
// limiters that the processes sharing the Redis share, one budget per API
// and -redis-name. With -redis and -live, Polar's budget is its published
// limit unless -rate says otherwise: the SDK's own default paces one process
// only.
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
	rates := c.rates
	if _, set := rates[subkit.Polar]; rdb != nil && c.live && !set {
		rates = maps.Clone(rates)
		rates[subkit.Polar] = rate{events: subkit.PolarSandboxRateLimit, per: time.Minute}
		if c.production {
			rates[subkit.Polar] = rate{events: subkit.PolarRateLimit, per: time.Minute}
		}
	}
	for api, r := range rates {
		var l subkit.Limiter = subkit.NewLimiter(r.events, r.per)
		if rdb != nil {
			l = subkitredis.NewLimiter(rdb, c.redisName+":"+string(api), r.events, r.per)
		}
		s.options = append(s.options, subkit.WithRateLimiter(api, l))
	}
	return s, nil
}
