package subkittest

import (
	"context"
	"testing"

	"github.com/subkit-go/subkit"
)

// The typed accessors hand out copies: a test that changes what it got
// changes neither what the server holds nor what its look-ups answer.
func TestAccessorsReturnCopies(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	for _, cr := range creates {
		var info subkit.ResponseInfo
		if _, err := cr.create(context.Background(), c, &info); err != nil {
			t.Fatal(err)
		}
	}
	before := map[subkit.API]string{}
	for _, api := range []subkit.API{subkit.ChatDash, subkit.Chargeflow, subkit.Polar} {
		h := mustHold(t, s, api, 1)[0]
		before[api] = string(h.Body)
		h.Body[0] = 'X'
	}
	p := s.PolarSubscriptions()[0]
	p.Body[0], p.Metadata["plan"] = 'X', "changed"
	cd := s.ChatDashSubscriptions()[0]
	cd.Body[0], cd.AgentIDs[0] = 'X', "changed"
	cf := s.ChargeflowSubscriptions()[0]
	cf.Body[0] = 'X'

	for api, body := range before {
		if got := string(mustHold(t, s, api, 1)[0].Body); got != body {
			t.Errorf("%s: Body changed to %s", api, got)
		}
		if !lookupFinds(t, s, api, idOf(t, body)) {
			t.Errorf("%s: the look-up no longer finds %s", api, idOf(t, body))
		}
	}
	if got := s.PolarSubscriptions()[0].Metadata["plan"]; got != "pro" {
		t.Errorf("Metadata[plan] = %v", got)
	}
	if got := s.ChatDashSubscriptions()[0].AgentIDs[0]; got != connectParams().AgentIDs[0] {
		t.Errorf("AgentIDs[0] = %v", got)
	}
}
