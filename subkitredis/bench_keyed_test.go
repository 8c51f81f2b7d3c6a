package subkitredis_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// BenchmarkKeyedCreate is what exactly-once costs a Polar create against the
// fake over loopback: a create without a key (the baseline of this
// benchmark), a fresh key with the default in-memory store and with a
// shared Redis store (the replay look-up and the store's lock and records),
// and a replay from each store. requests/op counts what reached the API.
// The fake's list scans every subscription it holds, so every run starts a
// fresh fake every 100 creates (timer stopped) to keep a look-up a look-up
// and not a scan of thousands.
func BenchmarkKeyedCreate(b *testing.B) {
	stores := []struct {
		name  string
		store func(b *testing.B) subkit.IdempotencyStore
	}{
		{"memory", func(*testing.B) subkit.IdempotencyStore { return subkit.NewMemoryStore() }},
		{"redis", func(b *testing.B) subkit.IdempotencyStore {
			return subkitredis.NewStore(redistest.NewServer(b).NewClient())
		}},
	}
	setup := func(b *testing.B, opts ...subkit.Option) (*subkittest.Server, *subkit.Client, *subkit.CustomerSubscriptionParams) {
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
	// run makes b.N creates, on a fresh fake every 100 (timer stopped).
	run := func(b *testing.B, opts []subkit.Option, callOpts func(i int) []subkit.CallOption) {
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
				srv, c, p = setup(b, opts...)
				b.StartTimer()
			}
			i++
			if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, callOpts(i)...); err != nil {
				b.Fatal(err)
			}
		}
		requests += len(srv.Requests(subkit.Polar))
		b.ReportMetric(float64(requests)/float64(i), "requests/op")
	}
	b.Run("unkeyed", func(b *testing.B) {
		run(b, nil, func(int) []subkit.CallOption { return nil })
	})
	for _, st := range stores {
		b.Run("keyed/"+st.name, func(b *testing.B) {
			cs := &countingStore{inner: st.store(b)}
			run(b, []subkit.Option{subkit.WithIdempotencyStore(cs)}, func(i int) []subkit.CallOption {
				return []subkit.CallOption{subkit.WithIdempotencyKey(fmt.Sprint("k", i))}
			})
			b.ReportMetric(float64(cs.calls.Load())/float64(b.N), "store-calls/op")
		})
		b.Run("replay/"+st.name, func(b *testing.B) {
			cs := &countingStore{inner: st.store(b)}
			srv, c, p := setup(b, subkit.WithIdempotencyStore(cs))
			if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, subkit.WithIdempotencyKey("once")); err != nil {
				b.Fatal(err)
			}
			before := len(srv.Requests(subkit.Polar))
			for b.Loop() {
				if _, err := c.Subscriptions.CreateForCustomer(context.Background(), p, subkit.WithIdempotencyKey("once")); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(srv.Requests(subkit.Polar))-before)/float64(b.N), "requests/op")
			b.ReportMetric(float64(cs.calls.Load()-2)/float64(b.N), "store-calls/op")
		})
	}
}

// countingStore counts the calls made to a store: each one round trip to
// Redis (a Lock that finds the key free included).
type countingStore struct {
	inner subkit.IdempotencyStore
	calls atomic.Int64
}

func (s *countingStore) Lock(ctx context.Context, key string, req subkit.LockRequest) (subkit.IdempotencyLock, *subkit.IdempotencyRecord, error) {
	s.calls.Add(1)
	l, rec, err := s.inner.Lock(ctx, key, req)
	if err != nil {
		return nil, nil, err
	}
	return &countingLock{s: s, inner: l}, rec, nil
}

type countingLock struct {
	s     *countingStore
	inner subkit.IdempotencyLock
}

func (l *countingLock) Extend(ctx context.Context, lease time.Duration) error {
	l.s.calls.Add(1)
	return l.inner.Extend(ctx, lease)
}
func (l *countingLock) Save(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.s.calls.Add(1)
	return l.inner.Save(ctx, rec, ttl)
}
func (l *countingLock) Release(ctx context.Context, rec *subkit.IdempotencyRecord, ttl time.Duration) error {
	l.s.calls.Add(1)
	return l.inner.Release(ctx, rec, ttl)
}
func (l *countingLock) Unlock(ctx context.Context) error {
	l.s.calls.Add(1)
	return l.inner.Unlock(ctx)
}
