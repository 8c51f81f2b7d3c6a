package setup

import (
	"slices"

	"github.com/subkit-go/subkit"
)

// IDs are the objects an example's creates name. On the fake, an ID not
// given is a demo one, and the fake is seeded with them all; with -live they
// must name real objects of the account.
type IDs struct {
	// ChatDash: the agency's Stripe connected account (acct_…), its client
	// and that client's agents, and a Stripe product (prod_…).
	ChatDashAccount, ChatDashClient, ChatDashProduct string
	ChatDashAgents                                   []string
	// Chargeflow: the dispute (24 hex characters) and the ID of the disputed
	// subscription in the merchant's billing system.
	ChargeflowDispute, ChargeflowSourceID string
	// Polar: a free recurring product, and the customer by Polar's UUID or
	// by the caller's own ID (one of the two; the fake's demo customer has
	// the UUID).
	PolarProduct, PolarCustomer, PolarExternalCustomer string
}

// idFlag is the flag that gives one ID.
type idFlag struct {
	api              subkit.API
	name, env, usage string
	// demo is the fake's default; "" for an ID that may be left out.
	demo string
	dst  *string
	// or is another ID that may be given instead of this one, orName its flag.
	or     *string
	orName string
}

// idFlags are the flags of the IDs of the APIs the example calls.
func (f *Flags) idFlags() []idFlag {
	ids := &f.ids
	all := []idFlag{
		{api: subkit.ChatDash, name: "account", env: "CHATDASH_ACCOUNT_ID", usage: "Stripe connected account `ID` (acct_…)",
			demo: "acct_1NXWPnCo6bFb1KQe", dst: &ids.ChatDashAccount},
		{api: subkit.ChatDash, name: "client", env: "CHATDASH_CLIENT_ID", usage: "client `ID`",
			demo: "64abc123def456789012345a", dst: &ids.ChatDashClient},
		{api: subkit.ChatDash, name: "agents", env: "CHATDASH_AGENT_IDS", usage: "agent `IDs`, comma-separated",
			demo: "64abc123def456789012345b", dst: &f.agents},
		{api: subkit.ChatDash, name: "product", env: "CHATDASH_PRODUCT_ID", usage: "Stripe product `ID` (prod_…)",
			demo: "prod_ABC123XYZ", dst: &ids.ChatDashProduct},
		{api: subkit.Chargeflow, name: "dispute", env: "CHARGEFLOW_DISPUTE_ID", usage: "dispute `ID` (24 hex characters)",
			demo: "65f0c1d2e3a4b5c6d7e8f901", dst: &ids.ChargeflowDispute},
		{api: subkit.Chargeflow, name: "source-id", env: "CHARGEFLOW_SOURCE_ID", usage: "the subscription's `ID` in your billing system",
			demo: "sub_1PqRsTuVwXyZ", dst: &ids.ChargeflowSourceID},
		{api: subkit.Polar, name: "product", env: "POLAR_PRODUCT_ID", usage: "free recurring product `UUID`",
			demo: "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", dst: &ids.PolarProduct},
		{api: subkit.Polar, name: "customer", env: "POLAR_CUSTOMER_ID", usage: "customer `UUID`",
			demo: "992fae2a-2a17-4b7a-8d9e-e287cf90131b", dst: &ids.PolarCustomer,
			or: &ids.PolarExternalCustomer, orName: "external-customer"},
		{api: subkit.Polar, name: "external-customer", env: "POLAR_EXTERNAL_CUSTOMER_ID", usage: "the customer's `ID` in your system, instead of its UUID",
			dst: &ids.PolarExternalCustomer},
	}
	return slices.DeleteFunc(all, func(id idFlag) bool { return !slices.Contains(f.cfg.APIs, id.api) })
}

// needed reports whether the ID must still be given.
func (id idFlag) needed() bool {
	return *id.dst == "" && id.demo != "" && (id.or == nil || *id.or == "")
}

// fillDemo gives each ID still needed its demo value, for the fake.
func (f *Flags) fillDemo() {
	for _, id := range f.idFlags() {
		if id.needed() {
			*id.dst = id.demo
		}
	}
}

// missing names the flags of api's IDs still needed for a live call.
func (f *Flags) missing(api subkit.API) []string {
	var names []string
	for _, id := range f.idFlags() {
		if id.api != api || !id.needed() {
			continue
		}
		name := "-" + f.flagName(api, id.name)
		if id.orName != "" {
			name += " (or -" + f.flagName(api, id.orName) + ")"
		}
		names = append(names, name)
	}
	return names
}
