package subkitsql_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/chaos"
	"github.com/subkit-go/subkit/subkitsql"
	"github.com/subkit-go/subkit/subkittest"
)

// childEnv, when set, makes the test binary the child of a kill -9 test:
// its value is the child's childConfig as JSON (TestMain runs runChild).
const childEnv = "SUBKITSQL_KILL_CHILD"

// childConfig is what the child needs: where the store is, where the fake
// serves, and what to create.
type childConfig struct {
	Dialect    subkitsql.Dialect
	Driver     string // the database/sql driver's name
	DSN, Table string
	URL        string
	ProductID  string
	CustomerID string
	Keys       []string
}

// The lease the child takes its keys with: what a rerun waits out.
const childLease = time.Second

// A process killed with SIGKILL in the middle of its keyed creates — one
// answered and recorded, one applied but its answer still held back, one
// reset before the server handled it (the child then settling), one to be
// committed by the server after the child is dead — leaves its keys locked
// and pending in the store. A rerun, another process on the same database,
// waits out the dead one's lease, settles each pending create by looking it
// up, and creates each key exactly once: one subscription per key, every
// call of the rerun a success.
func TestKilledMidCreateThenRerunCreatesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b *backend) {
		for key, n := range killAndRerun(t, b, b.store(t, nil)) {
			if n != 1 {
				t.Errorf("key %s: %d subscriptions, want exactly 1", key, n)
			}
		}
	})
	// The control: the same rerun with a store of its own, as without a
	// durable store, does not know the dead process's pending creates; the
	// one the server commits late is not yet visible to its look-up, and it
	// creates that key again. The test can tell.
	t.Run("control", func(t *testing.T) {
		twice := 0
		for _, n := range killAndRerun(t, sqliteBackend(t), subkit.NewMemoryStore()) {
			if n > 1 {
				twice++
			}
		}
		if twice == 0 {
			t.Error("a rerun without the dead process's store created no key twice: the test cannot tell")
		}
	})
}

// killAndRerun kills a child mid-create (killChildMidCreate) and reruns its
// creates in this process with rerun as the store, every call of which must
// succeed; it returns how many subscriptions the server holds per key.
func killAndRerun(t *testing.T, b *backend, rerun subkit.IdempotencyStore) map[string]int {
	t.Helper()
	srv := subkittest.NewServer()
	t.Cleanup(srv.Close)
	cfg := childConfig{Dialect: b.dialect, Driver: map[subkitsql.Dialect]string{subkitsql.SQLite: "sqlite", subkitsql.Postgres: "pgx"}[b.dialect],
		DSN: b.dsn, Table: b.table, URL: srv.URL(),
		ProductID: srv.AddPolarProduct(subkittest.PolarProduct{}), CustomerID: srv.AddPolarCustomer(subkittest.PolarCustomer{}),
		Keys: []string{"kill-a", "kill-b", "kill-c", "kill-d"}}
	b.store(t, nil) // the table, before the child and the rerun race to make it
	// The first creates to arrive meet these; the last one none.
	srv.InjectFault(subkit.Polar, 1, subkittest.Delay(time.Minute).On(subkittest.OpCreate))
	srv.InjectFault(subkit.Polar, 1, subkittest.CloseBeforeHandling().On(subkittest.OpCreate))
	srv.InjectFault(subkit.Polar, 1, subkittest.CommitLate(1500*time.Millisecond).On(subkittest.OpCreate))

	out := killChildMidCreate(t, srv, cfg)
	t.Logf("the child, killed: %s", strings.TrimSpace(out))

	c, err := srv.Client(subkit.WithIdempotencyStore(rerun), subkit.WithTimeout(time.Minute),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: 3 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	outcomes := make([]string, len(cfg.Keys))
	var wg sync.WaitGroup
	for i, key := range cfg.Keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var info subkit.ResponseInfo
			_, err := c.Subscriptions.CreateForCustomer(context.Background(),
				&subkit.CustomerSubscriptionParams{ProductID: cfg.ProductID, CustomerID: cfg.CustomerID},
				subkit.WithIdempotencyKey(key), subkit.WithResponseInfo(&info))
			if err != nil {
				t.Errorf("the rerun of %s: %v", key, err)
			}
			outcomes[i] = fmt.Sprintf("%s %s", key, info.Outcome)
		}()
	}
	wg.Wait()
	chaos.AwaitLateCommits(t, srv, subkit.Polar)
	t.Logf("the rerun: %s", strings.Join(outcomes, ", "))

	var faults []string
	for _, r := range srv.Requests(subkit.Polar) {
		if r.Method == "POST" && r.Fault != "" {
			faults = append(faults, r.Fault)
		}
	}
	if len(faults) != 3 {
		t.Errorf("the creates met %v, want the three faults: the test did not test what it says", faults)
	}
	byKey := map[string]int{}
	for _, s := range srv.PolarSubscriptions() {
		var sub subkit.Subscription
		if err := json.Unmarshal(s.Body, &sub); err != nil {
			t.Fatal(err)
		}
		byKey[sub.IdempotencyKey()]++
	}
	for _, key := range cfg.Keys {
		byKey[key] += 0 // every key counted, none made
	}
	return byKey
}

