package subkit_test

import (
	"bytes"
	"context"
	"encoding/json"
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

// Rule 10 over real sockets: keyed creates take their key in the idempotency
// store, so calls with one key never create twice however they overlap, and
// a later call replays the store's record without asking the API.

// storeFake is a fake with one Polar product and customer and one
// Chargeflow dispute, seeded.
type storeFake struct {
	srv                 *subkittest.Server
	product, customer   string
	otherProduct        string
	dispute             string
	externalCustomerRef string
}

func newStoreFake(t *testing.T) *storeFake {
	t.Helper()
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	f := &storeFake{srv: srv, dispute: "65f0c1d2e3a4b5c6d7e8f9aa", externalCustomerRef: "usr_store_1"}
	f.product = srv.AddPolarProduct(subkittest.PolarProduct{})
	f.otherProduct = srv.AddPolarProduct(subkittest.PolarProduct{Name: "Other"})
	f.customer = srv.AddPolarCustomer(subkittest.PolarCustomer{ExternalID: f.externalCustomerRef})
	srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: f.dispute})
	return f
}

func (f *storeFake) client(t *testing.T, opts ...subkit.Option) *subkit.Client {
	t.Helper()
	p := fastPolicy()
	p.SettleTime = 200 * time.Millisecond
	c, err := f.srv.Client(append([]subkit.Option{subkit.WithRetryPolicy(p)}, opts...)...)
	require.NoError(t, err)
	return c
}

func (f *storeFake) create(c *subkit.Client, product, key string, info *subkit.ResponseInfo) (*subkit.Subscription, error) {
	return c.Subscriptions.CreateForCustomer(context.Background(),
		&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: f.customer},
		subkit.WithIdempotencyKey(key), subkit.WithResponseInfo(info))
}

func (f *storeFake) polarRequests(method string) int {
	n := 0
	for _, r := range f.srv.Requests(subkit.Polar) {
		if r.Method == method {
			n++
		}
	}
	return n
}

func TestOverlappingKeyedCallsCreateOnce(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := "one client"
		if shared {
			name = "four clients sharing one store"
		}
		t.Run(name, func(t *testing.T) {
			f := newStoreFake(t)
			store := subkit.NewMemoryStore()
			clients := []*subkit.Client{f.client(t)}
			if shared {
				clients = nil
				for range 4 {
					clients = append(clients, f.client(t, subkit.WithIdempotencyStore(store)))
				}
			}
			// The first create is slow, so the others arrive while it runs:
			// what an HTTP client that retries on its own timeout does.
			f.srv.InjectFault(subkit.Polar, 1, subkittest.Delay(150*time.Millisecond).On(subkittest.OpCreate))
			const n = 8
			infos := make([]subkit.ResponseInfo, n)
			ids := make([]string, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					s, err := f.create(clients[i%len(clients)], f.product, "signup-42", &infos[i])
					errs[i] = err
					if s != nil {
						ids[i] = s.ID
					}
				}()
			}
			wg.Wait()
			held := f.srv.PolarSubscriptions()
			require.Equal(t, 1, len(held), "one key, one subscription")
			created := 0
			for i := range n {
				require.NoError(t, errs[i])
				assert.Equal(t, held[0].ID, ids[i], "every call returns the same subscription")
				switch infos[i].Outcome {
				case subkit.OutcomeCreated:
					created++
				case subkit.OutcomeReplayed:
					assert.Zero(t, infos[i].Attempts, "a replay sends no create")
					assert.Equal(t, held[0].RequestID, infos[i].RequestID, "a replay from the store keeps the create's request ID")
				default:
					t.Errorf("call %d: outcome %q", i, infos[i].Outcome)
				}
			}
			assert.Equal(t, 1, created)
			assert.Equal(t, 1, f.polarRequests(http.MethodPost))
			assert.Equal(t, 1, f.polarRequests(http.MethodGet), "only the first call looked the key up at the API")
		})
	}
}

func TestKeyedCreateReplaysFromTheStoreWithoutRequests(t *testing.T) {
	f := newStoreFake(t)
	c := f.client(t)
	var first, again subkit.ResponseInfo
	s1, err := f.create(c, f.product, "order-11", &first)
	require.NoError(t, err)
	before := len(f.srv.Requests(subkit.Polar))
	s2, err := f.create(c, f.product, "order-11", &again)
	require.NoError(t, err)
	assert.Equal(t, s1.ID, s2.ID)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)), "nothing sent: the store has the record")
	assert.Equal(t, subkit.ResponseInfo{API: subkit.Polar, StatusCode: first.StatusCode, RequestID: first.RequestID,
		Outcome: subkit.OutcomeReplayed}, again)
	assert.Equal(t, s1, s2, "the recorded subscription is the created one, field for field")
}

