package bulk_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/bulk"
)

// Interruptible changes nothing outside a run, and keeps no pacing as no
// pacing.
func TestInterruptibleOutsideARun(t *testing.T) {
	assert.Nil(t, bulk.Interruptible(nil))
	assert.Nil(t, bulk.Interruptible((*stingyLimiter)(nil)))
	l := bulk.Interruptible(&stingyLimiter{n: 1})
	require.NoError(t, l.Wait(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded, "a wait outside a run ends with its own context")
}
