package main

import (
	"testing"

	"github.com/subkit-go/subkit/examples/internal/exampletest"
)

// noCredentials is an environment in which -live has nothing to call.
var noCredentials = map[string]string{"CHATDASH_AGENCY_KEY": "", "CHARGEFLOW_API_KEY": "", "POLAR_ACCESS_TOKEN": ""}

func TestRun(t *testing.T) {
	exampletest.Run(t, run, map[string]exampletest.Case{
		// One create per API, each held by the fake under the ID printed;
		// the bad parameters are refused with nothing sent (one request to
		// Polar, the create).
		"fake": {
			Stdout: []string{"ChatDash    sub_sched_", ": not_started for owner@acme.example",
				": active for source_id sub_1PqRsTuVwXyZ", ": active for 992fae2a-2a17-4b7a-8d9e-e287cf90131b",
				"Polar       bad parameters refused, nothing sent:\n",
				"product_id: must be a version 4 UUID\n", "customer_id: is required\n"},
			Fake: []string{"ChatDash received 1 request(s) and holds 1 subscription(s)",
				"Chargeflow received 1 request(s) and holds 1 subscription(s)",
				"Polar received 1 request(s) and holds 1 subscription(s)"},
		},
		"fake, Polar customer by external ID": {Args: []string{"-polar-external-customer", "usr_1337"},
			Fake: []string{"ChatDash received 1 request(s) and holds 1 subscription(s)",
				"Chargeflow received 1 request(s) and holds 1 subscription(s)",
				"Polar received 1 request(s) and holds 1 subscription(s)"}},
		"live without credentials": {Args: []string{"-live"}, Env: noCredentials, Status: 2,
			Stderr: []string{"quickstart: -live has nothing to call:\n", "ChatDash: CHATDASH_AGENCY_KEY is not set\n",
				"Chargeflow: CHARGEFLOW_API_KEY is not set\n", "Polar: POLAR_ACCESS_TOKEN is not set\n",
				"Run without -live to use the built-in fake APIs"}},
		"live, production, without credentials": {Args: []string{"-live", "-polar-production"}, Env: noCredentials, Status: 2,
			Stderr: []string{"-live has nothing to call"}},
		"production without live": {Args: []string{"-polar-production"}, Status: 2,
			Stderr: []string{"-polar-production only makes sense with -live"}},
		"no -fault here":  {Args: []string{"-fault", "reset"}, Status: 2, Stderr: []string{"flag provided but not defined: -fault"}},
		"extra arguments": {Args: []string{"now"}, Status: 2, Stderr: []string{`unexpected arguments ["now"]`}},
		"help":            {Args: []string{"-h"}, Stderr: []string{"usage: go run ./examples/quickstart", "-polar-production", "-chatdash-account ID"}},
	})
}
