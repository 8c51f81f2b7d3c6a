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

// redisURLVar and postgresURLVar name the environment variables that give
// -redis's and -postgres's URL when no store flag is given, so that a
// password need not be written on the command line, where any user of the
// machine can read it (ps).
const (
	redisURLVar    = "SUBKIT_REDIS_URL"
	postgresURLVar = "SUBKIT_POSTGRES_URL"
)

// defaultStateFile is -state's default: a file in the current directory,
// so that a rerun of the same command in the same directory finds it.
const defaultStateFile = ".subkit-state.db"

// stateOff is the -state value that keeps no state: the store is the
// process's memory.
const stateOff = "off"

// storeFlags are the flags that say where the idempotency store is: -state
// (a SQLite file, the default), -redis or -postgres (shared by a fleet);
// one store at a time.
type storeFlags struct {
	state     string // a file, or stateOff
	redis     string // a URL (redis://, rediss://) or host:port
	redisName string
	postgres  string // a URL (postgres://, postgresql://)
	// given holds the store flags given on the command line.
	given []string
}

func (f *storeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.state, "state", defaultStateFile, "keep the idempotency store in the SQLite `FILE`, which a rerun (or another process on this host) finds: "+
		"a crashed or stopped run rerun at once creates nothing twice, with no server. Records belong to the target they were made for "+
		"(API, base URL, credential), so one file serves dry and live runs. \""+stateOff+"\" keeps none (this process's memory)")
	fs.StringVar(&f.redis, "redis", "", "share the idempotency store and the rate limiter with other processes through the Redis at `URL`: "+
		"redis://[user:password@]host:port[/db], rediss://… for TLS, or host:port. Default: $"+redisURLVar+", which keeps a password off the command line")
	fs.StringVar(&f.redisName, "redis-name", "subkit", "the `name` under which processes sharing -redis share a rate budget: one per token")
	fs.StringVar(&f.postgres, "postgres", "", "share the idempotency store with other processes through the PostgreSQL database at `URL`: "+
		"postgres://[user[:password]@]host[:port]/database[?sslmode=…]. Each process paces itself (-rate): give each its share of the budget. "+
		"Default: $"+postgresURLVar+", which keeps a password off the command line")
}

// check refuses two stores at once: -state, -redis and -postgres
// each name one.
func (f *storeFlags) check(fs *flag.FlagSet) error {
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "state", "redis", "postgres":
			f.given = append(f.given, "-"+fl.Name)
		}
	})
	if n := len(f.given); n > 1 {
		return fmt.Errorf("one idempotency store at a time: give %s or %s, not more", strings.Join(f.given[:n-1], ", "), f.given[n-1])
	}
	if f.state == "" {
		return errors.New("-state: want a FILE, or " + stateOff)
	}
	return nil
}

// storeKind is the store a run uses.
type storeKind string

const (
	storeSQLite   storeKind = "sqlite"
	storeRedis    storeKind = "redis"
	storePostgres storeKind = "postgres"
	storeMemory   storeKind = "memory"
)

// which says which store the flags and, without a store flag, the
// environment ask for, with the URL of a shared one and where it came from
// (for messages).
func (f *storeFlags) which() (kind storeKind, raw, from string, err error) {
	switch {
	case f.redis != "":
		return storeRedis, f.redis, "-redis", nil
	case f.postgres != "":
		return storePostgres, f.postgres, "-postgres", nil
	case len(f.given) > 0: // -state
	default:
		r, p := strings.TrimSpace(os.Getenv(redisURLVar)), strings.TrimSpace(os.Getenv(postgresURLVar))
		switch {
		case r != "" && p != "":
			return "", "", "", fmt.Errorf("$%s and $%s are both set: give -redis, -postgres or -state to say which store", redisURLVar, postgresURLVar)
		case r != "":
			return storeRedis, r, "$" + redisURLVar, nil
		case p != "":
			return storePostgres, p, "$" + postgresURLVar, nil
		}
	}
	if f.state == stateOff {
		return storeMemory, "", "-state " + stateOff, nil
	}
	return storeSQLite, f.state, "-state", nil
}

// sharedState is what the store flags and -rate add to the client — the
// limiters and the idempotency store —, what to say about them, and how to
// release them.
type sharedState struct {
	options []subkit.Option
	store   *countingStore // nil with -state off
	kind    storeKind
	// where names the store for people: the state file's path, or the
	// server's address; never a password.
	where string
	// remembers is set when the store outlives the run and every run in
	// this directory (or of this fleet) uses it by default, so that it holds
	// what earlier runs sent (bulk.Options.StoreRemembersEarlierRuns).
	remembers bool
	close     func()
}

// openShared makes the idempotency store the flags ask for — the SQLite
// state file by default, Redis or Postgres for a fleet, memory with -state
// off — and the limiters of -rate: with -redis the processes sharing it
// share one budget per API and -redis-name. With -live, Polar's budget is
// its published limit unless -rate says otherwise (as the SDK's default,
// which paces one process only). Its errors never carry a credential.
func (c *config) openShared(ctx context.Context) (*sharedState, error) {
	s := &sharedState{close: func() {}}
	kind, raw, from, err := c.store.which()
	if err != nil {
		return nil, err
	}
	s.kind = kind
	var rdb *redis.Client
	var store subkit.IdempotencyStore
	switch kind {
	case storeRedis:
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
		store = subkitredis.NewStore(rdb)
	case storePostgres:
		st, where, closeDB, err := openPostgres(ctx, raw, c.concurrency)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", from, err)
		}
		s.close, s.where, store = closeDB, where, st
	case storeSQLite:
		st, where, closeDB, err := openStateFile(ctx, raw, c.concurrency)
		if err != nil {
			return nil, fmt.Errorf("-state %s: %w; give -state FILE for another file, or -state %s for none", clip(raw, 200), err, stateOff)
		}
		s.close, s.where, store = closeDB, where, st
	case storeMemory:
		s.where = "this process's memory (-state " + stateOff + ")"
	}
	if store != nil {
		s.store = newCountingStore(store)
		s.remembers = true
		closeStore := s.close
		s.close = func() {
			// The last unlocks of creates cut short run on in the
			// background: let them reach the store, so that a rerun finds
			// the keys free, then close it.
			s.store.drain(drainTimeout)
			closeStore()
		}
		s.options = append(s.options, subkit.WithIdempotencyStore(s.store))
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

// announce is the line that says, before the run, which store it uses.
func (s *sharedState) announce() string {
	switch s.kind {
	case storeRedis:
		return "sharing the idempotency store and the rate budget through " + s.where
	case storePostgres:
		return "sharing the idempotency store through " + s.where + " (each process paces itself: -rate is this process's budget)"
	case storeSQLite:
		return "keeping the idempotency store in the SQLite state file " + s.where + ": a rerun with it creates nothing twice (-state FILE for another, -state " + stateOff + " for none)"
	}
	return "keeping the idempotency store in " + s.where + ": no rerun finds it; against a server, the first Polar creates wait -settle, since nothing says what an earlier run sent"
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