// killChildMidCreate runs the child, waits until the server has received
// every key's create and answered the one without a fault, kills the child
// with SIGKILL and returns what it printed.
func killChildMidCreate(t *testing.T, srv *subkittest.Server, cfg childConfig) string {
	t.Helper()
	env, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(env))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		creates, answered := 0, 0
		for _, r := range srv.Requests(subkit.Polar) {
			if r.Method == "POST" {
				creates++
				if r.Fault == "" && r.Status == 201 {
					answered++
				}
			}
		}
		if creates == len(cfg.Keys) && answered == 1 {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the child exited (%v) before it was killed:\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child sent %d creates of %d (%d answered) in a minute:\n%s", creates, len(cfg.Keys), answered, out.String())
		}
	}
	time.Sleep(200 * time.Millisecond) // the answered create's record is saved
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child ended with %v, want killed", err)
	}
	exited <- nil // for the cleanup
	return out.String()
}

// runChild is the child process: it makes the keyed creates of its
// configuration with a store on the parent's database, and waits to be
// killed. It returns an exit code only if something fails first.
func runChild() int {
	var cfg childConfig
	if err := json.Unmarshal([]byte(os.Getenv(childEnv)), &cfg); err != nil {
		fmt.Println("child: reading the configuration:", err)
		return 2
	}
	db, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		fmt.Println("child:", err)
		return 2
	}
	ctx := context.Background()
	st, err := subkitsql.NewStore(ctx, db, cfg.Dialect, subkitsql.WithTable(cfg.Table))
	if err != nil {
		fmt.Println("child:", err)
		return 2
	}
	c, err := subkit.New(subkit.WithBaseURL(subkit.Polar, cfg.URL), subkit.WithOrganizationToken(subkittest.PolarToken),
		subkit.WithIdempotencyStore(st), subkit.WithIdempotencyLease(childLease), subkit.WithTimeout(10*time.Minute),
		// It settles the create reset before handling for far longer than
		// it lives.
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, SettleTime: 10 * time.Minute}))
	if err != nil {
		fmt.Println("child:", err)
		return 2
	}
	for _, key := range cfg.Keys {
		go func() {
			var info subkit.ResponseInfo
			_, err := c.Subscriptions.CreateForCustomer(ctx, &subkit.CustomerSubscriptionParams{ProductID: cfg.ProductID, CustomerID: cfg.CustomerID},
				subkit.WithIdempotencyKey(key), subkit.WithResponseInfo(&info))
			fmt.Printf("child: %s: %s %v\n", key, info.Outcome, err)
		}()
	}
	select {} // until killed
}
