package subkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// A pending create settled from the subscription a webhook carries: the
// next call with the key replays it from the store, sending nothing. A
// subscription of another create under the key, one without the key, and
// a record that is not pending change nothing.
func TestSettlePendingCreate(t *testing.T) {
	f := newStoreFake(t)
	store := subkit.NewMemoryStore()
	c := f.client(t, subkit.WithIdempotencyStore(store))
	params := &subkit.CustomerSubscriptionParams{ProductID: f.product, CustomerID: f.customer, Metadata: subkit.Metadata{"seats": 3}}
	ctx := context.Background()
	lock, _, err := store.Lock(ctx, "polar:order-w", subkit.LockRequest{Lease: time.Minute,
		Claim: subkit.PolarPendingRecord(c, params, "order-w"), ClaimTTL: time.Hour})
	require.NoError(t, err)
	require.NoError(t, lock.Unlock(ctx))

	// What the create made, as the webhook would carry it: made on the
	// server by a client with a store of its own.
	other := f.client(t, subkit.WithIdempotencyStore(subkit.NewMemoryStore()))
	sub, err := other.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-w"))
	require.NoError(t, err)

	stranger := *sub
	stranger.ProductID = f.otherProduct
	settled, err := subkit.SettlePendingCreate(ctx, store, &stranger)
	require.NoError(t, err)
	assert.False(t, settled, "another create under the key settles nothing")
	unkeyed := *sub
	unkeyed.Metadata = subkit.Metadata{"seats": int64(3)}
	settled, err = subkit.SettlePendingCreate(ctx, store, &unkeyed)
	require.NoError(t, err)
	assert.False(t, settled, "a subscription without the key settles nothing")

	settled, err = subkit.SettlePendingCreate(ctx, store, sub)
	require.NoError(t, err)
	assert.True(t, settled)
	settled, err = subkit.SettlePendingCreate(ctx, store, sub)
	require.NoError(t, err)
	assert.False(t, settled, "a record no longer pending is left as it is")

	before := len(f.srv.Requests(subkit.Polar))
	var info subkit.ResponseInfo
	got, err := c.Subscriptions.CreateForCustomer(ctx, params, subkit.WithIdempotencyKey("order-w"), subkit.WithResponseInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, sub.ID, got.ID)
	assert.Equal(t, subkit.OutcomeReplayed, info.Outcome)
	assert.Equal(t, before, len(f.srv.Requests(subkit.Polar)), "replayed from the store: nothing sent, no settle time waited")
}
