package subkit_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// The fenced protocol's scenarios, each with a control that passes on the
// old protocol too: a lease lost while the holder waits, a store that
// hangs, a cancel while settling, records of another target, a create that
// differs only in metadata, two Clients of one process.

// cutStore is a store whose link to its backend can be cut: while cut,
// every call fails at once (a refused connection) — and, if hang is set,
// instead blocks until released, ignoring its context (a stopped server
// with no client timeout).
type cutStore struct {
	inner subkit.IdempotencyStore
	mu    sync.Mutex
	cut   bool
	hang  chan struct{} // closed to let hung calls go
}

var errLinkCut = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (s *cutStore) down() error {
	s.mu.Lock()
	cut, hang := s.cut, s.hang
	s.mu.Unlock()
	if hang != nil {
		<-hang
		return errLinkCut
	}
	if cut {
		return errLinkCut
	}
	return nil
}

func (s *cutStore) setCut(cut bool) { s.mu.Lock(); s.cut = cut; s.mu.Unlock() }

func (s *cutStore) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	if err := s.down(); err != nil {
		return nil, nil, err
	}
	l, rec, err := s.inner.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return &cutLock{s: s, inner: l}, rec, nil
}

type cutLock struct {
	s     *cutStore
	inner subkit.IdempotencyLock
}

func (l *cutLock) Extend(ctx context.Context, lease time.Duration) error {
	if err := l.s.down(); err != nil {
		return err
	}
	return l.inner.Extend(ctx, lease)
}
func (l *cutLock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	if err := l.s.down(); err != nil {
		return err
	}
	return l.inner.Save(ctx, rec, ttl)
}
func (l *cutLock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	if err := l.s.down(); err != nil {
		return err
	}
	return l.inner.Release(ctx, rec, ttl)
}
func (l *cutLock) Unlock(ctx context.Context) error {
	if err := l.s.down(); err != nil {
		return err
	}
	return l.inner.Unlock(ctx)
}

// A holds the key and waits out a 429 (Retry-After 1 s); meanwhile its link
// to the store is cut for longer than the lease, so its extension fails. B,
// on the same store, takes the key once the lease has run out, settles A's
// pending mark and creates. A's retry must not go: one subscription, and A
// says nothing more was sent. The control keeps the link: A's retry goes,
// B waits for A and replays.
func TestLeaseLostWhileWaitingOutA429SendsNothingMore(t *testing.T) {
	for _, cut := range []bool{false, true} {
		name := "control: the link holds"
		if cut {
			name = "the link is cut past the lease"
		}
		t.Run(name, func(t *testing.T) {
			f := newStoreFake(t)
			shared := subkit.NewMemoryStore()
			linkA := &cutStore{inner: shared}
			const lease = 300 * time.Millisecond
			a := f.client(t, subkit.WithIdempotencyStore(linkA), subkit.WithIdempotencyLease(lease))
			b := f.client(t, subkit.WithIdempotencyStore(shared), subkit.WithIdempotencyLease(lease))
			f.srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited("1").On(subkittest.OpCreate))

			var infoA subkit.ResponseInfo
			var errA error
			doneA := make(chan struct{})
			go func() {
				defer close(doneA)
				_, errA = f.create(a, f.product, "order-lease", &infoA)
			}()
			require.Eventually(t, func() bool { return len(f.srv.Requests(subkit.Polar)) >= 2 }, 10*time.Second, 5*time.Millisecond,
				"A looked up and met the 429")
			linkA.setCut(cut)
			var infoB subkit.ResponseInfo
			sb, errB := f.create(b, f.product, "order-lease", &infoB)
			<-doneA
			linkA.setCut(false)

			require.NoError(t, errB)
			held := f.srv.PolarSubscriptions()
			require.Len(t, held, 1, "one subscription")
			assert.Equal(t, held[0].ID, sb.ID)
			if cut {
				require.Error(t, errA)
				assert.ErrorIs(t, errA, subkit.ErrLockLost)
				assert.Equal(t, subkit.ActionRetry, subkit.Classify(errA).Action)
				assert.NotErrorIs(t, errA, subkit.ErrOutcomeUnknown, "definite: its one attempt was a 429")
				assert.Equal(t, subkit.OutcomeCreated, infoB.Outcome, "B created, after settling A's mark")
			} else {
				require.NoError(t, errA)
				assert.Equal(t, subkit.OutcomeCreated, infoA.Outcome)
				assert.Equal(t, subkit.OutcomeReplayed, infoB.Outcome)
			}
		})
	}
}

