package subkitsql

import (
	"errors"
	"regexp"
	"strings"
)

// Dialect names the SQL database a Store runs on.
type Dialect string

// The dialects a Store speaks.
const (
	// SQLite is SQLite 3.35 or newer (for RETURNING), through any
	// database/sql driver (modernc.org/sqlite, github.com/mattn/go-sqlite3,
	// …): one database file shared by the processes of one host.
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL 9.5 or newer (for ON CONFLICT), through any
	// database/sql driver (github.com/jackc/pgx/v5/stdlib, lib/pq, …): one
	// database shared by a fleet.
	Postgres Dialect = "postgres"
)

// dialect is what differs between the databases: how to read the clock,
// the column types, parameter markers, and which errors mean "try again".
type dialect struct {
	// now is an expression for the database's clock in microseconds since
	// the Unix epoch, the same value wherever it appears in one statement.
	now string
	// greatest is the two-argument maximum function.
	greatest string
	// blob is the column type of bytes.
	blob string
	// numbered turns the $1-style markers the store writes into the
	// dialect's.
	numbered func(query string) string
	// retryable reports whether a failed statement did nothing and may be
	// run again at once: SQLite's busy database, Postgres's serialisation
	// failure or deadlock.
	retryable func(err error) bool
}

func dialectOf(d Dialect) (dialect, bool) {
	switch d {
	case SQLite:
		return dialect{
			// julianday('now') is the same for every call within one
			// statement (sqlite3_step), in milliseconds; portable to
			// SQLite versions without unixepoch('subsec').
			now:       "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER) * 1000)",
			greatest:  "MAX",
			blob:      "BLOB",
			numbered:  questionMarks,
			retryable: sqliteBusy,
		}, true
	case Postgres:
		return dialect{
			// statement_timestamp() is fixed for the statement: the time
			// its message arrived. A statement that waits for a row lock
			// acts on a reading from before the wait; the wait is one other
			// statement of the store's on the same row, and the row lock and
			// the token already order the two.
			now:       "(EXTRACT(EPOCH FROM statement_timestamp()) * 1000000)::BIGINT",
			greatest:  "GREATEST",
			blob:      "BYTEA",
			numbered:  func(q string) string { return q },
			retryable: postgresRetryable,
		}, true
	}
	return dialect{}, false
}

var dollarMarker = regexp.MustCompile(`\$([0-9]+)`)

// questionMarks turns $N into SQLite's ?N, which binds the N-th argument
// wherever it appears ($N would be a named parameter there).
func questionMarks(q string) string { return dollarMarker.ReplaceAllString(q, "?$1") }

// sqliteBusy reports SQLITE_BUSY and SQLITE_LOCKED (a statement that did
// not run because another connection holds the lock), by the driver's
// error code where it has a Code method (modernc.org/sqlite), else by the
// message every driver passes on from SQLite.
func sqliteBusy(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		switch coded.Code() & 0xff { // the primary code of an extended one
		case 5, 6: // SQLITE_BUSY, SQLITE_LOCKED
			return true
		}
	}
	msg := err.Error()
	return strings.Contains(msg, "SQLITE_BUSY") || strings.Contains(msg, "database is locked") ||
		strings.Contains(msg, "database table is locked")
}

// postgresRetryable reports a serialisation failure or a deadlock, by the
// SQLSTATE every Postgres driver's error carries (pgconn.PgError and
// lib/pq's Error have a SQLState method).
func postgresRetryable(err error) bool {
	var stated interface{ SQLState() string }
	if errors.As(err, &stated) {
		switch stated.SQLState() {
		case "40001", "40P01":
			return true
		}
	}
	return false
}
