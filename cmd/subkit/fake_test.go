package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// The newcomer's first five minutes, as the README tells them: a fake that
// outlives runs, a run, a rerun that resumes, a restart of the fake that
// keeps what it held, the admin API.
func TestFakeServesRunsAcrossRestarts(t *testing.T) {
	t.Parallel()
	state := filepath.Join(t.TempDir(), "fake.json")
	fake := startFake(t, "", "-implicit", "-state", state)
	assert.True(t, strings.HasPrefix(fake.url, "http://127.0.0.1:"), "a port alone listens on loopback: %s", fake.url)
	assert.Equal(t, subkittest.PolarToken, fake.exported["POLAR_ACCESS_TOKEN"])
	assert.Equal(t, subkittest.ChargeflowKey, fake.exported["CHARGEFLOW_API_KEY"])
	assert.Equal(t, subkittest.AgencyKey, fake.exported["CHATDASH_AGENCY_KEY"])
	assert.NotEmpty(t, fake.token)
	input, args := users(t, 120)

	first := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, input}, args...)...)

	require.Equal(t, exitOK, first.exit, first.stderr)
	assert.Contains(t, first.stderr, "no POLAR_ACCESS_TOKEN in the environment: using subkit fake's own")
	for _, l := range readReport(t, first.stdout) {
		require.Equal(t, "created", l.Outcome, "line %d: %s", l.Line, l.Error)
	}
	held := fake.held()
	assert.Equal(t, 120, held.Polar.Held)
	assert.Equal(t, 122, held.Polar.Requests, "two look-ups (a page of 100 keys, one of 20) and 120 creates")

	// A rerun with the credentials the fake printed: nothing is created.
	again := runCommand(t, append(noCredentials(), "POLAR_ACCESS_TOKEN="+fake.exported["POLAR_ACCESS_TOKEN"]),
		append([]string{"bulk", "-base-url", fake.url, input}, args...)...)
	require.Equal(t, exitOK, again.exit, again.stderr)
	for _, l := range readReport(t, again.stdout) {
		require.Equal(t, "replayed", l.Outcome, "line %d", l.Line)
	}

	// Stopped and started again on its state: it holds the same, and a rerun
	// still replays everything.
	require.Equal(t, 0, fake.stop(), fake.stderr.String())
	assert.Contains(t, fake.stderr.String(), "stopped; it held 120 Polar, 0 Chargeflow and 0 ChatDash subscription(s), saved in "+state)
	restarted := startFake(t, "an-admin-token-from-the-environment", "-implicit", "-state", state)
	assert.Empty(t, restarted.exported[adminTokenVar], "a token from the environment is not printed")
	restarted.saw("state from " + state + ": 120 subscription(s)")
	ids := map[string]bool{}
	for _, s := range held.Polar.Subscriptions {
		ids[s.ID] = true
	}
	for _, s := range restarted.held().Polar.Subscriptions {
		assert.True(t, ids[s.ID], "subscription %s held after the restart was not held before", s.ID)
	}
	third := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", restarted.url, input}, args...)...)
	require.Equal(t, exitOK, third.exit, third.stderr)
	for _, l := range readReport(t, third.stdout) {
		require.Equal(t, "replayed", l.Outcome, "line %d", l.Line)
	}
	assert.Equal(t, 120, restarted.held().Polar.Held)

	// Reset forgets what was made; the seeds (here: -implicit) stay.
	assert.Equal(t, http.StatusOK, restarted.admin(http.MethodPost, "/_subkit/reset", "", nil))
	assert.Equal(t, 0, restarted.held().Polar.Held)
}

