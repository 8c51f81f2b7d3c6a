package bulk

import (
	"context"

	"github.com/subkit-go/subkit"
)

// Kind is one kind of create a run makes: one row of the table of kinds
// (Kinds), which every switch on an item's create reads, the command's
// included. Adding a kind is a row here and its field on Item.
type Kind struct {
	// Name is the kind's name in the command's input ("create" column,
	// -create).
	Name string
	// API is the API the kind's creates go to.
	API subkit.API
	// Field is the Item field that holds the kind's params.
	Field string
	// set reports whether it asks for this kind.
	set func(it *Item) bool
	// create makes it's create on c under opts; lookup carries what the
	// page's look-up found of its key (Polar only).
	create func(ctx context.Context, c *subkit.Client, it *Item, opts []subkit.CallOption, looked []*subkit.Subscription, res *Result) error
}

// Kinds returns the table of the kinds of create a run makes, in a fixed
// order; the slice is the caller's.
func Kinds() []Kind {
	return []Kind{
		{Name: "polar-customer", API: subkit.Polar, Field: "Customer",
			set: func(it *Item) bool { return it.Customer != nil },
			create: func(ctx context.Context, c *subkit.Client, it *Item, opts []subkit.CallOption, looked []*subkit.Subscription, res *Result) (err error) {
				res.Subscription, err = c.Subscriptions.CreateForCustomer(ctx, it.Customer, append(opts, subkit.WithKeyLookup(looked))...)
				return err
			}},
		{Name: "polar-external-customer", API: subkit.Polar, Field: "ExternalCustomer",
			set: func(it *Item) bool { return it.ExternalCustomer != nil },
			create: func(ctx context.Context, c *subkit.Client, it *Item, opts []subkit.CallOption, looked []*subkit.Subscription, res *Result) (err error) {
				res.Subscription, err = c.Subscriptions.CreateForExternalCustomer(ctx, it.ExternalCustomer, append(opts, subkit.WithKeyLookup(looked))...)
				return err
			}},
		{Name: "chargeflow-dispute", API: subkit.Chargeflow, Field: "Dispute",
			set: func(it *Item) bool { return it.Dispute != nil },
			create: func(ctx context.Context, c *subkit.Client, it *Item, opts []subkit.CallOption, _ []*subkit.Subscription, res *Result) (err error) {
				res.Dispute, err = c.Subscriptions.CreateForDispute(ctx, it.DisputeID, it.Dispute, opts...)
				return err
			}},
	}
}

// Kind returns the kind of create the item asks for; false when it names
// none, or more than one.
func (it Item) Kind() (Kind, bool) {
	var found Kind
	n := 0
	for _, k := range Kinds() {
		if k.set(&it) {
			found, n = k, n+1
		}
	}
	return found, n == 1
}

// KindNamed returns the kind called name in the command's input; false for
// a name no kind has.
func KindNamed(name string) (Kind, bool) {
	for _, k := range Kinds() {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}
