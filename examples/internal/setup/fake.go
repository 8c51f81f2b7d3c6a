package setup

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/examples/internal/fakefault"
	"github.com/subkit-go/subkit/subkittest"
)

// startFake starts the fake, seeds it with the IDs and queues the fault.
func (f *Flags) startFake(stdout, stderr io.Writer) (*Env, int) {
	srv := subkittest.NewServer()
	seed(srv, f.cfg.APIs, f.ids, f.fault == "refused")
	opts := []subkit.Option{subkit.WithTimeout(f.timeout), subkit.WithUserAgent(f.userAgent()),
		// Short backoffs keep the examples quick; a Retry-After is still honoured.
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})}
	for _, api := range f.cfg.APIs {
		opts = append(opts, fakefault.Apply(srv, api, f.fault)...)
	}
	client, err := srv.Client(opts...)
	if err != nil {
		srv.Close()
		fmt.Fprintf(stderr, "%s: %v\n", f.fs.Name(), err)
		return nil, 1
	}
	fmt.Fprintf(stdout, "fake APIs: subkittest at %s", srv.URL())
	if f.cfg.Faults {
		fmt.Fprintf(stdout, ", fault: %s", f.fault)
	}
	fmt.Fprintln(stdout)
	return &Env{Client: client, IDs: f.ids, Fault: f.fault, Fake: srv, apis: f.cfg.APIs}, 0
}

// The forms the fake's seeding accepts; it panics on others. An ID in
// another form is not seeded: the SDK's validation refuses it before
// anything is sent.
var (
	uuidForm    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	disputeForm = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)
)

// seed registers the objects the IDs name with the fake, so that it answers
// creates for them as the real API answers for real objects, and refuses
// unknown ones as the real API does. With refuse it registers objects such
// that the create is refused instead: a ChatDash client without an admin
// member, another Chargeflow dispute, another Polar customer.
func seed(srv *subkittest.Server, apis []subkit.API, ids IDs, refuse bool) {
	for _, api := range apis {
		switch api {
		case subkit.ChatDash:
			srv.AddChatDashAccount(ids.ChatDashAccount)
			srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: ids.ChatDashProduct, Name: "Pro Plan"})
			agents := map[string]string{}
			for i, id := range ids.ChatDashAgents {
				agents[id] = fmt.Sprintf("Agent %c", 'A'+i%26)
			}
			srv.AddChatDashClient(subkittest.ChatDashClient{ID: ids.ChatDashClient, AdminEmail: "owner@acme.example",
				Agents: agents, NoAdmin: refuse})
		case subkit.Chargeflow:
			dispute := ids.ChargeflowDispute
			if refuse {
				dispute = "aaaaaaaaaaaaaaaaaaaaaaaa"
			}
			if disputeForm.MatchString(dispute) {
				srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: dispute, AccountID: "65f0c1d2e3a4b5c6d7e8f9aa"})
			}
		case subkit.Polar:
			if uuidForm.MatchString(ids.PolarProduct) {
				srv.AddPolarProduct(subkittest.PolarProduct{ID: ids.PolarProduct, Name: "Community"})
			}
			customer := subkittest.PolarCustomer{ID: ids.PolarCustomer, ExternalID: ids.PolarExternalCustomer,
				Email: "ada@acme.example", Name: "Ada"}
			if refuse {
				customer = subkittest.PolarCustomer{Name: "Someone else"}
			}
			if customer.ID == "" || uuidForm.MatchString(customer.ID) {
				srv.AddPolarCustomer(customer)
			}
		}
	}
}

// startBaseURL points the client at a fake that outlives the run, such as
// "subkit fake", with the environment's credentials or, where it has none,
// the fake's own (public test values). The fake must know the IDs: start it
// with -implicit, or seed them.
func (f *Flags) startBaseURL(stdout, stderr io.Writer) (*Env, int) {
	opts := []subkit.Option{subkit.WithEnv(), subkit.WithTimeout(f.timeout), subkit.WithUserAgent(f.userAgent()),
		subkit.WithRetryPolicy(subkit.RetryPolicy{MinBackoff: 50 * time.Millisecond, MaxBackoff: time.Second})}
	fakeCredentials := map[subkit.API]subkit.Option{
		subkit.ChatDash:   subkit.WithAgencyKey(subkittest.AgencyKey),
		subkit.Chargeflow: subkit.WithChargeflowKey(subkittest.ChargeflowKey),
		subkit.Polar:      subkit.WithOrganizationToken(subkittest.PolarToken),
	}
	for _, api := range f.cfg.APIs {
		opts = append(opts, subkit.WithBaseURL(api, f.baseURL))
		if strings.TrimSpace(os.Getenv(credentialVar(api))) == "" {
			opts = append(opts, fakeCredentials[api])
		}
	}
	client, err := subkit.New(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", f.fs.Name(), err) // never carries a credential
		return nil, 2
	}
	fmt.Fprintf(stdout, "fake APIs: %s\n", f.baseURL)
	return &Env{Client: client, IDs: f.ids, Fault: f.fault, apis: f.cfg.APIs}, 0
}
