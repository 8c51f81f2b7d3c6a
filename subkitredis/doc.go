// Package subkitredis shares subkit's exactly-once machinery and an API's
// rate budget between the processes of a fleet through Redis: Store is a
// subkit.IdempotencyStore and Limiter a subkit.Limiter
// that every process using the same Redis shares.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	client, err := subkit.New(subkit.WithEnv(), subkit.WithIdempotencyStore(subkitredis.NewStore(rdb)))
//
// Calls with the same idempotency key on any process then never run their
// creates at the same time: the first takes the key's lock and creates, the
// others wait and replay what it recorded, and a later call with the key, on
// any process, replays from the record without asking the API.
//
// # Guarantees while Redis runs
//
// With one Redis primary that does not restart, Store gives what
// subkit.IdempotencyStore asks:
//
//   - One holder per key, among every process sharing the Redis and the
//     prefix. A lock is a key set only if absent (SET NX PX) to a random
//     token of its holder.
//   - A lock ends with its lease: Redis expires the key by its own clock, so
//     a holder that dies locks its key for at most one lease. The SDK extends
//     the lease while the call runs.
//   - Fencing: Extend and Save run as Lua scripts that first compare the lock
//     key with the holder's token, and act in the same atomic step only if
//     they match. A holder whose lease ran out gets subkit.ErrLockLost and
//     changes nothing, even if another holder has taken the key since.
//     Unlock deletes the lock only if it still holds the token, and is not an
//     error otherwise.
//   - A record is the JSON of a subkit.IdempotencyRecord, kept for the TTL
//     given to Save. Lock returns it read in the same script that takes the
//     lock, so it is the record as it stands once the lock is held; a claim
//     (subkit.LockRequest.Claim) is written by that same script when there
//     is no record, and Release saves and unlocks in one script: a fresh
//     keyed create costs two round trips.
//   - One clock: a pending record's send time is Redis's TIME, written by
//     the script, and Lock returns how long ago that was on the same clock
//     (IdempotencyRecord.SinceSent). No process's clock is compared with
//     another's; a process whose clock is off changes nothing.
//   - Lock waits while another holder has the key, trying again after 5 ms,
//     then twice as long each time up to 100 ms, never past the holder's
//     remaining lease, with jitter; it stops when its context ends.
//   - A Redis that cannot be reached is an error, returned wrapped; the SDK
//     turns it into subkit.ErrStoreUnavailable and sends nothing. Every call
//     passes its context to go-redis: set ContextTimeoutEnabled in the
//     client's options so that the context's deadline also bounds a Redis
//     that stops answering.
//
// Fencing reaches the billing API too: before each attempt's write the SDK
// checks that the lease still holds with a margin (a quarter lease), on its
// own monotonic clock counted from the start of the last take or extension
// Redis confirmed — Redis started the lease after that, so it ends later —
// and a failed extension (Redis cut off, restarted, stopped) is a lost
// lease: the holder sends nothing more. What no client can close is the
// moment between that check and the write: a process paused there (a
// stopped VM, a long GC) for longer than the margin after its lease has run
// out may still write once while another process holds the key. Keep the
// lease (subkit.WithIdempotencyLease) well above such pauses.
//
// # When Redis restarts or fails over
//
// Without persistence a restarted Redis has lost every lock and record. A
// call still running then finds its lock gone (its record is refused with
// subkit.ErrLockLost, which the SDK logs; its result still reaches its
// caller), and a later call with the same key finds no record and falls back
// to the API look-up, as a new process with the in-memory store would: it
// replays a create that the look-up can see, and creates otherwise. A create
// that was still in flight when Redis restarted is not yet visible to that
// look-up, so a call with its key made during the restart may create a
// second time. Turn on AOF persistence (appendonly yes; appendfsync always,
// or everysec to lose at most about a second of writes) so that records,
// pending creates and locks survive a restart; RDB snapshots alone lose what
// was written since the last snapshot.
//
// Redis replication is asynchronous. With a replica promoted by Sentinel or
// by Redis Cluster, a lock or record written to the old primary and not yet
// copied is lost, so during a failover a lock may be held twice: two calls
// with one key may run their creates at the same time, and a record may be
// missing (the API look-up is the fallback, as after a restart). Store does
// not try to close this gap with hand-made consensus (no Redlock): the API
// look-up stays the last line of defence. A *redis.Ring is not recommended:
// when a shard goes away, its keys, locks included, move to other shards.
//
// # Rate limiting a fleet
//
// Polar allows 500 requests a minute per organization, counted in fixed
// windows, and answers the one past it with a 429 whose Retry-After is the
// whole minute. A fleet of n processes, each pacing itself with
// subkit.NewLimiter, would send up to n times the budget; a Limiter of one
// name, made on every process, shares it:
//
//	limiter := subkitredis.NewLimiter(rdb, "polar:"+organizationID, subkit.PolarRateLimit, time.Minute)
//	client, err := subkit.New(subkit.WithEnv(), subkit.WithRateLimiter(subkit.Polar, limiter))
//
// Its log is a sorted set per name, kept by one Lua script that stamps each
// grant with the Redis server's clock. On that clock no interval of length
// per + per/60 holds more than events grants of the name, across every
// process; so every window of length per at the API, fixed however aligned
// or sliding, receives at most events requests if each arrives within per/60
// of its grant. The fleet sustains 60/61 (98.4%) of the limit. See
// NewLimiter for the details. What breaks the guarantee:
//
//   - Redis losing the log: a restart without persistence, or a failover to
//     a replica that had not yet copied the latest grants, forgets the
//     window's grants, and up to events more may go in that window. AOF
//     persistence keeps the log across a restart, as it does the Store's
//     locks.
//   - A step forward of the Redis server's clock (an NTP correction) ages the
//     log early by the size of the step; a step back only makes it wait
//     longer. Slewing (the usual NTP correction) does no harm.
//   - Processes that give one name different limits or windows: each checks
//     the shared log against its own.
//   - A request delayed on its way for more than per/60 after its grant (a
//     process paused between Wait and sending, a connection that takes
//     longer than a second of Polar's minute to open).
//
// Wait never lets a request go without a grant: a Redis that cannot be
// reached is an error, and so is a Redis that does not answer within the
// context's deadline (or 5 s), so that the call fails before sending.
//
// # Keys
//
// For an idempotency key k (subkit passes it scoped to its API, as in
// "polar:order-1"), a Store with prefix p writes two Redis keys:
//
//	p{k}:lock   the holder's token, expiring with the lease
//	p{k}:record a hash: rec, the record's JSON; sent, its pending send time in ms on Redis's clock; expiring with the record's TTL
//
// with '%', '{' and '}' in k written as %25, %7B and %7D, so that {k} is the
// Redis Cluster hash tag of both: they land in one slot, and the scripts
// that touch both work on a cluster. p is DefaultPrefix unless
// StoreOptions.Prefix names another.
//
// A Limiter named n keeps its log in one key, escaped the same way:
//
//	subkit:rate:{n}   a sorted set: one member per grant, scored by the
//	                  Redis server's time of the grant in µs; it expires
//	                  one window after the last grant
//
// # Secrets
//
// A Store, its locks and a Limiter never print their Redis client, so a
// password in the client's options cannot reach a %v of them, nor of a
// caller's struct that holds them. Errors carry what go-redis reports (addresses, Redis's own
// messages), which never includes the password.
package subkitredis
