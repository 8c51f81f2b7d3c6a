package subkittest

import (
	"context"
	"testing"

	"github.com/subkit-go/subkit"
)

func TestAddCredential(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.AddCredential(subkit.Polar, "polar_pat_second")
	c := newClient(t, s, subkit.WithOrganizationToken("polar_pat_second"))
	if _, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams()); err != nil {
		t.Fatal(err)
	}
	// Credentials do not cross APIs.
	c = newClient(t, s, subkit.WithAgencyKey("polar_pat_second"))
	if _, err := c.Subscriptions.CreateConnect(context.Background(), accountID, connectParams()); err == nil {
		t.Errorf("a Polar token worked for ChatDash")
	}
}
