package main

import (
	"testing"

	"github.com/subkit-go/subkit/examples/internal/exampletest"
)

func TestFaults(t *testing.T) {
	exampletest.Run(t, run, exampletest.Faults(t, "ChatDash", 4 /* FindConnect lists four statuses */, map[string][]string{
		"none":         {"created:  sub_sched_", "status not_started", `agents "Agent A"`},
		"server-error": {"the server answered 503", "FindConnect for this product and start date finds nothing"},
		"lost-answer":  {"the create happened; do not send it again"},
		"slow":         {"the create happened; do not send it again"},
		"malformed":    {"the server answered 200", "the create happened; do not send it again"},
		"unauthorized": {"the agency key was refused; nothing was created"},
		"refused":      {"refused as sent (Client has no admin member)"},
		"invalid":      {"data.agentIds[1]: is required", "data.selectedProduct.startDate: is required"},
	}))
}

func TestFlags(t *testing.T) {
	exampletest.Run(t, run, map[string]exampletest.Case{
		"own IDs, seeded": {Args: []string{"-client", "64abc123def456789012345f", "-agents", "64abc123def4567890123451,64abc123def4567890123452"},
			Stdout: []string{"created:  sub_sched_", `agents "Agent A, Agent B"`},
			Fake:   []string{"ChatDash received 1 request(s) and holds 1 subscription(s)"}},
		"help":          {Args: []string{"-h"}, Stderr: []string{"usage: go run ./examples/chatdash", "-account ID"}},
		"unknown fault": {Args: []string{"-fault", "nope"}, Status: 2, Stderr: []string{`unknown -fault "nope"`}},
		"live with a fault": {Args: []string{"-live", "-fault", "reset"}, Status: 2,
			Stderr: []string{"-fault works only against the fake"}},
		"live without key": {Args: []string{"-live"}, Env: map[string]string{"CHATDASH_AGENCY_KEY": ""}, Status: 2,
			Stderr: []string{"-live has nothing to call", "CHATDASH_AGENCY_KEY is not set"}},
		"live without IDs": {Args: []string{"-live"}, Status: 2,
			Env: map[string]string{"CHATDASH_AGENCY_KEY": "CD.example", "CHATDASH_ACCOUNT_ID": "", "CHATDASH_CLIENT_ID": "",
				"CHATDASH_AGENT_IDS": "", "CHATDASH_PRODUCT_ID": ""},
			Stderr: []string{"ChatDash: needs -account, -client, -agents, -product (real IDs)"}},
	})
}
