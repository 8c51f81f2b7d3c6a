package main

import (
	"testing"

	"github.com/subkit-go/subkit/examples/internal/exampletest"
)

func TestFaults(t *testing.T) {
	exampletest.Run(t, run, exampletest.Faults(t, "Chargeflow", 1, map[string][]string{
		"none":         {"source_id sub_1PqRsTuVwXyZ", "every 1 month from"},
		"server-error": {"the server answered 502", "GetForDispute (ErrNotFound) finds nothing"},
		"reset":        {"GetForDispute (ErrNotFound) finds nothing"},
		"lost-answer":  {"with source_id sub_1PqRsTuVwXyZ:", "the create happened"},
		"slow":         {"the create happened"},
		"malformed":    {"the server answered 201", "the create happened"},
		"unauthorized": {"the API key was refused; nothing was recorded"},
		"refused":      {"not found (Dispute not found); nothing was recorded"},
		"invalid":      {"source_id: must be at most 128 characters", `frequency: must be one of day, week, month, year, got "fortnight"`},
	}))
}

func TestFlags(t *testing.T) {
	exampletest.Run(t, run, map[string]exampletest.Case{
		"cancelled": {Args: []string{"-signup", "2025-01-15", "-cancelled", "2025-06-01T12:00:00Z", "-reason", "unused", "-plan", "Team"},
			Stdout: []string{`plan "Team"`, "every 1 month from 2025-01-15", "cancelled 2025-06-01 (unused)"},
			Fake:   []string{"Chargeflow received 1 request(s) and holds 1 subscription(s)"}},
		"bad date": {Args: []string{"-signup", "2025-02-30"}, Status: 2,
			Stderr: []string{`invalid value "2025-02-30" for flag -signup: not a date (YYYY-MM-DD) nor an RFC 3339 time`}},
		"live without key": {Args: []string{"-live"}, Env: map[string]string{"CHARGEFLOW_API_KEY": ""}, Status: 2,
			Stderr: []string{"-live has nothing to call", "CHARGEFLOW_API_KEY is not set"}},
		"live without IDs": {Args: []string{"-live"}, Status: 2,
			Env:    map[string]string{"CHARGEFLOW_API_KEY": "cf_example", "CHARGEFLOW_DISPUTE_ID": "", "CHARGEFLOW_SOURCE_ID": ""},
			Stderr: []string{"Chargeflow: needs -dispute, -source-id (real IDs)"}},
	})
}
