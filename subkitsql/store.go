package subkitsql

import (
	"context"
	cryptorand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/subkit-go/subkit"
)

// How long Lock waits between tries while another holder has the key: from
// minPoll, doubling up to maxPoll, with jitter so that waiters do not retry
// in step.
const (
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
)

// How long a statement that met a busy database (or a serialisation
// failure) waits before it runs again: from minBusy, doubling up to
// maxBusy, with jitter, until the context ends.
const (
	minBusy = time.Millisecond
	maxBusy = 50 * time.Millisecond
)

// sweepEvery is how many releases and unlocks a Store makes per sweep of
// expired rows (sweepSQL, at most 32 rows).
const sweepEvery = 64

// Store is a subkit.IdempotencyStore on a SQL database, shared by every
// process whose Store uses the same database and table. Make one with
// NewStore; it is safe for concurrent use. See the package documentation
// for its guarantees.
type Store struct {
	// db is behind a func so that no printer walking unexported fields
	// (fmt's %v of a caller's struct, go-spew in testify) can reach the
	// driver's configuration and its password.
	db      func() *sql.DB
	dialect Dialect
	d       dialect
	name    string // the table's name
	table   string // the table's name, quoted
	q       prepared
	ops     atomic.Uint64 // releases and unlocks, for the sweep
	// writer, on SQLite, lets one statement of the store that writes run
	// at a time: SQLite takes one writer at a time anyway, and goroutines
	// of one process queueing here, in order, do not fight each other
	// through SQLITE_BUSY, where whoever retries soonest wins and a lease
	// extension can starve. nil on Postgres, whose row locks queue.
	writer chan struct{}
}

// Option configures a Store made by NewStore.
type Option func(*config)

type config struct {
	table string
}

// WithTable makes the store keep its rows in the table name instead of
// DefaultTable: give each application or environment sharing one database
// its own table, so that their idempotency keys never meet. name is a plain
// identifier (letters, digits and underscores, not starting with a digit,
// at most 60 of them); on Postgres the table goes in the first schema of the
// connection's search_path.
func WithTable(name string) Option { return func(c *config) { c.table = name } }

// NewStore returns a Store on db, which speaks d, and creates its table (and
// the table's index) if they are missing; on SQLite it also turns on
// write-ahead logging for the database file. db may be opened plainly
// (sql.Open with no settings); the store uses the connections db's pool
// gives it and keeps none of its own. ctx bounds the table's creation. It
// returns an error naming the problem when db is nil, d or the table's name
// is not one it knows, or the database refuses; the error never holds db's
// data source name.
func NewStore(ctx context.Context, db *sql.DB, d Dialect, opts ...Option) (*Store, error) {
	c := config{table: DefaultTable}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	dl, ok := dialectOf(d)
	switch {
	case db == nil:
		return nil, errors.New("subkitsql: NewStore was given a nil *sql.DB")
	case !ok:
		return nil, fmt.Errorf("subkitsql: unknown dialect %q (want %q or %q)", string(d), SQLite, Postgres)
	case !tableName.MatchString(c.table):
		return nil, fmt.Errorf("subkitsql: table name %q: want letters, digits and underscores, not starting with a digit, at most 60", c.table)
	}
	s := &Store{db: func() *sql.DB { return db }, dialect: d, d: dl, name: c.table}
	if d == SQLite {
		s.writer = make(chan struct{}, 1)
	}
	s.table = s.quote(c.table)
	s.prepare()
	if err := s.createSchema(ctx); err != nil {
		return nil, err
	}
	s.sweep(ctx) // what earlier runs left behind, a batch of it
	return s, nil
}