// A store that stops answering (and ignores contexts) never holds a call
// past WithTimeout, at any step: taking the key, or while the create's
// lease is extended and its record saved. The control has a live store.
func TestHungStoreNeverHoldsACallPastItsTimeout(t *testing.T) {
	for _, step := range []string{"control", "taking the key", "after sending"} {
		t.Run(step, func(t *testing.T) {
			f := newStoreFake(t)
			s := &cutStore{inner: subkit.NewMemoryStore()}
			release := make(chan struct{})
			defer close(release)
			c := f.client(t, subkit.WithIdempotencyStore(s), subkit.WithTimeout(time.Second), subkit.WithIdempotencyLease(600*time.Millisecond))
			switch step {
			case "taking the key":
				s.hang = release
			case "after sending":
				f.srv.InjectFault(subkit.Polar, 1, subkittest.Delay(300*time.Millisecond).On(subkittest.OpCreate))
				go func() {
					time.Sleep(150 * time.Millisecond)
					s.mu.Lock()
					s.hang = release
					s.mu.Unlock()
				}()
			}
			start := time.Now()
			var info subkit.ResponseInfo
			_, err := f.create(c, f.product, "order-hung", &info)
			took := time.Since(start)
			assert.Less(t, took, 5*time.Second, "returns within the timeout and a wide margin")
			switch step {
			case "control":
				require.NoError(t, err)
			case "taking the key":
				require.Error(t, err)
				assert.ErrorIs(t, err, subkit.ErrNotSent)
				assert.Empty(t, f.srv.Requests(subkit.Polar), "nothing sent without the key")
			case "after sending":
				require.NoError(t, err, "the create was answered: the store's hang costs only the record")
				assert.Len(t, f.srv.PolarSubscriptions(), 1)
			}
			assert.NotEqual(t, "not an error of this package", subkit.Classify(err).Reason, "every error is this package's")
		})
	}
}

// A call that finds an earlier call's pending create and is cancelled while
// it settles returns an error of this package that says nothing was sent —
// not a bare context.Canceled. The control lets it settle.
func TestCancelWhileSettlingIsNotSent(t *testing.T) {
	for _, cancelIt := range []bool{false, true} {
		t.Run(map[bool]string{false: "control", true: "cancelled"}[cancelIt], func(t *testing.T) {
			f := newStoreFake(t)
			store := subkit.NewMemoryStore()
			p := fastPolicy()
			p.SettleTime = 2 * time.Second
			c, err := f.srv.Client(subkit.WithRetryPolicy(p), subkit.WithIdempotencyStore(store))
			require.NoError(t, err)
			params := &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer}
			lock, _, err := store.Lock(context.Background(), "polar:order-settle",
				subkit.LockRequest{Lease: time.Minute, Claim: subkit.PolarPendingRecord(c, params, "order-settle"), ClaimTTL: time.Hour})
			require.NoError(t, err)
			require.NoError(t, lock.Unlock(context.Background()))

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if cancelIt {
				time.AfterFunc(300*time.Millisecond, cancel)
			}
			var info subkit.ResponseInfo
			_, err = c.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-settle"), subkit.WithResponseInfo(&info))
			if !cancelIt {
				require.NoError(t, err)
				assert.Equal(t, subkit.OutcomeCreated, info.Outcome, "settled as not applied, then created")
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, context.Canceled)
			assert.ErrorIs(t, err, subkit.ErrNotSent)
			assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
			assert.NotEqual(t, "not an error of this package", subkit.Classify(err).Reason, "Classify knows it")
			assert.Empty(t, f.srv.PolarSubscriptions())
		})
	}
}

// A record made against one target (a fake: a dry run) never answers for
// another (production) under the same key and store: the second target
// gets its own create. The control runs the same key twice on one target.
func TestRecordsOfAnotherTargetNeverReplay(t *testing.T) {
	store := subkit.NewMemoryStore()
	dry, live := newStoreFake(t), newStoreFake(t)
	live.product, live.customer = live.srv.AddPolarProduct(subkittest.PolarProduct{}), live.srv.AddPolarCustomer(subkittest.PolarCustomer{})
	cd := dry.client(t, subkit.WithIdempotencyStore(store))
	cl := live.client(t, subkit.WithIdempotencyStore(store))
	var info subkit.ResponseInfo
	_, err := dry.create(cd, dry.product, "order-t", &info)
	require.NoError(t, err)
	_, err = dry.create(cd, dry.product, "order-t", &info)
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome, "control: one target replays")

	_, err = cl.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: live.product, CustomerID: live.customer},
		subkit.WithIdempotencyKey("order-t"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, subkit.OutcomeCreated, info.Outcome, "the live target creates: the dry run's record is not its own")
	assert.Len(t, live.srv.PolarSubscriptions(), 1)
	assert.Len(t, dry.srv.PolarSubscriptions(), 1)
}

