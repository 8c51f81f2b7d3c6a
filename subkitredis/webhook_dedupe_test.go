package subkitredis_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/internal/webhooktest"
	"github.com/subkit-go/subkit/subkitredis"
)

// TestWebhookHandledOnceAcrossRedisFleet runs the webhook Handler's
// cross-process checks (internal/webhooktest) on two processes sharing
// Redis, each with its own connection pool and Store: one ID delivered ten
// times at once runs fn once and is answered 200 each time; a failure is
// retried, to the other process, and runs fn again; a stale state never
// reaches fn; a subscription.created delivery settles a keyed create's
// pending record, and the next call with the key replays it.
func TestWebhookHandledOnceAcrossRedisFleet(t *testing.T) {
	rs := redistest.NewServer(t)
	webhooktest.RunFleet(t, func(*testing.T) subkit.IdempotencyStore { return subkitredis.NewStore(rs.NewClient()) })
}
