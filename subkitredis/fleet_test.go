package subkitredis_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// fleet is a Polar fake with one product and one customer, and Redis for
// the processes of a fleet to share.
type fleet struct {
	t                 *testing.T
	api               *subkittest.Server
	redis             *redistest.Server
	product, customer string
	otherProduct      string
}

func newFleet(t *testing.T, opts ...redistest.Option) *fleet {
	api := subkittest.NewServer()
	t.Cleanup(api.Close)
	return &fleet{
		t:            t,
		api:          api,
		redis:        redistest.NewServer(t, opts...),
		product:      api.AddPolarProduct(subkittest.PolarProduct{Name: "Team"}),
		otherProduct: api.AddPolarProduct(subkittest.PolarProduct{Name: "Solo"}),
		customer:     api.AddPolarCustomer(subkittest.PolarCustomer{}),
	}
}

// process is a subkit Client as one process of the fleet has it: its own
// Redis connection pool, its own Store on the shared Redis.
func (f *fleet) process() *subkit.Client {
	f.t.Helper()
	c, err := f.api.Client(
		subkit.WithIdempotencyStore(subkitredis.NewStore(f.redis.NewClient())),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
	)
	require.NoError(f.t, err)
	f.t.Cleanup(c.CloseIdleConnections)
	return c
}

// create makes a Polar create for product under key (none when key is "").
func (f *fleet) create(c *subkit.Client, product, key string) (*subkit.Subscription, subkit.ResponseInfo, error) {
	var info subkit.ResponseInfo
	opts := []subkit.CallOption{subkit.WithResponseInfo(&info)}
	if key != "" {
		opts = append(opts, subkit.WithIdempotencyKey(key))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: f.customer}, opts...)
	return sub, info, err
}

// creates counts the creates the Polar fake received.
func (f *fleet) creates() int {
	n := 0
	for _, r := range f.api.Requests(subkit.Polar) {
		if r.Method == http.MethodPost {
			n++
		}
	}
	return n
}

func TestFleetCreatesOncePerKeyHoweverCallsOverlap(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	// The first create is applied, and answered, only after a while: the
	// other calls arrive while it holds the key, and a look-up of theirs
	// would not see it, so only the shared lock keeps them from creating.
	f.api.InjectFault(subkit.Polar, 1, subkittest.CommitLate(300*time.Millisecond).On(subkittest.OpCreate))

	const processes, callsEach = 3, 4
	type result struct {
		id   string
		info subkit.ResponseInfo
		err  error
	}
	results := make(chan result, processes*callsEach)
	var wg sync.WaitGroup
	for range processes {
		c := f.process()
		for range callsEach {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sub, info, err := f.create(c, f.product, "order-1")
				r := result{info: info, err: err}
				if sub != nil {
					r.id = sub.ID
				}
				results <- r
			}()
		}
	}
	wg.Wait()
	close(results)

	held := f.api.PolarSubscriptions()
	require.Equal(t, 1, len(held), "one subscription for one key")
	outcomes := map[subkit.Outcome]int{}
	for r := range results {
		require.NoError(t, r.err)
		assert.Equal(t, held[0].ID, r.id, "every call returns the one subscription")
		outcomes[r.info.Outcome]++
	}
	assert.Equal(t, map[subkit.Outcome]int{subkit.OutcomeCreated: 1, subkit.OutcomeReplayed: processes*callsEach - 1}, outcomes)
	assert.Equal(t, 1, f.creates())

	// A process that starts later replays from the store: not even a look-up.
	before := len(f.api.Requests(subkit.Polar))
	sub, info, err := f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)
	assert.Equal(t, held[0].ID, sub.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, 201, info.StatusCode, "the recorded create's status")
	assert.Equal(t, held[0].RequestID, info.RequestID, "the recorded create's request ID")
	assert.Zero(t, info.Attempts)
	assert.Len(t, f.api.Requests(subkit.Polar), before, "nothing sent")

	// The key belongs to that create: another product under it is refused,
	// from the store, before anything is sent.
	_, _, err = f.create(f.process(), f.otherProduct, "order-1")
	assert.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Len(t, f.api.Requests(subkit.Polar), before, "nothing sent")
	assert.Len(t, f.api.PolarSubscriptions(), 1)
}

func TestFleetWithRedisDownSendsNoKeyedCreate(t *testing.T) {
	t.Parallel()
	const password = "fleet-redis-passw0rd"
	f := newFleet(t, redistest.WithPassword(password))
	// A short lease: a keyed create tries a store that cannot be reached
	// again for one lease before it gives up.
	c, err := f.api.Client(subkit.WithIdempotencyStore(subkitredis.NewStore(f.redis.NewClient())),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}),
		subkit.WithIdempotencyLease(500*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	f.redis.Stop()

	_, info, err := f.create(c, f.product, "order-1")
	require.ErrorIs(t, err, subkit.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown, "nothing was sent: definite")
	assert.ErrorContains(t, err, "connection refused")
	assert.NotContains(t, err.Error(), password)
	assert.Empty(t, info.Outcome)
	assert.Empty(t, f.api.Requests(subkit.Polar), "nothing reached the API, not even a look-up")

	// A create without a key does not need the store.
	sub, info, err := f.create(c, f.product, "")
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome)
	assert.Equal(t, 1, f.creates())
	assert.Equal(t, sub.ID, f.api.PolarSubscriptions()[0].ID)
}

func TestFleetAfterARestartWithoutPersistenceLooksTheKeyUp(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	first, _, err := f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)

	f.redis.Stop()
	f.redis.Start() // the record is gone
	before := len(f.api.Requests(subkit.Polar))
	sub, info, err := f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)
	assert.Equal(t, first.ID, sub.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	sent := f.api.Requests(subkit.Polar)[before:]
	require.Len(t, sent, 1, "one look-up")
	assert.Equal(t, http.MethodGet, sent[0].Method)
	assert.Equal(t, 1, f.creates())

	// The look-up's find is recorded again: the next call needs no request.
	before = len(f.api.Requests(subkit.Polar))
	_, info, err = f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Len(t, f.api.Requests(subkit.Polar), before)
}

func TestFleetAfterARestartWithAppendOnlyReplaysFromTheStore(t *testing.T) {
	t.Parallel()
	f := newFleet(t, redistest.WithAppendOnly())
	first, _, err := f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)

	f.redis.Stop()
	f.redis.Start()
	before := len(f.api.Requests(subkit.Polar))
	sub, info, err := f.create(f.process(), f.product, "order-1")
	require.NoError(t, err)
	assert.Equal(t, first.ID, sub.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Len(t, f.api.Requests(subkit.Polar), before, "nothing sent")
}
