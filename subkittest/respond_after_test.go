package subkittest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/subkit-go/subkit"
)

func TestRespondAfterHandlingAppliesThenFails(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, RespondAfterHandling(500, `{"detail":"boom"}`))
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	var ae *subkit.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 500 || !errors.Is(err, subkit.ErrOutcomeUnknown) {
		t.Fatalf("error %v, want a 500 APIError matching ErrOutcomeUnknown", err)
	}
	held := s.PolarSubscriptions()
	reqs := s.Requests(subkit.Polar)
	if len(held) != 1 || len(reqs) != 1 || len(reqs[0].Created) != 1 || reqs[0].Created[0] != held[0].ID {
		t.Fatalf("held %d, requests %+v: the create must be applied once", len(held), reqs)
	}
	if reqs[0].Status != 500 || reqs[0].Fault != "respond 500 after handling" {
		t.Errorf("recorded status %d, fault %q", reqs[0].Status, reqs[0].Fault)
	}

	// A refusal is answered as the API answers it.
	s.InjectFault(subkit.Polar, 1, RespondAfterHandling(500, ""))
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/subscriptions/", strings.NewReader(`{"product_id":"x","customer_id":"y"}`))
	req.Header.Set("Authorization", "Bearer "+PolarToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || len(s.PolarSubscriptions()) != 1 {
		t.Errorf("status %d, held %d: want Polar's 422 and nothing new", resp.StatusCode, len(s.PolarSubscriptions()))
	}
	http.DefaultClient.CloseIdleConnections()
}
