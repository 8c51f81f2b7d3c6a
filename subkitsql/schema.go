package subkitsql

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
)

// DefaultTable is the table a Store keeps its rows in unless WithTable
// names another.
const DefaultTable = "subkit_idempotency"

// tableName is what WithTable accepts: a plain identifier, so that it needs
// no quoting rules beyond double quotes and its index's name fits
// Postgres's 63 bytes.
var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,59}$`)

// columns are the table's columns, in the order the store reads them.
//
//	key          the scoped idempotency key
//	token        the holder's lock token; NULL when unlocked
//	lease_end    when the lock runs out, µs on the database's clock
//	rec_token    the token of the lock that wrote the record (tells Lock
//	             that its own claim was saved)
//	expires_at   when the record runs out; NULL when there is none
//	fingerprint, target, pending, sent_at, result, status_code, request_id
//	             the record (subkit.IdempotencyRecord); sent_at in µs
//	gc_at        when the row is garbage: the later of lease_end and
//	             expires_at, kept by every write; indexed for the sweep
const columns = "key, token, lease_end, rec_token, expires_at, fingerprint, target, pending, sent_at, result, status_code, request_id, gc_at"

// createSchema creates the table and its index if they are missing, after
// checking that a table of that name has the columns the store uses.
func (s *Store) createSchema(ctx context.Context) error {
	var foreign error
	err := s.retry(ctx, func() error {
		if s.dialect == Postgres {
			return s.createPostgres(ctx, &foreign)
		}
		if err := s.createIn(ctx, s.db(), &foreign); err != nil {
			return err
		}
		// Kept in the file: every connection, and every process, uses it.
		var mode string
		return s.db().QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
	})
	switch {
	case foreign != nil:
		return fmt.Errorf("subkitsql: the table %s exists without the columns this store uses (%s): %w", s.name, columns, foreign)
	case err != nil:
		return fmt.Errorf("subkitsql: creating the table %s: %w", s.name, err)
	}
	return nil
}

// schemaRunner is a *sql.DB or a *sql.Tx.
type schemaRunner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// createIn creates the table if it is missing, checks its columns (setting
// *foreign when they are not the store's), and creates the index.
func (s *Store) createIn(ctx context.Context, r schemaRunner, foreign *error) error {
	if _, err := r.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.table+` (
		key TEXT `+s.keyCollation()+` NOT NULL PRIMARY KEY,
		token TEXT,
		lease_end BIGINT NOT NULL,
		rec_token TEXT,
		expires_at BIGINT,
		fingerprint TEXT,
		target TEXT,
		pending INTEGER NOT NULL DEFAULT 0,
		sent_at BIGINT,
		result `+s.d.blob+`,
		status_code INTEGER NOT NULL DEFAULT 0,
		request_id TEXT,
		gc_at BIGINT NOT NULL
	)`); err != nil {
		return err
	}
	rows, err := r.QueryContext(ctx, "SELECT "+columns+" FROM "+s.table+" WHERE 1 = 0")
	if err != nil {
		if !s.d.retryable(err) {
			*foreign = err
		}
		return err
	}
	if err := rows.Close(); err != nil {
		return err
	}
	_, err = r.ExecContext(ctx, `CREATE INDEX IF NOT EXISTS `+s.quote(s.name+"_gc")+` ON `+s.table+` (gc_at)`)
	return err
}

// createPostgres creates the schema in one transaction under an advisory
// lock: two processes creating the table at once would otherwise race on
// Postgres's catalog ("duplicate key value violates unique constraint
// pg_type_typname_nsp_index") despite IF NOT EXISTS.
func (s *Store) createPostgres(ctx context.Context, foreign *error) error {
	tx, err := s.db().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", "subkitsql:"+s.name); err != nil {
		return err
	}
	if err := s.createIn(ctx, tx, foreign); err != nil {
		return err
	}
	return tx.Commit()
}

// keyCollation compares keys byte for byte on Postgres whatever the
// database's locale (and its index is then the cheapest); SQLite's default
// is already binary.
func (s *Store) keyCollation() string {
	if s.dialect == Postgres {
		return `COLLATE "C"`
	}
	return ""
}

// quote quotes an identifier for both dialects; name is one tableName
// accepts, so it holds no quote.
func (s *Store) quote(name string) string { return `"` + name + `"` }

// sqlFor fills a query's placeholders: {t} the table, {now} the clock,
// {max} the two-argument maximum; and turns its $N markers into the
// dialect's.
func (s *Store) sqlFor(q string) string {
	q = strings.NewReplacer("{t}", s.table, "{now}", s.d.now, "{max}", s.d.greatest).Replace(q)
	return s.d.numbered(q)
}

// prepared holds a Store's statements, filled for its dialect and table
// once.
type prepared struct {
	lock, poll, extend, save, clear, release, releaseNil, unlock, sweep string
}

func (s *Store) prepare() {
	s.q = prepared{
		lock:       s.sqlFor(lockSQL),
		poll:       s.sqlFor(pollSQL),
		extend:     s.sqlFor(extendSQL),
		save:       s.sqlFor(saveSQL),
		clear:      s.sqlFor(clearSQL),
		release:    s.sqlFor(releaseSQL),
		releaseNil: s.sqlFor(releaseNilSQL),
		unlock:     s.sqlFor(unlockSQL),
		sweep:      s.sqlFor(sweepSQL),
	}
}
