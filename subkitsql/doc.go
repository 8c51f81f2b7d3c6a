// Package subkitsql is a subkit.IdempotencyStore on database/sql: SQLite,
// for the processes of one host sharing one database file, or PostgreSQL,
// for a fleet sharing one database. It keeps each key's lock and record in
// one row of one table, which NewStore creates if it is missing.
//
//	db, err := sql.Open("pgx", dsn) // or "sqlite", "/var/lib/app/subkit.db"
//	store, err := subkitsql.NewStore(ctx, db, subkitsql.Postgres)
//	client, err := subkit.New(subkit.WithIdempotencyStore(store), …)
//
// The package imports no driver: the caller opens the *sql.DB with the
// driver of its choice (the tests use modernc.org/sqlite, pure Go, and
// github.com/jackc/pgx/v5/stdlib) and may open it plainly, with no
// connection settings: the store sets what it needs in the statements it
// runs.
//
// # How it works
//
// A lock is a row's token and lease end; taking it is one statement, an
// upsert that takes the row only where its lease has run out:
//
//	INSERT … ON CONFLICT (key) DO UPDATE SET token = …, lease_end = now + lease, <the claim, if the key has no live record>
//	    WHERE token IS NULL OR lease_end <= now RETURNING <the record>
//
// so the lock, the claim (saved only when the key has no live record) and
// the record as it stands come in one round trip. Every later write —
// Extend, Save, Release — is one UPDATE (or DELETE) fenced by the lock's
// token and lease: "WHERE key = ? AND token = ? AND lease_end > now"; none
// affected is subkit.ErrLockLost, and nothing changed. Unlock clears the
// token if it is still the holder's. A fresh keyed create costs two round
// trips (Lock with its claim, then Release with the result); a replay two
// (Lock, Unlock). A Lock that finds the key held waits with reads of the
// holder's lease left — reads wait for no writer, so waiters never hold up
// the holder's writes — from 5 ms doubling to 100 ms with jitter, never past
// the lease's end, then tries again, until its context ends.
//
// Leases and send times are read from the database's clock, in the
// statement itself (subkit's rule of one clock): SQLite's julianday('now'),
// Postgres's statement_timestamp(). SinceSent is that clock's now minus the
// record's send time, computed by the same statement that returns it.
// Records past their TTL count as absent at once; their rows, and rows of
// locks whose holder died, are deleted a few at a time by later calls (one
// Release or Unlock in 64 runs one more statement that deletes at most 32
// expired rows), so expiry never holds a long lock.
//
// # SQLite: one host
//
// Several processes of one host may share one database file: NewStore
// turns on write-ahead logging (journal_mode=WAL, kept in the file), so
// readers never wait for the writer. Writers take turns: a store's own
// writing statements queue in its process, one at a time, and SQLITE_BUSY,
// which a plainly opened database returns at once when another process is
// writing, is retried by the store with backoff and jitter until the
// context ends, so no busy_timeout is needed. The clock is the host's wall
// clock, the same for every process on it; a step of that clock (not a
// slew) moves every lease and send time by the step, so keep the host's
// time synchronised by slewing (NTP, chrony). Durability is SQLite's: with
// its default synchronous=FULL a commit survives a crash of the process and
// of the machine; synchronous=NORMAL (if the caller sets it) may lose the
// last commits on a power loss, and the SDK then falls back to look-ups. The
// file must be on a local disk: SQLite's locks do not hold on network file
// systems (NFS, SMB). An in-memory database (":memory:") is one per
// connection of a *sql.DB, so it shares nothing: use a file. database/sql
// keeps two idle connections by default, and each SQLite connection opened
// anew reads the schema again: with many calls at once, give the *sql.DB
// as many idle connections as calls (SetMaxIdleConns); the store never
// changes the pool's settings itself.
//
// # Postgres: a fleet
//
// Every process of a fleet opens the same database. Each operation is one
// statement in its own transaction; rows are locked only for the length of
// a statement, and the upserts never deadlock (one row each). The clock is
// the server's: statement_timestamp(), taken when the statement arrives,
// one clock for the whole fleet. What survives is what Postgres commits:
// with synchronous replication (synchronous_commit on and
// synchronous_standby_names set), a failover loses nothing committed; with
// asynchronous replication a failover may lose the last commits, so a lock
// may be held twice and a record lost, and the SDK then falls back to
// look-ups, as after a restart. After a failover the clock is the new
// primary's: keep the servers' clocks synchronised. Serialisation failures
// and deadlocks (a database whose default isolation is serializable) are
// retried like SQLite's busy errors.
//
// Keys and the record's strings are stored as text, so they must be valid
// UTF-8 without NUL on Postgres (subkit's keys are); results as bytes.
// Errors name the key and the table, never the data source name.
package subkitsql