// Seeds from flags and a file, a fault queued through the admin API, a
// rate limit and a read lag from flags: what subkit bulk and a raw client
// see of each.
func TestFakeSeedsFaultsAndLimits(t *testing.T) {
	t.Parallel()
	seed := writeFile(t, "seed.json", `{"polar":{"products":[{"id":"`+product+`","name":"Community"}],
		"customers":[{"external_id":"user-0"},{"external_id":"user-1"},{"external_id":"user-2"}]},
		"chargeflow":{"disputes":[{"id":"`+dispute+`"}]}}`)
	fake := startFake(t, "", "-seed", seed, "-polar-external-customer", "user-3,user-4", "-read-lag", "polar=50ms-100ms",
		"-rate", "chargeflow=2/1h")
	fake.saw("seeded 1 Polar product(s), 5 Polar customer(s), 1 Chargeflow dispute(s)")
	input, args := users(t, 5)

	// Three creates lose their answer after they were applied: each is
	// looked up and reconciled, never made twice.
	var queued map[string]any
	require.Equal(t, http.StatusOK, fake.admin(http.MethodPost, "/_subkit/faults",
		`{"api":"polar","fault":"close_after_handling","count":3,"on":["create"]}`, &queued), "%v", queued)
	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, input}, args...)...)

	assert.Equal(t, exitOK, res.exit, res.stderr)
	outcomes := map[string]int{}
	for _, l := range readReport(t, res.stdout) {
		outcomes[l.Outcome]++
	}
	assert.Equal(t, map[string]int{"reconciled": 3, "created": 2}, outcomes)
	keys := fake.keysHeld()
	assert.Len(t, keys, 5)
	for k, n := range keys {
		assert.Equal(t, 1, n, "key %s", k)
	}

	// Strict by default: a customer nobody seeded does not exist.
	more, _ := users(t, 6)
	res = runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, more}, args...)...)
	assert.Equal(t, exitFailed, res.exit, res.stderr)
	report := readReport(t, res.stdout)
	assert.Equal(t, "failed", report[7].Outcome)
	assert.Contains(t, report[7].Error, "Customer does not exist", "user-5 was not seeded")
	var reqs []heldRequest
	require.Equal(t, http.StatusOK, fake.admin(http.MethodGet, "/_subkit/requests?api=polar", "", &reqs))
	faulted := 0
	for _, r := range reqs {
		if r.Fault == "close after handling" {
			faulted++
		}
		assert.Equal(t, []string{"Bearer [REDACTED]"}, r.Header["Authorization"])
	}
	assert.Equal(t, 3, faulted)

	// Chargeflow: two requests an hour, then its 429.
	statuses := []int{}
	for range 3 {
		req, err := http.NewRequest(http.MethodGet, fake.url+"/public/2025-04-01/disputes/"+dispute, nil)
		require.NoError(t, err)
		req.Header.Set("x-api-key", subkittest.ChargeflowKey)
		r, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = r.Body.Close()
		statuses = append(statuses, r.StatusCode)
	}
	assert.Equal(t, []int{200, 200, 429}, statuses)

	// A bad fault is refused with every problem named.
	var refused map[string]string
	assert.Equal(t, http.StatusBadRequest, fake.admin(http.MethodPost, "/_subkit/faults", `{"api":"stripe","fault":"respond","on":["sometimes"]}`, &refused))
	for _, want := range []string{"api: want polar", "on: want create or lookup", "status (100–599): respond needs it"} {
		assert.Contains(t, refused["error"], want)
	}
}

func TestFakeRefusesWhatItCannotServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	badState := filepath.Join(dir, "state.json")
	require.NoError(t, os.WriteFile(badState, []byte(`{"version":99}`), 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-seed", writeFile(t, "typo.json", `{"polar":{"prodcts":[]}}`)}, `unknown field "prodcts"`},
		{[]string{"-seed", writeFile(t, "bad.json", `{"polar":{"products":[{"id":"nope"}]}}`)}, `polar.products[0].id: "nope" is not a UUID`},
		{[]string{"-chargeflow-dispute", "123"}, `chargeflow.disputes[0].id: "123" is not 24 hex characters`},
		{[]string{"-read-lag", "polar=1s-200ms"}, "want MIN[-MAX]"},
		{[]string{"-rate", "stripe=1/1s"}, "with API polar, chargeflow or chatdash"},
		{[]string{"-state", badState}, "a state of version 99"},
		{[]string{"extra"}, "unexpected arguments: extra"},
	} {
		res := runCommand(t, noCredentials(), append([]string{"fake", "-addr", ":0"}, tc.args...)...)
		assert.Equal(t, exitUsage, res.exit, "%v", tc.args)
		assert.Contains(t, res.stderr, tc.want, "%v", tc.args)
		assert.Empty(t, res.stdout, "%v: nothing served, nothing to export", tc.args)
	}
	// Told to listen where another listens: said, exit 2.
	fake := startFake(t, "")
	u, err := url.Parse(fake.url)
	require.NoError(t, err)
	res := runCommand(t, noCredentials(), "fake", "-addr", u.Host)
	assert.Equal(t, exitUsage, res.exit)
	assert.Contains(t, res.stderr, "address already in use")
}

