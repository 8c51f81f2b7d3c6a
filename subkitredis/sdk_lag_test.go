package subkitredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkitredis"
	"github.com/subkit-go/subkit/subkittest"
)

// Look-ups may lag: a keyed create trusts a look-up's "not there" only once
// SettleTime has passed since its create may have been applied. Tested
// against a fake whose look-ups read a lagging replica, as Polar's do.

// lagFake is a Polar fake with one product and customer whose look-ups see
// a create only lag after it was applied.
func lagFake(t *testing.T, lag time.Duration) (srv *subkittest.Server, product, customer string) {
	t.Helper()
	srv = subkittest.NewServer(subkittest.WithReadLag(subkit.Polar, lag, lag))
	t.Cleanup(srv.Close)
	return srv, srv.AddPolarProduct(subkittest.PolarProduct{}), srv.AddPolarCustomer(subkittest.PolarCustomer{})
}

// Two processes, one after the other, right after a success: the second must
// not trust a look-up that cannot see the first's create yet.
func TestSequentialCallsOnTwoProcessesUnderLag(t *testing.T) {
	const lag = 2 * time.Second
	create := func(c *subkit.Client, product, customer string, info *subkit.ResponseInfo) error {
		_, err := c.Subscriptions.CreateForCustomer(context.Background(),
			&subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer},
			subkit.WithIdempotencyKey("signup-7"), subkit.WithResponseInfo(info))
		return err
	}
	t.Run("sharing a Redis store: replayed from the record", func(t *testing.T) {
		rdb := redistest.NewServer(t)
		srv, product, customer := lagFake(t, lag)
		a, err := srv.Client(subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
		require.NoError(t, err)
		b, err := srv.Client(subkit.WithIdempotencyStore(subkitredis.NewStore(rdb.NewClient())))
		require.NoError(t, err)
		var first, second subkit.ResponseInfo
		require.NoError(t, create(a, product, customer, &first))
		require.NoError(t, create(b, product, customer, &second))
		assert.Equal(t, subkit.OutcomeCreated, first.Outcome)
		assert.Equal(t, subkit.OutcomeReplayed, second.Outcome)
		assert.Equal(t, first.RequestID, second.RequestID, "the record keeps the create's request ID")
		assert.Equal(t, 1, len(srv.PolarSubscriptions()))
	})
	t.Run("each with its own store: the lag shows, as the README says", func(t *testing.T) {
		srv, product, customer := lagFake(t, lag)
		a, err := srv.Client(subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
		require.NoError(t, err)
		b, err := srv.Client(subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
		require.NoError(t, err)
		var info subkit.ResponseInfo
		require.NoError(t, create(a, product, customer, &info))
		require.NoError(t, create(b, product, customer, &info))
		assert.Equal(t, 2, len(srv.PolarSubscriptions()),
			"without a shared store the second process's look-up reads the lagging replica: the README's table says so")
	})
}

// After an ambiguous failure, the create is looked for until SettleTime has
// passed: the default covers 5 s of lag.
func TestReconcileWaitsOutReadLag(t *testing.T) {
	const lag = 5 * time.Second
	for _, tc := range []struct {
		name   string
		settle time.Duration // 0: the default
		want   int           // subscriptions held
	}{
		{"the default SettleTime covers 5 s", 0, 1},
		{"a SettleTime shorter than the lag does not", time.Second, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, product, customer := lagFake(t, lag)
			c, err := srv.Client(subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond,
				SettleTime: tc.settle}))
			require.NoError(t, err)
			srv.InjectFault(subkit.Polar, 1, subkittest.RespondAfterHandling(502, "").On(subkittest.OpCreate))
			var info subkit.ResponseInfo
			_, err = c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{ProductID: product, CustomerID: customer},
				subkit.WithIdempotencyKey("order-lag"), subkit.WithResponseInfo(&info))
			require.NoError(t, err)
			assert.Equal(t, tc.want, len(srv.PolarSubscriptions()))
			if tc.want == 1 {
				assert.Equal(t, subkit.OutcomeReconciled, info.Outcome)
			}
		})
	}
}
