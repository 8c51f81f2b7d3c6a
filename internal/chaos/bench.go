package chaos

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

// BenchStore is a store a keyed-create benchmark measures.
type BenchStore struct {
	Name string
	// New returns a store on a fresh backend.
	New func(b *testing.B) subkit.IdempotencyStore
}

// BenchKeyedCreate is what exactly-once costs a Polar create against the
// fake over loopback, on each store: a create without a key (the baseline),
// a fresh key (the store's lock with its claim, the replay look-up, the
// release with the record), and a replay from the store. requests/op counts
// what reached the API, store-calls/op the calls the SDK made on the store
// (Lock, Extend, Save, Release, Unlock: each one round trip for the SQL and
// Redis stores). The fake's list scans every subscription it holds, so a
// fresh fake replaces it every 100 creates (timer stopped), to keep a
// look-up a look-up and not a scan of thousands. Run with -bench and
// compare each line's ns/op with the unkeyed one of the same run.
func BenchKeyedCreate(b *testing.B, stores []BenchStore) {
	b.Run("unkeyed", func(b *testing.B) {
		benchCreates(b, nil, func(int) []subkit.CallOption { return nil })
	})
	for _, st := range stores {
		b.Run("keyed/"+st.Name, func(b *testing.B) {
			benchCreates(b, countCalls(b, st.New(b)), func(i int) []subkit.CallOption {
				return []subkit.CallOption{subkit.WithIdempotencyKey(fmt.Sprint("k", i))}
			})
		})
		b.Run("replay/"+st.Name, func(b *testing.B) {
			store := countCalls(b, st.New(b))
			srv, c, p := benchFake(b, subkit.WithIdempotencyStore(store))
			if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, subkit.WithIdempotencyKey("once")); err != nil {
				b.Fatal(err)
			}
			before, calls := len(srv.Requests(subkit.Polar)), store.calls.Load()
			for b.Loop() {
				if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, subkit.WithIdempotencyKey("once")); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(srv.Requests(subkit.Polar))-before)/float64(b.N), "requests/op")
			b.ReportMetric(float64(store.calls.Load()-calls)/float64(b.N), "store-calls/op")
		})
	}
}

// benchFake is a fresh fake with a product and a customer, and a client of
// it.
func benchFake(b *testing.B, opts ...subkit.Option) (*subkittest.Server, *subkit.Client, *subkit.CustomerSubscriptionParams) {
	srv := subkittest.NewServer()
	b.Cleanup(srv.Close)
	p := &subkit.CustomerSubscriptionParams{ProductID: srv.AddPolarProduct(subkittest.PolarProduct{}),
		CustomerID: srv.AddPolarCustomer(subkittest.PolarCustomer{})}
	c, err := srv.Client(opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.CloseIdleConnections)
	return srv, c, p
}

// benchCreates makes b.N creates with store (none: unkeyed), on a fresh
// fake every 100 (timer stopped).
func benchCreates(b *testing.B, store *countingStore, callOpts func(i int) []subkit.CallOption) {
	var opts []subkit.Option
	if store != nil {
		opts = append(opts, subkit.WithIdempotencyStore(store))
	}
	requests, i := 0, 0
	var srv *subkittest.Server
	var c *subkit.Client
	var p *subkit.CustomerSubscriptionParams
	for b.Loop() {
		if i%100 == 0 {
			b.StopTimer()
			if srv != nil {
				requests += len(srv.Requests(subkit.Polar))
				srv.Close()
			}
			srv, c, p = benchFake(b, opts...)
			b.StartTimer()
		}
		i++
		if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, callOpts(i)...); err != nil {
			b.Fatal(err)
		}
	}
	requests += len(srv.Requests(subkit.Polar))
	b.ReportMetric(float64(requests)/float64(i), "requests/op")
	if store != nil {
		b.ReportMetric(float64(store.calls.Load())/float64(i), "store-calls/op")
	}
}

// countingStore counts the calls made on a store and its locks.
type countingStore struct {
	inner subkit.IdempotencyStore
	calls atomic.Int64
}

func countCalls(b *testing.B, s subkit.IdempotencyStore) *countingStore {
	if s == nil {
		b.Fatal("the benchmark's store is nil")
	}
	return &countingStore{inner: s}
}

func (s *countingStore) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	s.calls.Add(1)
	l, rec, err := s.inner.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return &countingLock{inner: l, calls: &s.calls}, rec, nil
}

type countingLock struct {
	inner subkit.IdempotencyLock
	calls *atomic.Int64
}

func (l *countingLock) Extend(ctx context.Context, lease time.Duration) error {
	l.calls.Add(1)
	return l.inner.Extend(ctx, lease)
}

func (l *countingLock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.calls.Add(1)
	return l.inner.Save(ctx, rec, ttl)
}

func (l *countingLock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.calls.Add(1)
	return l.inner.Release(ctx, rec, ttl)
}

func (l *countingLock) Unlock(ctx context.Context) error {
	l.calls.Add(1)
	return l.inner.Unlock(ctx)
}
