package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/subkit-go/subkit/subkittest"
)

// seeds is what subkit fake is seeded with: -seed FILE's format, the body
// of POST /_subkit/seed, and what the seed flags add. Names follow the
// APIs' own (snake_case).
type seeds struct {
	Polar struct {
		Products  []seedPolarProduct  `json:"products"`
		Customers []seedPolarCustomer `json:"customers"`
	} `json:"polar"`
	Chargeflow struct {
		Disputes []seedDispute `json:"disputes"`
	} `json:"chargeflow"`
	ChatDash struct {
		Accounts []string              `json:"accounts"`
		Clients  []seedChatDashClient  `json:"clients"`
		Products []seedChatDashProduct `json:"products"`
	} `json:"chatdash"`
}

// seedPolarProduct is a subkittest.PolarProduct: free and monthly unless
// it says otherwise.
type seedPolarProduct struct {
	ID                     string `json:"id"`
	Name                   string `json:"name"`
	RecurringInterval      string `json:"recurring_interval"`
	RecurringIntervalCount int    `json:"recurring_interval_count"`
	PriceAmount            int    `json:"price_amount"`
	Currency               string `json:"currency"`
	NotRecurring           bool   `json:"not_recurring"`
	Legacy                 bool   `json:"legacy"`
}

type seedPolarCustomer struct {
	ID         string `json:"id"`
	ExternalID string `json:"external_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Deleted    bool   `json:"deleted"`
}

type seedDispute struct {
	ID        string `json:"id"`
	AccountID string `json:"account_id"`
}

type seedChatDashClient struct {
	ID         string            `json:"id"`
	NoAdmin    bool              `json:"no_admin"`
	AdminEmail string            `json:"admin_email"`
	Agents     map[string]string `json:"agents"`
}

type seedChatDashProduct struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	PriceIDs []string `json:"price_ids"`
}

// readSeeds reads seeds in JSON, refusing unknown names (a typo would
// otherwise seed nothing without a word), and checks them.
func readSeeds(r io.Reader) (*seeds, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var s seeds
	if err := dec.Decode(&s); err != nil {
		return nil, err
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return &s, nil
}

// check refuses what subkittest cannot seed (it panics on it), naming the
// field at fault.
func (s *seeds) check() error {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	for i, p := range s.Polar.Products {
		if !uuidForm.MatchString(p.ID) { // required: a product nobody knows the ID of is of no use
			fail("polar.products[%d].id: %q is not a UUID", i, clip(p.ID, 100))
		}
		switch p.RecurringInterval {
		case "", "day", "week", "month", "year":
		default:
			fail("polar.products[%d].recurring_interval: want day, week, month or year, got %q", i, clip(p.RecurringInterval, 100))
		}
	}
	for i, c := range s.Polar.Customers {
		switch {
		case c.ID == "" && c.ExternalID == "":
			fail("polar.customers[%d]: give its id (a UUID) or its external_id, or both", i)
		case c.ID != "" && !uuidForm.MatchString(c.ID):
			fail("polar.customers[%d].id: %q is not a UUID", i, clip(c.ID, 100))
		}
	}
	for i, d := range s.Chargeflow.Disputes {
		if !disputeForm.MatchString(d.ID) {
			fail("chargeflow.disputes[%d].id: %q is not 24 hex characters", i, clip(d.ID, 100))
		}
	}
	for i, a := range s.ChatDash.Accounts {
		if a == "" {
			fail("chatdash.accounts[%d]: empty", i)
		}
	}
	for i, c := range s.ChatDash.Clients {
		if c.ID == "" {
			fail("chatdash.clients[%d].id: empty", i)
		}
	}
	for i, p := range s.ChatDash.Products {
		if p.ID == "" {
			fail("chatdash.products[%d].id: empty", i)
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// apply seeds srv and says what it seeded ("" for nothing).
func (s *seeds) apply(srv *subkittest.Server) string {
	for _, p := range s.Polar.Products {
		srv.AddPolarProduct(subkittest.PolarProduct{ID: p.ID, Name: p.Name, RecurringInterval: p.RecurringInterval,
			RecurringIntervalCount: p.RecurringIntervalCount, PriceAmount: p.PriceAmount, Currency: p.Currency,
			NotRecurring: p.NotRecurring, Legacy: p.Legacy})
	}
	for _, c := range s.Polar.Customers {
		srv.AddPolarCustomer(subkittest.PolarCustomer{ID: c.ID, ExternalID: c.ExternalID, Email: c.Email, Name: c.Name, Deleted: c.Deleted})
	}
	for _, d := range s.Chargeflow.Disputes {
		srv.AddChargeflowDispute(subkittest.ChargeflowDispute{ID: d.ID, AccountID: d.AccountID})
	}
	for _, a := range s.ChatDash.Accounts {
		srv.AddChatDashAccount(a)
	}
	for _, c := range s.ChatDash.Clients {
		srv.AddChatDashClient(subkittest.ChatDashClient{ID: c.ID, NoAdmin: c.NoAdmin, AdminEmail: c.AdminEmail, Agents: c.Agents})
	}
	for _, p := range s.ChatDash.Products {
		srv.AddChatDashProduct(subkittest.ChatDashProduct{ID: p.ID, Name: p.Name, PriceIDs: p.PriceIDs})
	}
	var parts []string
	for _, n := range []struct {
		count int
		what  string
	}{{len(s.Polar.Products), "Polar product(s)"}, {len(s.Polar.Customers), "Polar customer(s)"},
		{len(s.Chargeflow.Disputes), "Chargeflow dispute(s)"}, {len(s.ChatDash.Accounts), "ChatDash account(s)"},
		{len(s.ChatDash.Clients), "ChatDash client(s)"}, {len(s.ChatDash.Products), "ChatDash product(s)"}} {
		if n.count > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.count, n.what))
		}
	}
	return strings.Join(parts, ", ")
}

// seedFlags are the flags that seed one object each, for a quick start
// without a -seed file.
type seedFlags struct {
	polarProducts, polarCustomers, polarExternal listFlag
	disputes                                     listFlag
	accounts, clients, chatdashProducts          listFlag
}

func (f *seedFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.polarProducts, "polar-product", "seed a free monthly Polar product with this `UUID` (repeatable; commas separate several)")
	fs.Var(&f.polarCustomers, "polar-customer", "seed a Polar customer with this `UUID` (repeatable; commas separate several)")
	fs.Var(&f.polarExternal, "polar-external-customer", "seed a Polar customer with this external `ID` (repeatable; commas separate several)")
	fs.Var(&f.disputes, "chargeflow-dispute", "seed a Chargeflow dispute with this `ID`, 24 hex characters (repeatable; commas separate several)")
	fs.Var(&f.accounts, "chatdash-account", "seed a ChatDash connected account (`acct_…`) (repeatable; commas separate several)")
	fs.Var(&f.clients, "chatdash-client", "seed a ChatDash client with an admin member, with this `ID` (repeatable; commas separate several)")
	fs.Var(&f.chatdashProducts, "chatdash-product", "seed a ChatDash product (`prod_…`) (repeatable; commas separate several)")
}

// gather reads the seed file, if any, adds the flags' seeds and checks them
// all.
func (f *seedFlags) gather(file string) (*seeds, error) {
	s := &seeds{}
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("-seed: %w", err)
		}
		if s, err = readSeeds(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("-seed %s: %w", file, err)
		}
	}
	for _, id := range f.polarProducts {
		s.Polar.Products = append(s.Polar.Products, seedPolarProduct{ID: id})
	}
	for _, id := range f.polarCustomers {
		s.Polar.Customers = append(s.Polar.Customers, seedPolarCustomer{ID: id})
	}
	for _, ext := range f.polarExternal {
		s.Polar.Customers = append(s.Polar.Customers, seedPolarCustomer{ExternalID: ext})
	}
	for _, id := range f.disputes {
		s.Chargeflow.Disputes = append(s.Chargeflow.Disputes, seedDispute{ID: id})
	}
	s.ChatDash.Accounts = append(s.ChatDash.Accounts, f.accounts...)
	for _, id := range f.clients {
		s.ChatDash.Clients = append(s.ChatDash.Clients, seedChatDashClient{ID: id})
	}
	for _, id := range f.chatdashProducts {
		s.ChatDash.Products = append(s.ChatDash.Products, seedChatDashProduct{ID: id})
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	return s, nil
}

// listFlag is a repeatable flag whose values may also be separated by
// commas (no ID, event type or endpoint has one).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}
