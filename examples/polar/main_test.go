package main

import (
	"testing"

	"github.com/subkit-go/subkit/examples/internal/exampletest"
)

func TestFaults(t *testing.T) {
	exampletest.Run(t, run, exampletest.Faults(t, "Polar", 1, map[string][]string{
		"none":         {"customer 992fae2a-2a17-4b7a-8d9e-e287cf90131b <ada@acme.example>", `product "Community"`, "metadata {order_id=ord_1001}"},
		"server-error": {"the server answered 502", "List by product, customer and metadata {order_id=ord_1001} finds nothing"},
		"lost-answer":  {"the create happened"},
		"slow":         {"the create happened"},
		"malformed":    {"the server answered 201", "the create happened"},
		"unauthorized": {"the token was refused", `code "invalid_token"`},
		"refused":      {"customer_id: Customer does not exist. (value_error)"},
		"invalid":      {"product_id: must be a version 4 UUID", "metadata.empty: string values must not be empty"},
	}))
}

func TestFlags(t *testing.T) {
	exampletest.Run(t, run, map[string]exampletest.Case{
		"external customer": {Args: []string{"-external-customer", "usr_1337", "-metadata", "order_id=ord_7,seats=3,vip=true"},
			Stdout: []string{"for external customer usr_1337", "<ada@acme.example>", "metadata {order_id=ord_7 seats=3 vip=true}"},
			Fake:   []string{"Polar received 1 request(s) and holds 1 subscription(s)"}},
		"both customers": {Args: []string{"-customer", "992fae2a-2a17-4b7a-8d9e-e287cf90131b", "-external-customer", "usr_1337"},
			Status: 2, Stderr: []string{"give -customer or -external-customer, not both"}},
		"bad metadata":           {Args: []string{"-metadata", "order_id"}, Status: 2, Stderr: []string{`"order_id" is not key=value`}},
		"production on the fake": {Args: []string{"-production"}, Status: 2, Stderr: []string{"-production only makes sense with -live"}},
		"live without token": {Args: []string{"-live"}, Env: map[string]string{"POLAR_ACCESS_TOKEN": ""}, Status: 2,
			Stderr: []string{"-live has nothing to call", "POLAR_ACCESS_TOKEN is not set"}},
		"live without IDs": {Args: []string{"-live", "-production"}, Status: 2,
			Env: map[string]string{"POLAR_ACCESS_TOKEN": "polar_oat_example", "POLAR_PRODUCT_ID": "", "POLAR_CUSTOMER_ID": "",
				"POLAR_EXTERNAL_CUSTOMER_ID": ""},
			Stderr: []string{"Polar: needs -product, -customer (or -external-customer) (real IDs)"}},
	})
}
