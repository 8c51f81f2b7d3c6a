package subkit

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/subkit-go/subkit/internal/validate"
)

// SettlePendingCreate records sub as the result of the keyed Polar create
// that made it, when that create's record in store is still pending: a
// call that ended with ErrOutcomeUnknown (applied, answer lost, look-ups
// failing or lagging) then replays sub from the store next time, without
// waiting RetryPolicy.SettleTime or sending anything. It is what a
// subscription.created webhook carrying the key can do (package webhook
// calls it). The record must be pending and name this very create (its
// product, customer and metadata); otherwise nothing changes and settled
// is false. Lock waits while a call holds the key, until ctx ends; the
// error is then ctx's, or the store's. A record keeps the target it was
// made for: a webhook knows none, so settle only from the webhooks of the
// environment the store serves.
func SettlePendingCreate(ctx context.Context, store IdempotencyStore, sub *Subscription) (settled bool, err error) {
	if store == nil || sub == nil || sub.ID == "" || sub.IdempotencyKey() == "" {
		return false, nil
	}
	lock, rec, err := store.Lock(ctx, Polar.storeKey(sub.IdempotencyKey()), LockRequest{Lease: DefaultLockLease})
	if err != nil {
		return false, err
	}
	if rec == nil || !rec.Pending || !createdBy(rec.Fingerprint, sub) {
		return false, lock.Unlock(ctx)
	}
	b, err := json.Marshal(sub)
	if err != nil {
		return false, lock.Unlock(ctx)
	}
	done := &IdempotencyRecord{Fingerprint: rec.Fingerprint, Target: rec.Target, Result: b}
	if err := lock.Release(ctx, done, RecordTTL); err != nil {
		return false, err
	}
	return true, nil
}

// createdBy reports whether fp is the fingerprint of a create that would
// have made sub: by its customer's Polar ID or by its external ID.
func createdBy(fp string, sub *Subscription) bool {
	r := &request{api: Polar, method: http.MethodPost, path: polarSubscriptionsPath}
	bodies := []polarCreateBody{{ProductID: validate.CanonicalUUID(sub.ProductID),
		CustomerID: validate.CanonicalUUID(sub.CustomerID), Metadata: sub.Metadata}}
	if ext := sub.Customer.ExternalID; ext != nil && *ext != "" {
		bodies = append(bodies, polarCreateBody{ProductID: validate.CanonicalUUID(sub.ProductID),
			ExternalCustomerID: *ext, Metadata: sub.Metadata})
	}
	for i := range bodies {
		b, err := json.Marshal(&bodies[i])
		if err == nil && fingerprint(r, b) == fp {
			return true
		}
	}
	return false
}