func TestKeyReusedForAnotherCreateIsAConflict(t *testing.T) {
	f := newStoreFake(t)
	c := f.client(t)
	var info subkit.ResponseInfo
	_, err := f.create(c, f.product, "order-12", &info)
	require.NoError(t, err)
	before := len(f.srv.Requests(subkit.Polar))

	// Found in the store: nothing is sent.
	_, err = f.create(c, f.otherProduct, "order-12", &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)))

	// Found by the key-only look-up on a client without the record: the
	// same verdict, after one GET and no POST.
	_, err = f.create(f.client(t), f.otherProduct, "order-12", &info)
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, 1, f.polarRequests(http.MethodPost))
	assert.Equal(t, 1, len(f.srv.PolarSubscriptions()))

	// Chargeflow: the key for another dispute is found in the store.
	other := "65f0c1d2e3a4b5c6d7e8f9bb"
	f.srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: other})
	p := minimalDisputeParams()
	_, err = c.Subscriptions.CreateForDispute(context.Background(), f.dispute, p, subkit.WithIdempotencyKey("cf-1"))
	require.NoError(t, err)
	_, err = c.Subscriptions.CreateForDispute(context.Background(), other, p, subkit.WithIdempotencyKey("cf-1"))
	require.ErrorIs(t, err, subkit.ErrIdempotencyConflict)
	assert.Equal(t, 1, len(f.srv.ChargeflowSubscriptions()))

	// A key is scoped to its API: the Polar key "order-12" is free on Chargeflow.
	_, err = c.Subscriptions.CreateForDispute(context.Background(), other, p, subkit.WithIdempotencyKey("order-12"))
	require.NoError(t, err)
}

// A process that died between sending its create and recording it leaves its
// lock (until the lease runs out) and a pending record behind. The next call
// waits for the lease, looks the create up until it has settled, and replays
// it: still exactly one subscription.
func TestKeyedCreateAfterAHolderDied(t *testing.T) {
	testAfterAHolderDied(t, subkit.NewMemoryStore())
}

func testAfterAHolderDied(t *testing.T, store subkit.IdempotencyStore) {
	f := newStoreFake(t)
	const lease = 150 * time.Millisecond
	const key = "order-13"

	// The dead process: it took the key, recorded that it was sending, sent
	// the create (as the SDK would, key in metadata), and died.
	c := f.client(t, subkit.WithIdempotencyStore(store), subkit.WithIdempotencyLease(lease))
	pending := subkit.PolarPendingRecord(c, &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer}, key)
	_, rec, err := store.Lock(context.Background(), "polar:"+key, subkit.LockRequest{Lease: lease, Claim: pending, ClaimTTL: time.Hour})
	require.NoError(t, err)
	require.Nil(t, rec)
	body, _ := json.Marshal(map[string]any{"product_id": f.product, "customer_id": f.customer,
		"metadata": map[string]string{"subkit_idempotency_key": key}})
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL()+"/v1/subscriptions/", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+subkittest.PolarToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusCreated, resp.StatusCode)

	var info subkit.ResponseInfo
	s, err := f.create(c, f.product, key, &info)
	require.NoError(t, err)
	held := f.srv.PolarSubscriptions()
	require.Equal(t, 1, len(held))
	assert.Equal(t, held[0].ID, s.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, 1, f.polarRequests(http.MethodPost), "the dead process's create only")

	// The lease it left is over and the key is recorded now: a later call
	// neither waits nor asks the API.
	before := len(f.srv.Requests(subkit.Polar))
	_, err = f.create(c, f.product, key, &info)
	require.NoError(t, err)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)))
}

// A call waiting for a key that another call holds gives up when its own
// context ends: nothing sent, and it says so.
func TestWaitingForAKeyEndsWithTheContext(t *testing.T) {
	f := newStoreFake(t)
	store := subkit.NewMemoryStore()
	lock, _, err := store.Lock(context.Background(), "polar:order-14", subkit.LockRequest{Lease: time.Minute})
	require.NoError(t, err)
	defer func() { _ = lock.Unlock(context.Background()) }()
	c := f.client(t, subkit.WithIdempotencyStore(store))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer},
		subkit.WithIdempotencyKey("order-14"))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, subkit.ErrNotSent)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown)
	assert.Empty(t, f.srv.Requests(subkit.Polar))
}

// failingStore is a store that cannot be reached.
type failingStore struct{}

func (failingStore) Lock(context.Context, string, subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	return nil, nil, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
}

func TestKeyedCreateWithoutItsStoreSendsNothing(t *testing.T) {
	f := newStoreFake(t)
	c := f.client(t, subkit.WithIdempotencyStore(failingStore{}))
	var info subkit.ResponseInfo
	_, err := f.create(c, f.product, "order-15", &info)
	require.ErrorIs(t, err, subkit.ErrStoreUnavailable)
	assert.NotErrorIs(t, err, subkit.ErrOutcomeUnknown, "definite: nothing was sent")
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.Equal(t, subkit.ActionRetryLater, subkit.Classify(err).Action)
	assert.Empty(t, f.srv.Requests(subkit.Polar))

	// Unkeyed creates do not use the store.
	_, err = c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer})
	require.NoError(t, err)
	// Nor do Reconcile's random keys, which cannot collide.
	p := fastPolicy()
	p.Reconcile = true
	c = f.client(t, subkit.WithIdempotencyStore(failingStore{}), subkit.WithRetryPolicy(p))
	_, err = c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer})
	require.NoError(t, err)
}

func TestNilStoreIsRefused(t *testing.T) {
	_, err := subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithIdempotencyStore(nil))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithIdempotencyStore")
	_, err = subkit.New(subkit.WithOrganizationToken(testPolarToken), subkit.WithIdempotencyLease(0))
	assert.ErrorContains(t, err, "WithIdempotencyLease")
}