// Three processes split one input (-shard) and run at once against one
// subkit fake: each line made once, by one of them.
func TestFakeServesShardsAtOnce(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	input, args := users(t, 300)
	runs := make([]*bulkProcess, 3)
	for i := range runs {
		runs[i] = startBulk(t, noCredentials(), append([]string{"-base-url", fake.url, "-shard", fmt.Sprintf("%d/3", i), input}, args...)...)
	}
	seen := map[string]bool{}
	for i, run := range runs {
		require.Equal(t, exitOK, run.wait(), "shard %d: %s", i, run.stderr)
		for _, l := range readReport(t, run.stdout.String()) {
			require.False(t, seen[l.Key], "key %s in two shards", l.Key)
			seen[l.Key] = true
			assert.Equal(t, "created", l.Outcome)
		}
	}
	assert.Len(t, seen, 300)
	keys := fake.keysHeld()
	assert.Len(t, keys, 300)
	for k, n := range keys {
		assert.Equal(t, 1, n, "key %s", k)
	}
}

// -webhook: the fake delivers Polar's signed webhook events of what a run
// creates, which the webhook package verifies with the secret the fake
// printed; the admin API lists them.
func TestFakeDeliversSignedWebhooks(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	got := map[string][]string{} // subscription ID → event types, in order
	var receiver *webhook.Receiver
	ready := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		body, err := io.ReadAll(r.Body)
		require.NoError(t, err)
		ev, err := receiver.Verify(r.Header, body)
		if err != nil {
			t.Errorf("an event that does not verify: %v", err)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		sub, err := ev.Subscription()
		require.NoError(t, err)
		mu.Lock()
		got[sub.ID] = append(got[sub.ID], ev.Type)
		mu.Unlock()
	}))
	t.Cleanup(ts.Close)
	fake := startFake(t, "", "-implicit", "-webhook", ts.URL, "-webhook-time-scale", "0.1")
	secret := fake.exported[webhookSecretVar]
	require.True(t, strings.HasPrefix(secret, "whsec_"), "the drawn secret is printed: %q", secret)
	var err error
	receiver, err = webhook.NewPolarReceiver([]string{secret})
	require.NoError(t, err)
	close(ready)
	input, args := users(t, 3)

	res := runCommand(t, noCredentials(), append([]string{"bulk", "-base-url", fake.url, input}, args...)...)

	require.Equal(t, exitOK, res.exit, res.stderr)
	var hooks heldWebhooks
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		require.Equal(t, http.StatusOK, fake.admin(http.MethodGet, "/_subkit/webhooks", "", &hooks))
		delivered := 0
		for _, ev := range hooks.Events {
			if ev.Succeeded != nil && *ev.Succeeded {
				delivered++
			}
		}
		if delivered == 9 || time.Now().After(deadline) {
			break
		}
	}
	require.Len(t, hooks.Endpoints, 1)
	assert.Equal(t, ts.URL, hooks.Endpoints[0].URL)
	assert.Len(t, hooks.Events, 9, "three events for each of the three subscriptions")
	mu.Lock()
	defer mu.Unlock()
	for _, s := range fake.held().Polar.Subscriptions {
		assert.Equal(t, []string{"subscription.created", "subscription.active", "subscription.updated"}, got[s.ID], "subscription %s", s.ID)
	}
}