// The same key with only other metadata is another create: a conflict,
// nothing sent — from the store's record and, with a fresh store, from the
// look-up. The control repeats the same metadata and replays.
func TestMetadataIsPartOfTheCreate(t *testing.T) {
	f := newStoreFake(t)
	create := func(c *subkit.Client, md subkit.Metadata, info *subkit.ResponseInfo) error {
		_, err := c.Subscriptions.CreateForCustomer(context.Background(),
			&subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer, Metadata: md},
			subkit.WithIdempotencyKey("order-md"), subkit.WithResponseInfo(info))
		return err
	}
	c := f.client(t, subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
	var info subkit.ResponseInfo
	require.NoError(t, create(c, subkit.Metadata{"plan": "pro", "seats": 3}, &info))
	require.NoError(t, create(c, subkit.Metadata{"seats": 3, "plan": "pro"}, &info))
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome, "control: the same metadata replays")

	before := len(f.srv.Requests(subkit.Polar))
	err := create(c, subkit.Metadata{"plan": "enterprise", "seats": 3}, &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict, "from the store's record")
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)), "nothing sent")

	fresh := f.client(t, subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
	err = create(fresh, subkit.Metadata{"plan": "pro", "seats": 4}, &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict, "from the look-up, which compares the metadata")
	require.NoError(t, create(fresh, subkit.Metadata{"plan": "pro", "seats": 3}, &info))
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Len(t, f.srv.PolarSubscriptions(), 1)
	for _, r := range f.srv.Requests(subkit.Polar) {
		if r.Method == http.MethodPost {
			assert.Equal(t, http.StatusCreated, r.Status)
		}
	}
}

// Two Clients of one process, each with the default store, never create
// one key twice, even overlapping under read lag: the default store serves
// the process.
func TestTwoClientsOfOneProcessShareTheDefaultStore(t *testing.T) {
	srv := subkittest.NewServer(subkittest.WithReadLag(subkit.Polar, time.Second, time.Second))
	t.Cleanup(srv.Close)
	product := srv.AddPolarProduct(subkittest.PolarProduct{})
	customer := srv.AddPolarCustomer(subkittest.PolarCustomer{})
	p := fastPolicy()
	p.SettleTime = 1500 * time.Millisecond
	var clients [2]*subkit.Client
	for i := range clients {
		c, err := srv.Client(subkit.WithRetryPolicy(p))
		require.NoError(t, err)
		clients[i] = c
	}
	var wg sync.WaitGroup
	outcomes := make([]subkit.Outcome, 2*len(clients))
	for i := range outcomes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var info subkit.ResponseInfo
			_, err := clients[i%2].Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer},
				subkit.WithIdempotencyKey("order-2c-"+t.Name()), subkit.WithResponseInfo(&info))
			assert.NoError(t, err)
			outcomes[i] = info.Outcome
		}()
	}
	wg.Wait()
	assert.Len(t, srv.PolarSubscriptions(), 1, "one create for the process")
	assert.ElementsMatch(t, []subkit.Outcome{subkit.OutcomeCreated, subkit.OutcomeReplayed, subkit.OutcomeReplayed, subkit.OutcomeReplayed}, outcomes)
}

// A's first attempt draws a 429 with Retry-After 1 s; its second is
// applied, its answer lost, and A's timeout ends it while the lagging
// look-ups cannot see it yet: unknown, record pending. The mark must be
// the second attempt's, made right before it went, not the first's: B,
// calling at once, settles from there, sees the create once the lag has
// passed, and replays it. The control has no 429.
func TestSendingMarkIsTheLastAttempts(t *testing.T) {
	for _, throttled := range []bool{false, true} {
		t.Run(map[bool]string{false: "control: no 429", true: "a 429 first"}[throttled], func(t *testing.T) {
			t.Parallel()
			srv := subkittest.NewServer(subkittest.WithReadLag(subkit.Polar, 400*time.Millisecond, 400*time.Millisecond))
			t.Cleanup(srv.Close)
			product, customer := srv.AddPolarProduct(subkittest.PolarProduct{}), srv.AddPolarCustomer(subkittest.PolarCustomer{})
			store := subkit.NewMemoryStore()
			p := fastPolicy()
			p.SettleTime = 600 * time.Millisecond
			timeout := 300 * time.Millisecond
			if throttled {
				srv.InjectFault(subkit.Polar, 1, subkittest.RateLimited("1").On(subkittest.OpCreate))
				timeout += time.Second
			}
			srv.InjectFault(subkit.Polar, 1, subkittest.CloseAfterHandling().On(subkittest.OpCreate))
			a, err := srv.Client(subkit.WithRetryPolicy(p), subkit.WithTimeout(timeout), subkit.WithIdempotencyStore(store))
			require.NoError(t, err)
			b, err := srv.Client(subkit.WithRetryPolicy(p), subkit.WithIdempotencyStore(store))
			require.NoError(t, err)
			params := &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer}
			_, err = a.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("mark-1"))
			require.ErrorIs(t, err, subkit.ErrOutcomeUnknown)
			var info subkit.ResponseInfo
			_, err = b.Subscriptions.CreateForCustomer(context.Background(), params, subkit.WithIdempotencyKey("mark-1"), subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Len(t, srv.PolarSubscriptions(), 1, "one subscription")
			assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
		})
	}
}
