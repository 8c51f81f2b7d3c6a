package subkittest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// stateVersion is the version of the format SaveState writes; LoadState
// refuses any other, so that a file written by a later subkittest is never
// half understood.
const stateVersion = 1

// SaveState writes, as JSON, everything the server holds that outlives a
// request: the objects it was seeded with (and those it made up under
// WithImplicitResources), the subscriptions its creates made (with when
// look-ups start to see them), and the identity of the fake Polar
// organization. LoadState reads it back into another server, so that a fake
// serving several processes (subkit fake -state FILE) can stop and start
// again where it was: a rerun against it replays what the earlier run made.
//
// Not saved: the requests received (Requests), queued faults, rate-limit
// windows, credentials added with AddCredential, webhook endpoints and
// events, and the options the server was made with, which belong to
// whoever makes the server. The format is
// the fake's own, versioned; it is not meant to be written by hand.
func (s *Server) SaveState(w io.Writer) error {
	s.mu.Lock()
	st := s.stateLocked()
	s.mu.Unlock()
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(st)
}

// LoadState replaces what the server holds — seeds, subscriptions, the
// Polar organization — with a state SaveState wrote, and forgets the
// requests it received. Load into a fresh server before it serves anything.
// It returns an error, and changes nothing, when r does not hold such a
// state.
func (s *Server) LoadState(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber() // metadata keeps its integers and floats as the server stored them
	var st savedState
	if err := dec.Decode(&st); err != nil {
		return fmt.Errorf("subkittest: LoadState: %w", err)
	}
	if st.Version != stateVersion {
		return fmt.Errorf("subkittest: LoadState: a state of version %d; this subkittest reads version %d", st.Version, stateVersion)
	}
	subs, err := st.subscriptions()
	if err != nil {
		return fmt.Errorf("subkittest: LoadState: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restoreLocked(&st, subs)
	s.requests = nil
	return nil
}

// Reset forgets every subscription the server holds, every request it
// received and every fault still queued, and starts the rate limits'
// windows afresh: the server is as it was right after it was seeded. The
// seeds (and what it made up under WithImplicitResources), the credentials,
// the options and the webhook endpoints with their events stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs, s.requests = nil, nil
	s.polar.rows = nil
	s.cf.current = map[string]*stored{}
	clear(s.faults)
	for _, l := range s.limits {
		clear(l.buckets)
		clear(l.seen)
	}
}

// StateMark returns a value that changes whenever what SaveState would write
// changes (a subscription made, an object seeded or made up, a Reset), so
// that a process saving the state now and then can skip a save that would
// write the same thing. It costs no copy of the state.
func (s *Server) StateMark() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, cf, cd := &s.polar, &s.cf, &s.cd
	last := ""
	if n := len(s.subs); n > 0 {
		last = s.subs[n-1].id // a Reset and as many creates again leave the counts as they were
	}
	return fmt.Sprint(last, len(s.subs), len(p.products), len(p.customers), len(p.seenProducts), len(p.seenCustomers),
		len(p.seenByExtID), len(cf.disputes), len(cd.accounts), len(cd.clients), len(cd.products), len(cd.seenProducts),
		len(cd.customers), p.orgID)
}

// savedState is SaveState's format.
type savedState struct {
	Version    int             `json:"version"`
	Polar      savedPolar      `json:"polar"`
	Chargeflow savedChargeflow `json:"chargeflow"`
	ChatDash   savedChatDash   `json:"chatdash"`
	// Subscriptions are every subscription made, oldest first, replaced
	// ones (Chargeflow) included, since look-ups still see them.
	Subscriptions []savedSubscription `json:"subscriptions"`
}

type savedPolar struct {
	OrganizationID string `json:"organization_id"`
	Currency       string `json:"currency"`
	// Products and Customers were seeded; Implicit… were made up under
	// WithImplicitResources.
	Products                 []savedPolarProduct  `json:"products"`
	Customers                []savedPolarCustomer `json:"customers"`
	ImplicitProducts         []savedPolarProduct  `json:"implicit_products,omitempty"`
	ImplicitCustomers        []savedPolarCustomer `json:"implicit_customers,omitempty"`
	ImplicitExternalCustomer []savedPolarCustomer `json:"implicit_external_customers,omitempty"`
}

type savedPolarProduct struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Interval     string            `json:"recurring_interval"`
	Count        int               `json:"recurring_interval_count"`
	NotRecurring bool              `json:"not_recurring,omitempty"`
	Legacy       bool              `json:"legacy,omitempty"`
	Prices       []savedPolarPrice `json:"prices"`
	CreatedAt    time.Time         `json:"created_at"`
}

type savedPolarPrice struct {
	ID           string `json:"id"`
	MeterID      string `json:"meter_id"`
	AmountType   string `json:"amount_type"`
	Currency     string `json:"currency"`
	Amount       int    `json:"amount"`
	MinimumSeats int    `json:"minimum_seats"`
}

