package main

import (
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/redistest"
	"github.com/subkit-go/subkit/subkittest"
)

// Three processes share one input through Redis: one idempotency store and
// one rate budget, with -shard and without. The budget is Polar's minute at
// 300 requests a second, so that the 1 s a limiter absorbs covers this
// machine's delays.
func TestBulkFleetSharesRedis(t *testing.T) {
	const n = 900
	for _, sharded := range []bool{true, false} {
		t.Run(fmt.Sprintf("sharded=%t", sharded), func(t *testing.T) {
			rdb := redistest.NewServer(t)
			srv, path := userBase(t, n, subkittest.WithRateLimit(subkit.Polar, 18000, time.Minute))
			cmds := make([]*exec.Cmd, 3)
			for i := range cmds {
				args := []string{"-redis", rdb.Addr(), "-rate", "polar=18000/1m", "-report", "/dev/null", "-progress", "none"}
				if sharded {
					args = append(args, "-shard", fmt.Sprintf("%d/3", i))
				}
				cmds[i] = exec.Command(command(t), userBaseArgs(srv, append(args, path)...)...)
				cmds[i].Env, cmds[i].Dir = fakeEnv(), workDir(t)
				require.NoError(t, cmds[i].Start())
			}
			for i, cmd := range cmds {
				assert.NoError(t, cmd.Wait(), "process %d", i)
			}
			keys := map[string]int{}
			for _, s := range srv.PolarSubscriptions() {
				keys[fmt.Sprint(s.Metadata["subkit_idempotency_key"])]++
			}
			assert.Len(t, keys, n)
			for k, c := range keys {
				require.Equal(t, 1, c, "key %s", k)
			}
			for _, r := range srv.Requests(subkit.Polar) {
				require.NotEqual(t, 429, r.Status, "the three share one budget")
			}
		})
	}
}

// Three processes on one host share one input and the default state file,
// with no server but the API, while look-ups lag: each key is created once.
// The control, the same three with -state off (each its own memory),
// creates some keys twice: the test can tell.
func TestBulkProcessesShareOneStateFile(t *testing.T) {
	t.Parallel()
	const n = 300
	for _, state := range []string{defaultStateFile, stateOff} {
		t.Run("state="+state, func(t *testing.T) {
			srv, path := userBase(t, n, subkittest.WithReadLag(subkit.Polar, 100*time.Millisecond, 400*time.Millisecond))
			cmds := make([]*exec.Cmd, 3)
			outs := make([]*lockedBuffer, 3)
			start := time.Now()
			for i := range cmds {
				cmds[i] = exec.Command(command(t), userBaseArgs(srv, "-state", state, "-settle", "600ms", "-report", "/dev/null", "-progress", "none", path)...)
				outs[i] = &lockedBuffer{}
				cmds[i].Env, cmds[i].Dir, cmds[i].Stderr = fakeEnv(), workDir(t), outs[i]
				require.NoError(t, cmds[i].Start())
			}
			for i, cmd := range cmds {
				assert.NoError(t, cmd.Wait(), "process %d: %s", i, outs[i])
			}
			keys := keysOf(srv)
			assert.Len(t, keys, n)
			dups := 0
			for _, c := range keys {
				dups += c - 1
			}
			t.Logf("-state %s: three processes, %d keys, %d created twice or more, in %s", state, len(keys), dups, time.Since(start).Round(time.Millisecond))
			if state == stateOff {
				assert.Positive(t, dups, "the control: processes that share no store create keys twice")
				return
			}
			assert.Zero(t, dups, "each key once")
		})
	}
}