// Lock takes the lock on key for req.Lease, waiting while another holder
// has it until ctx ends, and saves req.Claim in the same statement when the
// key has no live record: see subkit.IdempotencyStore. It returns ctx's
// error if ctx ends while waiting, and the database's error, wrapped, if
// the statement fails otherwise; an empty key or a lease that is not
// positive is an error too. If ctx ends while the lock is being taken, the
// key may stay locked until the lease runs out.
func (s *Store) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	switch {
	case key == "":
		return nil, nil, errors.New("subkitsql: Lock: the key is empty")
	case req.Lease <= 0:
		return nil, nil, fmt.Errorf("subkitsql: Lock %q: the lease must be positive, not %v", key, req.Lease)
	}
	l := &lock{s: s, key: key, token: newToken()}
	args := []any{key, l.token, micros(req.Lease), nil, nil, nil, nil, int64(0)}
	if req.Claim != nil && req.ClaimTTL > 0 {
		c := req.Claim
		args[3], args[4], args[5], args[6], args[7] = l.token, micros(req.ClaimTTL), c.Fingerprint, c.Target, int64(1)
	}
	backoff := minPoll
	for {
		rec, taken, err := s.tryLock(ctx, l.token, args)
		switch {
		case err != nil:
			return nil, nil, s.failed(ctx, "taking the lock on", key, err)
		case taken:
			return l, rec, nil
		}
		// Wait with reads until the key looks free: a waiter's upserts would
		// each take SQLite's one write lock (a Postgres row lock), which the
		// holder needs for its own writes.
		for {
			left, err := s.leaseLeft(ctx, key)
			if err != nil {
				return nil, nil, s.failed(ctx, "waiting for the lock on", key, err)
			}
			if left <= 0 {
				break
			}
			if err := pause(ctx, min(backoff, left+time.Millisecond)); err != nil {
				return nil, nil, err
			}
			backoff = min(2*backoff, maxPoll)
		}
	}
}

// leaseLeft reads how long the holder of key still has it on the database's
// clock; 0 or less when no one holds it.
func (s *Store) leaseLeft(ctx context.Context, key string) (time.Duration, error) {
	var left int64
	err := s.retry(ctx, func() error {
		return s.db().QueryRowContext(ctx, s.q.poll, key).Scan(&left)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return time.Duration(left) * time.Microsecond, err
}

// tryLock runs lockSQL once: taken reports whether the lock is ours, rec
// the key's live record then (nil when there is none or our claim became
// it).
func (s *Store) tryLock(ctx context.Context, token string, args []any) (rec *subkit.IdempotencyRecord, taken bool, err error) {
	var row recordRow
	err = s.write(ctx, func() error {
		return s.db().QueryRowContext(ctx, s.q.lock, args...).Scan(row.fields()...)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case row.recToken.Valid && row.recToken.String == token:
		return nil, true, nil // our claim is the record
	}
	return row.record(), true, nil
}

// retry runs op until it succeeds, fails with an error the dialect does not
// retry, or ctx ends.
func (s *Store) retry(ctx context.Context, op func() error) error {
	wait := minBusy
	for {
		err := op()
		if err == nil || !s.d.retryable(err) {
			return err
		}
		if serr := pause(ctx, wait); serr != nil {
			return fmt.Errorf("%w (the database was busy: %v)", serr, err)
		}
		wait = min(2*wait, maxBusy)
	}
}

// write runs a statement that writes, as retry does, after the statements
// of this store that write before it (SQLite; see Store.writer).
func (s *Store) write(ctx context.Context, op func() error) error {
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.retry(ctx, op)
}

// failed describes a statement that failed: ctx's error when ctx ended (a
// driver may report an interrupted statement in words of its own), else the
// database's, with what the store was doing.
func (s *Store) failed(ctx context.Context, what, key string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("subkitsql: %s %q in %s: %w (%v)", what, key, s.name, ctx.Err(), err)
	}
	return fmt.Errorf("subkitsql: %s %q in %s: %w", what, key, s.name, err)
}

// sweep deletes a batch of expired rows, every sweepEvery calls; it is best
// effort (one try, no retry on a busy database), the rows being absent to
// every reader already.
func (s *Store) sweep(ctx context.Context) {
	_, _ = s.db().ExecContext(ctx, s.q.sweep)
}

// afterUnlock counts an unlock and sweeps every sweepEvery.
func (s *Store) afterUnlock(ctx context.Context) {
	if s.ops.Add(1)%sweepEvery == 0 {
		s.sweep(ctx)
	}
}

// newToken returns a random lock token: the proof, checked by every write,
// that a lock is still its holder's.
func newToken() string {
	var b [16]byte
	_, _ = cryptorand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	return hex.EncodeToString(b[:])
}

// micros is d in whole microseconds, rounded up, as the columns count.
func micros(d time.Duration) int64 { return int64((d + time.Microsecond - 1) / time.Microsecond) }

// pause waits between d/2 and d — the jitter keeps callers from retrying
// in step — or until ctx ends, and then returns ctx's error.
func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d/2 + rand.N(d/2+1)): // collected when unreferenced (Go 1.23+)
		return nil
	}
}
