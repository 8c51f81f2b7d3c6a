package subkittest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/subkit-go/subkit"
)

// Polar parses UUIDs with Pydantic (the Rust uuid crate), which accepts the
// "urn:uuid:" prefix in lowercase only: "URN:UUID:…" is refused with 422
// (see the "uppercase urn prefix" case in testdata/polar_validation.json,
// computed by Pydantic 2.13). Design rule 1 has the SDK check UUID v4 before
// any I/O, so it should refuse the form too instead of sending it.

func TestSDKRefusesUppercaseURNPrefixLikePolar(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID: "URN:UUID:" + productID, CustomerID: customerID})
	if !errors.Is(err, subkit.ErrInvalidParams) {
		var ae *subkit.APIError
		if errors.As(err, &ae) {
			t.Errorf("the SDK sent a product_id Polar refuses: %d %s", ae.StatusCode, ae.Body)
		} else {
			t.Errorf("error %v, want ErrInvalidParams", err)
		}
	}
	if n := len(s.Requests(subkit.Polar)); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// The lowercase prefix is Polar's own form and must go through.
func TestSDKSendsLowercaseURNPrefix(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	got, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID: "urn:uuid:" + strings.ToUpper(productID), CustomerID: "{" + customerID + "}"})
	if err != nil {
		t.Fatal(err)
	}
	if held := s.PolarSubscriptions(); len(held) != 1 || held[0].ID != got.ID || held[0].ProductID != productID || held[0].CustomerID != customerID {
		t.Errorf("held %+v", held)
	}
}

// Polar's real 422 bodies locate problems inside the create union:
// ["body","SubscriptionCreateCustomer","metadata","k","int"] (Pydantic 2
// names the union member, and the member of the metadata value's own union).
// design.md promises FieldError.Field as a dotted wire path ("metadata.plan"),
// not "SubscriptionCreateCustomer.metadata.k.int". This test replays
// Pydantic's answer for a null metadata value (from
// testdata/polar_validation.json).
func TestSDKFieldPathsOfPolarUnionErrors(t *testing.T) {
	t.Parallel()
	body := polarGolden(t, "null value")
	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, Respond(422, body))
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	var ae *subkit.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 422 || len(ae.Fields) == 0 {
		t.Fatalf("error %v", err)
	}
	found := false
	for _, f := range ae.Fields {
		if strings.Contains(f.Field, "SubscriptionCreate") || strings.Contains(f.Field, "function-after") ||
			strings.HasSuffix(f.Field, ".int") || strings.HasSuffix(f.Field, ".float") || strings.HasSuffix(f.Field, ".bool") {
			t.Errorf("FieldError.Field %q is not a wire path", f.Field)
		}
		found = found || f.Field == "metadata.k"
	}
	if !found {
		t.Errorf("no FieldError for metadata.k in %+v", ae.Fields)
	}
}
