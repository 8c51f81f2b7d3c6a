package subkitsql

import (
	"database/sql"
	"time"

	"github.com/subkit-go/subkit"
)

// recordRow is what lockSQL returns: the record's columns and the clock's
// now, in µs.
type recordRow struct {
	recToken, fingerprint, target, requestID sql.NullString
	expiresAt, sentAt                        sql.NullInt64
	pending, status, now                     int64
	result                                   []byte
}

// fields are the scan destinations, in lockSQL's RETURNING order.
func (r *recordRow) fields() []any {
	return []any{&r.recToken, &r.expiresAt, &r.fingerprint, &r.target, &r.pending, &r.sentAt, &r.result,
		&r.status, &r.requestID, &r.now}
}

// record is the row's record if it is live, else nil. Result is the row's
// own copy (database/sql copies what it scans into a []byte).
func (r *recordRow) record() *subkit.IdempotencyRecord {
	if !r.expiresAt.Valid || r.expiresAt.Int64 <= r.now {
		return nil
	}
	rec := &subkit.IdempotencyRecord{
		Fingerprint: r.fingerprint.String,
		Target:      r.target.String,
		Pending:     r.pending == 1,
		Result:      r.result,
		StatusCode:  int(r.status),
		RequestID:   r.requestID.String,
	}
	if rec.Pending && r.sentAt.Valid {
		rec.SentAt = time.UnixMicro(r.sentAt.Int64)
		rec.SinceSent = time.Duration(r.now-r.sentAt.Int64) * time.Microsecond
	}
	return rec
}

// recordArgs are saveSQL's and releaseSQL's arguments for rec, after the
// key, the token and the TTL: a nil Result is NULL, not an empty blob.
func recordArgs(rec *subkit.IdempotencyRecord) []any {
	pending := int64(0)
	if rec.Pending {
		pending = 1
	}
	var result any
	if rec.Result != nil {
		result = rec.Result
	}
	return []any{rec.Fingerprint, rec.Target, pending, result, int64(rec.StatusCode), rec.RequestID}
}
