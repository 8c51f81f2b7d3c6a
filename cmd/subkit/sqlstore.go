package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the SQLite driver of the state file: pure Go

	"github.com/subkit-go/subkit/subkitsql"
)

// setupTimeout bounds opening a store: a server that does not answer is a
// setup error, before anything is sent.
const setupTimeout = 10 * time.Second

// openStateFile opens the SQLite state file at path, creating it (readable
// by its owner only: it holds the subscriptions made) when it is missing,
// and the store in it. where names it for people: the path as given, and
// the directory when it is relative.
func openStateFile(ctx context.Context, path string, concurrency int) (*subkitsql.Store, string, func(), error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, "", nil, err
	}
	where := path
	if !filepath.IsAbs(path) {
		where = fmt.Sprintf("%s (in %s)", path, filepath.Dir(abs))
	}
	if f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, "", nil, err
	} else {
		_ = f.Close()
	}
	db, err := sql.Open("sqlite", abs)
	if err != nil {
		return nil, "", nil, err
	}
	// Each SQLite connection opened anew reads the schema again: keep one
	// idle per create in flight (subkitsql's documentation).
	db.SetMaxIdleConns(concurrency + 2)
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	st, err := subkitsql.NewStore(sctx, db, subkitsql.SQLite)
	if err != nil {
		_ = db.Close()
		return nil, "", nil, err
	}
	return st, where, func() { _ = db.Close() }, nil
}

// openPostgres opens the Postgres database at raw (a URL, or pgx's
// keyword=value form) through pgx's database/sql driver, and the store in
// it. where names the server and database for people, never the password;
// its errors never carry the password either.
func openPostgres(ctx context.Context, raw string, concurrency int) (*subkitsql.Store, string, func(), error) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		// Say why without quoting the input: pgconn masks the password of
		// what it quotes, but a URL that url.Parse refuses is quoted, in
		// part, by url.Parse's own message.
		why := "cannot be read"
		if _, uerr := url.Parse(raw); uerr == nil || !strings.Contains(raw, "://") {
			if inner := errors.Unwrap(err); inner != nil {
				why = scrubSecret(inner.Error(), passwordOf(raw))
			}
		}
		return nil, "", nil, fmt.Errorf("not a connection URL (%s): want postgres://[user[:password]@]host[:port]/database[?sslmode=…]", why)
	}
	secret := cfg.Password
	where := "Postgres at " + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	if cfg.Database != "" {
		where += ", database " + cfg.Database
	}
	if cfg.User != "" {
		where += ", user " + cfg.User
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxIdleConns(concurrency + 2)
	sctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := db.PingContext(sctx); err != nil {
		_ = db.Close()
		return nil, "", nil, fmt.Errorf("%s does not answer: %s", where, scrubSecret(err.Error(), secret))
	}
	st, err := subkitsql.NewStore(sctx, db, subkitsql.Postgres)
	if err != nil {
		_ = db.Close()
		return nil, "", nil, fmt.Errorf("%s: %s", where, scrubSecret(err.Error(), secret))
	}
	return st, where, func() { _ = db.Close() }, nil
}

// passwordOf is the password of a URL, "" when it has none or is no URL.
func passwordOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}