type savedPolarCustomer struct {
	ID         string    `json:"id"`
	ExternalID string    `json:"external_id,omitempty"`
	Email      string    `json:"email"`
	Name       string    `json:"name,omitempty"`
	Type       string    `json:"type"`
	Deleted    bool      `json:"deleted,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

type savedChargeflow struct {
	Disputes []ChargeflowDispute `json:"disputes"`
}

type savedChatDash struct {
	Accounts         []string          `json:"accounts"`
	Clients          []ChatDashClient  `json:"clients"`
	Products         []ChatDashProduct `json:"products"`
	ImplicitProducts []ChatDashProduct `json:"implicit_products,omitempty"`
	// Customers are the Stripe customers made for (account, client) pairs,
	// so that a client keeps its customer across restarts.
	Customers []savedChatDashCustomer `json:"customers,omitempty"`
}

type savedChatDashCustomer struct {
	AccountID  string `json:"account_id"`
	ClientID   string `json:"client_id"`
	CustomerID string `json:"customer_id"`
}

// savedSubscription is one stored subscription. The typed record's Body is
// left out: it is Body, once.
type savedSubscription struct {
	API        subkit.API              `json:"api"`
	ID         string                  `json:"id"`
	Body       json.RawMessage         `json:"body"`
	AppliedAt  time.Time               `json:"applied_at"`
	VisibleAt  time.Time               `json:"visible_at"`
	ReplacedBy string                  `json:"replaced_by,omitempty"`
	Polar      *PolarSubscription      `json:"polar,omitempty"`
	Chargeflow *ChargeflowSubscription `json:"chargeflow,omitempty"`
	ChatDash   *ChatDashSubscription   `json:"chatdash,omitempty"`
}

// stateLocked gathers the state. It runs with the lock held.
func (s *Server) stateLocked() *savedState {
	st := &savedState{Version: stateVersion}
	p := &s.polar
	st.Polar = savedPolar{OrganizationID: p.orgID, Currency: p.currency,
		Products: savedProducts(p.products), Customers: savedCustomers(p.customers),
		ImplicitProducts: savedProducts(p.seenProducts), ImplicitCustomers: savedCustomers(p.seenCustomers),
		ImplicitExternalCustomer: savedCustomers(p.seenByExtID)}
	for _, id := range slices.Sorted(maps.Keys(s.cf.disputes)) {
		st.Chargeflow.Disputes = append(st.Chargeflow.Disputes, *s.cf.disputes[id])
	}
	cd := &s.cd
	st.ChatDash.Accounts = slices.Sorted(maps.Keys(cd.accounts))
	for _, id := range slices.Sorted(maps.Keys(cd.clients)) {
		st.ChatDash.Clients = append(st.ChatDash.Clients, *cd.clients[id])
	}
	for _, id := range slices.Sorted(maps.Keys(cd.products)) {
		st.ChatDash.Products = append(st.ChatDash.Products, *cd.products[id])
	}
	for _, id := range slices.Sorted(maps.Keys(cd.seenProducts)) {
		st.ChatDash.ImplicitProducts = append(st.ChatDash.ImplicitProducts, *cd.seenProducts[id])
	}
	for _, k := range slices.Sorted(maps.Keys(cd.customers)) {
		account, client, _ := strings.Cut(k, "\x00")
		st.ChatDash.Customers = append(st.ChatDash.Customers, savedChatDashCustomer{
			AccountID: account, ClientID: client, CustomerID: cd.customers[k]})
	}
	for _, sub := range s.subs {
		c := sub.clone()
		saved := savedSubscription{API: c.api, ID: c.id, Body: c.body, AppliedAt: c.appliedAt, VisibleAt: c.visibleAt,
			ReplacedBy: c.replacedBy, Polar: c.polar, Chargeflow: c.chargeflow, ChatDash: c.chatdash}
		switch {
		case c.polar != nil:
			c.polar.Body = nil
		case c.chargeflow != nil:
			c.chargeflow.Body = nil
		case c.chatdash != nil:
			c.chatdash.Body = nil
		}
		st.Subscriptions = append(st.Subscriptions, saved)
	}
	return st
}

func savedProducts(m map[string]*polarProduct) []savedPolarProduct {
	var out []savedPolarProduct
	for _, id := range slices.Sorted(maps.Keys(m)) {
		p := m[id]
		sp := savedPolarProduct{ID: p.id, Name: p.name, Interval: p.interval, Count: p.count,
			NotRecurring: p.notRecurring, Legacy: p.legacy, CreatedAt: p.createdAt, Prices: []savedPolarPrice{}}
		for _, pp := range p.prices {
			sp.Prices = append(sp.Prices, savedPolarPrice{ID: pp.id, MeterID: pp.meterID, AmountType: pp.AmountType,
				Currency: pp.Currency, Amount: pp.Amount, MinimumSeats: pp.MinimumSeats})
		}
		out = append(out, sp)
	}
	return out
}

func savedCustomers(m map[string]*polarCustomer) []savedPolarCustomer {
	var out []savedPolarCustomer
	for _, k := range slices.Sorted(maps.Keys(m)) {
		c := m[k]
		out = append(out, savedPolarCustomer{ID: c.id, ExternalID: c.externalID, Email: c.email, Name: c.name,
			Type: c.typ, Deleted: c.deleted, CreatedAt: c.createdAt})
	}
	return out
}

// subscriptions rebuilds the stored subscriptions, checking that each has
// its ID and exactly one typed record of its API.
func (st *savedState) subscriptions() ([]*stored, error) {
	out := make([]*stored, 0, len(st.Subscriptions))
	for i, ss := range st.Subscriptions {
		sub := &stored{api: ss.API, id: ss.ID, body: ss.Body, appliedAt: ss.AppliedAt, visibleAt: ss.VisibleAt,
			replacedBy: ss.ReplacedBy, polar: ss.Polar, chargeflow: ss.Chargeflow, chatdash: ss.ChatDash}
		ok := ss.ID != "" && len(ss.Body) > 0
		switch ss.API {
		case subkit.Polar:
			ok = ok && ss.Polar != nil && ss.Chargeflow == nil && ss.ChatDash == nil
			if ok {
				ss.Polar.Body = ss.Body
			}
		case subkit.Chargeflow:
			ok = ok && ss.Chargeflow != nil && ss.Polar == nil && ss.ChatDash == nil
			if ok {
				ss.Chargeflow.Body = ss.Body
			}
		case subkit.ChatDash:
			ok = ok && ss.ChatDash != nil && ss.Polar == nil && ss.Chargeflow == nil
			if ok {
				ss.ChatDash.Body = ss.Body
			}
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("subscription %d (%q of %q) is incomplete", i, ss.ID, ss.API)
		}
		out = append(out, sub)
	}
	return out, nil
}

// restoreLocked puts a loaded state in place. It runs with the lock held.
func (s *Server) restoreLocked(st *savedState, subs []*stored) {
	p := &s.polar
	p.init()
	p.rows = nil
	if st.Polar.OrganizationID != "" {
		p.orgID = st.Polar.OrganizationID
	}
	if st.Polar.Currency != "" {
		p.currency = st.Polar.Currency
	}
	for _, sp := range st.Polar.Products {
		p.products[sp.ID] = sp.product()
	}
	for _, sp := range st.Polar.ImplicitProducts {
		p.seenProducts[sp.ID] = sp.product()
	}
	for _, sc := range st.Polar.Customers {
		c := sc.customer()
		p.customers[c.id] = c
		if c.externalID != "" {
			p.byExtID[c.externalID] = c
		}
	}
	for _, sc := range st.Polar.ImplicitCustomers {
		p.seenCustomers[sc.ID] = sc.customer()
	}
	for _, sc := range st.Polar.ImplicitExternalCustomer {
		p.seenByExtID[sc.ExternalID] = sc.customer()
	}
	s.cf.init()
	for _, d := range st.Chargeflow.Disputes {
		s.cf.disputes[d.ID] = &d
	}
	s.cd.init()
	for _, a := range st.ChatDash.Accounts {
		s.cd.accounts[a] = true
	}
	for _, c := range st.ChatDash.Clients {
		s.cd.clients[c.ID] = &c
	}
	for _, pr := range st.ChatDash.Products {
		s.cd.products[pr.ID] = &pr
	}
	for _, pr := range st.ChatDash.ImplicitProducts {
		s.cd.seenProducts[pr.ID] = &pr
	}
	for _, c := range st.ChatDash.Customers {
		s.cd.customers[c.AccountID+"\x00"+c.ClientID] = c.CustomerID
	}
	s.subs = subs
	for _, sub := range subs {
		if sub.api == subkit.Chargeflow && sub.replacedBy == "" {
			s.cf.current[sub.chargeflow.DisputeID] = sub
		}
	}
}

func (sp savedPolarProduct) product() *polarProduct {
	prod := &polarProduct{id: sp.ID, name: sp.Name, interval: sp.Interval, count: sp.Count,
		notRecurring: sp.NotRecurring, legacy: sp.Legacy, createdAt: sp.CreatedAt}
	for _, pp := range sp.Prices {
		prod.prices = append(prod.prices, polarPrice{id: pp.ID, meterID: pp.MeterID, PolarPrice: PolarPrice{
			AmountType: pp.AmountType, Currency: pp.Currency, Amount: pp.Amount, MinimumSeats: pp.MinimumSeats}})
	}
	return prod
}

func (sc savedPolarCustomer) customer() *polarCustomer {
	return &polarCustomer{id: sc.ID, externalID: sc.ExternalID, email: sc.Email, name: sc.Name, typ: sc.Type,
		deleted: sc.Deleted, createdAt: sc.CreatedAt}
}
