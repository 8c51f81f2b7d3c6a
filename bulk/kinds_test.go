package bulk_test

import (
	"testing"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

func TestKinds(t *testing.T) {
	want := map[string]subkit.API{"polar-customer": subkit.Polar, "polar-external-customer": subkit.Polar, "chargeflow-dispute": subkit.Chargeflow}
	kinds := bulk.Kinds()
	if len(kinds) != len(want) {
		t.Fatalf("%d kinds, want %d", len(kinds), len(want))
	}
	for _, k := range kinds {
		if want[k.Name] != k.API {
			t.Errorf("%s: API %q, want %q", k.Name, k.API, want[k.Name])
		}
		if got, ok := bulk.KindNamed(k.Name); !ok || got.Name != k.Name {
			t.Errorf("KindNamed(%q) = %q, %v", k.Name, got.Name, ok)
		}
	}
	if _, ok := bulk.KindNamed("chatdash-connect"); ok {
		t.Error("ChatDash creates cannot be made in bulk")
	}
	items := map[string]bulk.Item{
		"polar-customer":          {Customer: &subkit.CustomerSubscriptionParams{}},
		"polar-external-customer": {ExternalCustomer: &subkit.ExternalCustomerSubscriptionParams{}},
		"chargeflow-dispute":      {Dispute: &subkit.DisputeSubscriptionParams{}},
	}
	for name, it := range items {
		if k, ok := it.Kind(); !ok || k.Name != name {
			t.Errorf("item of %s: kind %q, %v", name, k.Name, ok)
		}
	}
	for _, it := range []bulk.Item{{}, {Customer: &subkit.CustomerSubscriptionParams{}, Dispute: &subkit.DisputeSubscriptionParams{}}} {
		if k, ok := it.Kind(); ok {
			t.Errorf("an item of no or several creates has kind %q", k.Name)
		}
		if it.API() != "" {
			t.Errorf("API of an item of no or several creates: %q", it.API())
		}
	}
}
