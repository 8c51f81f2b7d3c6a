package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
	"github.com/subkit-go/subkit/subkitredis"
)

// redisURLVar names the environment variable that gives -redis's URL when
// the flag is not given, so that a password need not be written on the
// command line, where any user of the machine can read it (ps).
const redisURLVar = "SUBKIT_REDIS_URL"

// storeFlags are the flags that make processes share one idempotency store
// and one rate budget: -redis today. A store flag to come (-postgres) is one
// more field here, one more line in register, and one more case in
// openShared.
type storeFlags struct {
	redis     string // a URL (redis://, rediss://) or host:port
	redisName string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.redis, "redis", "", "share the idempotency store and the rate limiter with other processes through the Redis at `URL`: "+
		"redis://[user:password@]host:port[/db], rediss://… for TLS, or host:port. Default: $"+redisURLVar+", which keeps a password off the command line")
	fs.StringVar(&f.redisName, "redis-name", "subkit", "the `name` under which processes sharing -redis share a rate budget: one per token")
}

// sharedState is what the store flags and -rate add to the client — the
// limiters and the idempotency store —, what to say about them, and how to
// release them.
type sharedState struct {
	options []subkit.Option
	where   string // "" when nothing is shared
	close   func()
}

// openShared makes the limiters of -rate and, with a store flag, the store
// and the limiters the processes sharing it share, one budget per API and
// -redis-name. With -live, Polar's budget is its published limit unless
// -rate says otherwise (as the SDK's default, which paces one process
// only). Its errors never carry a credential.
func (c *config) openShared(ctx context.Context) (*sharedState, error) {
	s := &sharedState{close: func() {}}
	var rdb *redis.Client
	switch raw, from := c.store.redisURL(); {
	case raw != "":
		opt, err := redisOptions(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		opt.ContextTimeoutEnabled = true
		rdb = redis.NewClient(opt)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rdb.Ping(pctx).Err(); err != nil {
			_ = rdb.Close()
			return nil, fmt.Errorf("%s: Redis at %s does not answer: %s", from, opt.Addr, scrubSecret(err.Error(), opt.Password))
		}
		s.close = func() { _ = rdb.Close() }
		s.where = "Redis at " + opt.Addr
		s.options = append(s.options, subkit.WithIdempotencyStore(subkitredis.NewStore(rdb)))
	}
	rates := c.rates
	if _, set := rates[subkit.Polar]; c.live && !set {
		// The SDK paces Polar's own servers so by default; the command says
		// so itself, for a fleet's shared budget and for Interruptible.
		rates = maps.Clone(rates)
		rates[subkit.Polar] = rate{events: subkit.PolarSandboxRateLimit, per: time.Minute}
		if c.production {
			rates[subkit.Polar] = rate{events: subkit.PolarRateLimit, per: time.Minute}
		}
	}
	for api, r := range rates {
		var l subkit.Limiter = subkit.NewLimiter(r.events, r.per)
		if rdb != nil {
			l = subkitredis.NewLimiter(rdb, c.store.redisName+":"+string(api), r.events, r.per)
		}
		// A wait for a turn ends with the run: Ctrl-C never waits for one.
		s.options = append(s.options, subkit.WithRateLimiter(api, bulk.Interruptible(l)))
	}
	return s, nil
}

// redisURL is -redis, or the environment's URL without it, and where it
// came from, for messages.
func (f *storeFlags) redisURL() (raw, from string) {
	if f.redis != "" {
		return f.redis, "-redis"
	}
	if v := strings.TrimSpace(os.Getenv(redisURLVar)); v != "" {
		return v, "$" + redisURLVar
	}
	return "", ""
}

// redisOptions reads a Redis URL with go-redis's own parser (user,
// password, database, TLS with rediss://, and its query options), or a bare
// host:port. Its errors show the URL with the password masked.
func redisOptions(raw string) (*redis.Options, error) {
	if !strings.Contains(raw, "://") {
		if _, _, err := net.SplitHostPort(raw); err != nil {
			return nil, errors.New("want a URL — redis://[user:password@]host:port[/db], or rediss://… for TLS — or host:port")
		}
		return &redis.Options{Addr: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the whole URL, password included.
		return nil, errors.New("not a URL: want redis://[user:password@]host:port[/db], or rediss://… for TLS")
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		password, _ := u.User.Password()
		msg := scrubSecret(strings.ReplaceAll(err.Error(), raw, u.Redacted()), password)
		return nil, fmt.Errorf("%s: %s", u.Redacted(), msg)
	}
	return opt, nil
}

// scrubSecret removes secret from a message, raw and URL-escaped: a message
// made by a library may quote what it was given.
func scrubSecret(msg, secret string) string {
	if secret == "" {
		return msg
	}
	for _, s := range []string{secret, url.QueryEscape(secret), url.PathEscape(secret)} {
		msg = strings.ReplaceAll(msg, s, "[REDACTED]")
	}
	return msg
}
