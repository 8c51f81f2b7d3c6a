package setup

import (
	"context"
	"flag"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var all = Config{APIs: []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar}}

func start(t *testing.T, cfg Config, args ...string) (env *Env, status int, stdout, stderr string) {
	t.Helper()
	var out, errOut strings.Builder
	env, status = Register(flag.NewFlagSet("test", flag.ContinueOnError), cfg).Start(args, &out, &errOut)
	if env != nil {
		t.Cleanup(env.Close)
	}
	return env, status, out.String(), errOut.String()
}

// With -live, an API whose credential and IDs are set is called and the
// others are skipped, each with its reason. Nothing is sent: Start only
// makes the client.
func TestLiveCallsOnlyWhatIsConfigured(t *testing.T) {
	for k, v := range map[string]string{"CHATDASH_AGENCY_KEY": "", "CHARGEFLOW_API_KEY": "cf_example", "CHARGEFLOW_DISPUTE_ID": "",
		"POLAR_ACCESS_TOKEN": "polar_oat_example", "POLAR_PRODUCT_ID": "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		"POLAR_CUSTOMER_ID": "", "POLAR_EXTERNAL_CUSTOMER_ID": "usr_1"} {
		t.Setenv(k, v)
	}
	env, status, stdout, stderr := start(t, all, "-live")
	if env == nil {
		t.Fatalf("Start: status %d, stderr %q", status, stderr)
	}
	if env.Fake != nil || env.Calls(subkit.ChatDash) || env.Calls(subkit.Chargeflow) || !env.Calls(subkit.Polar) {
		t.Errorf("fake %v, calls ChatDash %t, Chargeflow %t, Polar %t; want only Polar, live", env.Fake,
			env.Calls(subkit.ChatDash), env.Calls(subkit.Chargeflow), env.Calls(subkit.Polar))
	}
	want := "real APIs: Polar (sandbox)\n" +
		"skipped:   ChatDash: CHATDASH_AGENCY_KEY is not set\n" +
		"skipped:   Chargeflow: needs -chargeflow-dispute, -chargeflow-source-id (real IDs)\n"
	if stdout != want {
		t.Errorf("stdout\n%s\nwant\n%s", stdout, want)
	}
	if env.IDs.PolarCustomer != "" || env.IDs.PolarExternalCustomer != "usr_1" {
		t.Errorf("Polar customer %q, external %q: want the external ID only, no demo ID live", env.IDs.PolarCustomer, env.IDs.PolarExternalCustomer)
	}
	if strings.Contains(stdout+stderr, "polar_oat_example") || strings.Contains(stdout+stderr, "cf_example") {
		t.Error("a credential was printed")
	}
}

// IDs the fake cannot register are left to the SDK's validation: Start
// does not panic on them.
func TestFakeTakesUnseedableIDs(t *testing.T) {
	env, status, _, stderr := start(t, all, "-chargeflow-dispute", "not-hex", "-polar-product", "not-a-uuid",
		"-polar-customer", "nope", "-chatdash-agents", " a, ,b ")
	if env == nil {
		t.Fatalf("Start: status %d, stderr %q", status, stderr)
	}
	ids := env.IDs
	if ids.ChargeflowDispute != "not-hex" || ids.PolarProduct != "not-a-uuid" || ids.PolarCustomer != "nope" ||
		strings.Join(ids.ChatDashAgents, "|") != "a|b" || ids.ChatDashAccount != "acct_1NXWPnCo6bFb1KQe" {
		t.Errorf("IDs %+v: want the flags' values, agents split, demo IDs for the rest", ids)
	}
}

// -base-url calls a fake that outlives the run (subkit fake, here a
// subkittest server of the test's): the demo IDs, and the fake's own
// credentials where the environment has none.
func TestBaseURLCallsAFakeThatOutlivesTheRun(t *testing.T) {
	for _, k := range []string{"CHATDASH_AGENCY_KEY", "CHARGEFLOW_API_KEY", "POLAR_ACCESS_TOKEN", "POLAR_PRODUCT_ID", "POLAR_CUSTOMER_ID"} {
		t.Setenv(k, "")
	}
	srv := subkittest.NewServer(subkittest.WithImplicitResources())
	t.Cleanup(srv.Close)
	for run := range 2 {
		env, status, stdout, stderr := start(t, Config{APIs: []subkit.API{subkit.Polar}}, "-base-url", srv.URL())
		if env == nil {
			t.Fatalf("Start: status %d, stderr %q", status, stderr)
		}
		if env.Fake != nil || stdout != "fake APIs: "+srv.URL()+"\n" {
			t.Errorf("fake %v, stdout %q", env.Fake, stdout)
		}
		_, err := env.Client.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
			ProductID: env.IDs.PolarProduct, CustomerID: env.IDs.PolarCustomer})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if n := len(srv.PolarSubscriptions()); n != run+1 {
			t.Errorf("the fake holds %d subscription(s) after run %d", n, run)
		}
	}
	for _, args := range [][]string{{"-base-url", srv.URL(), "-live"}, {"-base-url", srv.URL(), "-fault", "reset"}} {
		env, status, _, stderr := start(t, Config{APIs: []subkit.API{subkit.Polar}, Faults: true}, args...)
		if env != nil || status != 2 || !strings.Contains(stderr, "-base-url") && !strings.Contains(stderr, "admin API") {
			t.Errorf("%v: status %d, stderr %q", args, status, stderr)
		}
	}
}
