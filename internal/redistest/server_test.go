package redistest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/internal/redistest"
)

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestServerAnswersOnLoopbackWithoutPersistence(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	ctx := ctxFor(t)
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, srv.Addr())

	require.NoError(t, srv.Client().Set(ctx, "k", "v", 0).Err())
	other := srv.NewClient()
	got, err := other.Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)

	cfg, err := other.ConfigGet(ctx, "*").Result()
	require.NoError(t, err)
	assert.Equal(t, "", cfg["save"])
	assert.Equal(t, "no", cfg["appendonly"])
	assert.Equal(t, "127.0.0.1", cfg["bind"])
	assert.Equal(t, "no", cfg["cluster-enabled"])
}

func TestStopThenStartOnTheSamePortLosesData(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	ctx := ctxFor(t)
	addr := srv.Addr()
	require.NoError(t, srv.Client().Set(ctx, "k", "v", 0).Err())

	srv.Stop()
	assert.Error(t, srv.Client().Ping(ctx).Err(), "a stopped server answers nothing")

	srv.Start()
	assert.Equal(t, addr, srv.Addr())
	require.NoError(t, srv.Client().Ping(ctx).Err(), "the client reconnects by itself")
	_, err := srv.Client().Get(ctx, "k").Result()
	assert.ErrorIs(t, err, redis.Nil, "without persistence a restart starts empty")
}

func TestAppendOnlyKeepsDataAcrossARestart(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithAppendOnly())
	ctx := ctxFor(t)
	require.NoError(t, srv.Client().Set(ctx, "k", "v", 0).Err())

	srv.Stop()
	srv.Start()
	got, err := srv.Client().Get(ctx, "k").Result()
	require.NoError(t, err)
	assert.Equal(t, "v", got)
}

func TestPausedServerTimesOutByContext(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	ctx := ctxFor(t)
	require.NoError(t, srv.Client().Ping(ctx).Err())

	srv.Pause()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err := srv.Client().Ping(short).Err()
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the context bounds a command the server never answers")

	srv.Resume()
	assert.NoError(t, srv.Client().Ping(ctx).Err())
}

func TestStopResumesAPausedServer(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	srv.Pause()
	srv.Stop() // must not hang: SIGINT is not handled by a stopped process
	srv.Start()
	assert.NoError(t, srv.Client().Ping(ctxFor(t)).Err())
}

func TestPasswordIsRequired(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithPassword("hunter2-redis"))
	ctx := ctxFor(t)
	require.NoError(t, srv.Client().Ping(ctx).Err(), "the server's clients send the password")

	o := srv.Options()
	o.Password = ""
	anon := redis.NewClient(o)
	defer func() { _ = anon.Close() }()
	assert.ErrorContains(t, anon.Set(ctx, "k", "v", 0).Err(), "NOAUTH")
}

func TestClusterServesEverySlot(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, redistest.WithCluster())
	ctx := ctxFor(t)
	c := srv.NewClusterClient()
	// Keys in many slots, one node: every one is served.
	for i := range 20 {
		require.NoError(t, c.Set(ctx, fmt.Sprintf("key-%d", i), i, 0).Err())
	}
	err := srv.Client().MSet(ctx, "a", 1, "b", 2).Err()
	assert.ErrorContains(t, err, "CROSSSLOT", "keys of different slots in one command are refused, as on a real cluster")
	assert.NoError(t, srv.Client().MSet(ctx, "{t}a", 1, "{t}b", 2).Err(), "a hash tag puts them in one slot")
}

func TestMissingRedisServerSkipsUnlessRequired(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	t.Setenv(redistest.RequireEnv, "")
	rec := &recordingTB{TB: t}
	assert.Nil(t, redistest.NewServer(rec))
	assert.Contains(t, rec.skipped, "redis-server not on PATH")
	assert.Contains(t, rec.skipped, "apt-get install redis-server")
	assert.Empty(t, rec.failed)

	t.Setenv(redistest.RequireEnv, "1")
	rec = &recordingTB{TB: t}
	assert.Nil(t, redistest.NewServer(rec))
	assert.Contains(t, rec.failed, "redis-server is required (SUBKIT_REQUIRE_REDIS=1) but not on PATH")
	assert.Empty(t, rec.skipped)
}

// recordingTB records Skipf and Fatalf instead of ending the test, so that a
// test can check what NewServer would have done.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recordingTB) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }
