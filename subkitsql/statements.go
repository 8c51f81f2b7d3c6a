package subkitsql

// The store's statements, for both dialects: {t} is the table, {now} the
// database's clock in µs (one value per statement), {max} the two-argument
// maximum, $N the N-th argument. Each is one statement in its own
// transaction; each write through a lock is fenced by "token = $2 AND
// lease_end > {now}" and does nothing when the lock is lost.

// lockSQL takes key $1 for token $2 and lease $3 µs where the row is free
// or its lease has run out, and saves the claim ($4 its token, $5 its TTL in
// µs, $6–$8 its fingerprint, target and pending flag) only where the key has
// no live record; a missing row is inserted. It returns the row as it stands
// once the lock is held (the claim's token in rec_token when the claim was
// saved), with the clock's now; no row when another holder has the key.
// Without a claim $4–$8 are NULL, which also clears an expired record.
const lockSQL = `INSERT INTO {t} AS cur (` + columns + `)
VALUES ($1, $2, {now} + $3, $4, {now} + $5, $6, $7, $8, CASE WHEN $5 IS NULL THEN NULL ELSE {now} END, NULL, 0, NULL,
	{max}({now} + $3, COALESCE({now} + $5, 0)))
ON CONFLICT (key) DO UPDATE SET
	token = excluded.token,
	lease_end = excluded.lease_end,
	rec_token = CASE WHEN cur.expires_at > {now} THEN cur.rec_token ELSE excluded.rec_token END,
	fingerprint = CASE WHEN cur.expires_at > {now} THEN cur.fingerprint ELSE excluded.fingerprint END,
	target = CASE WHEN cur.expires_at > {now} THEN cur.target ELSE excluded.target END,
	pending = CASE WHEN cur.expires_at > {now} THEN cur.pending ELSE excluded.pending END,
	sent_at = CASE WHEN cur.expires_at > {now} THEN cur.sent_at ELSE excluded.sent_at END,
	result = CASE WHEN cur.expires_at > {now} THEN cur.result ELSE excluded.result END,
	status_code = CASE WHEN cur.expires_at > {now} THEN cur.status_code ELSE excluded.status_code END,
	request_id = CASE WHEN cur.expires_at > {now} THEN cur.request_id ELSE excluded.request_id END,
	gc_at = {max}(excluded.lease_end, CASE WHEN cur.expires_at > {now} THEN cur.expires_at ELSE COALESCE(excluded.expires_at, 0) END),
	expires_at = CASE WHEN cur.expires_at > {now} THEN cur.expires_at ELSE excluded.expires_at END
WHERE cur.token IS NULL OR cur.lease_end <= {now}
RETURNING rec_token, expires_at, fingerprint, target, pending, sent_at, result, status_code, request_id, {now}`

// pollSQL reads how many µs key $1's holder has left, a read that waits for
// no writer; no row when no one holds it.
const pollSQL = `SELECT lease_end - {now} FROM {t} WHERE key = $1 AND token IS NOT NULL`

// extendSQL renews the lease of key $1 held by token $2 to $3 µs from now.
const extendSQL = `UPDATE {t} SET lease_end = {now} + $3, gc_at = {max}({now} + $3, COALESCE(expires_at, 0))
WHERE key = $1 AND token = $2 AND lease_end > {now}`

// saveSQL writes the record of key $1 held by token $2, for $3 µs:
// fingerprint $4, target $5, pending $6 (then sent now), result $7, status
// $8, request ID $9.
const saveSQL = `UPDATE {t} SET ` + recordSet + `, gc_at = {max}(lease_end, {now} + $3)
WHERE key = $1 AND token = $2 AND lease_end > {now}`

// releaseSQL is saveSQL that also unlocks.
const releaseSQL = `UPDATE {t} SET ` + recordSet + `, token = NULL, lease_end = 0, gc_at = {now} + $3
WHERE key = $1 AND token = $2 AND lease_end > {now}`

// recordSet sets the record's columns from saveSQL's arguments.
const recordSet = `rec_token = $2, expires_at = {now} + $3, fingerprint = $4, target = $5, pending = $6,
	sent_at = CASE WHEN $6 = 1 THEN {now} END, result = $7, status_code = $8, request_id = $9`

// clearSQL deletes the record of key $1 held by token $2 and keeps the lock.
const clearSQL = `UPDATE {t} SET rec_token = NULL, expires_at = NULL, fingerprint = NULL, target = NULL, pending = 0,
	sent_at = NULL, result = NULL, status_code = 0, request_id = NULL, gc_at = lease_end
WHERE key = $1 AND token = $2 AND lease_end > {now}`

// releaseNilSQL deletes the record of key $1 held by token $2 and unlocks:
// the whole row.
const releaseNilSQL = `DELETE FROM {t} WHERE key = $1 AND token = $2 AND lease_end > {now}`

// unlockSQL unlocks key $1 if token $2 still has it, lease run out or not;
// a key taken over since has another token and is left alone.
const unlockSQL = `UPDATE {t} SET token = NULL, lease_end = 0, gc_at = COALESCE(expires_at, 0)
WHERE key = $1 AND token = $2`

// sweepSQL deletes up to 32 rows that are garbage — unlocked (or
// their lease run out) and without a live record — oldest first. The outer
// condition is checked again on the row as it is when deleted, so a row
// taken meanwhile stays.
const sweepSQL = `DELETE FROM {t} WHERE gc_at <= {now} AND key IN (
	SELECT key FROM {t} WHERE gc_at <= {now} ORDER BY gc_at LIMIT 32)`
