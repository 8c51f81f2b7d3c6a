package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An input wrong as a whole is refused with one message, exit 2, before
// anything is sent: the fake receives no request.
func TestBulkChecksTheInputAsAWhole(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	lines := func(format string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, format, i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, content string
		args          []string
		want          string
	}{
		{"missing.csv", "external_customer_id,metadata.plan\n" + lines("user-%d,pro\n", 3000),
			[]string{"-create", "polar-external-customer", "-key", "external_customer_id"},
			"users.csv: the header has no product_id column, which polar-external-customer needs (or -set product_id=…); nothing was sent"},
		{"nokey.csv", "external_customer_id,product_id\n" + lines("user-%d,"+product+"\n", 5),
			[]string{"-create", "polar-external-customer"},
			"the header has no key column, which holds each line's idempotency key (-key names another column)"},
		{"nocreate.csv", "key,external_customer_id,product_id\n" + lines("k%d,user,"+product+"\n", 5), nil,
			"the header has no create column, and there is no -create"},
		{"missing.jsonl", lines(`{"key":"k%d","external_customer_id":"user"}`+"\n", 5),
			[]string{"-create", "polar-external-customer"},
			"no line has a product_id field, which polar-external-customer needs"},
		{"empty.csv", "", nil, "the CSV input is empty: it needs a header line"},
		{"empty.jsonl", "", nil, "the input has no line: nothing to do"},
		{"blank.jsonl", "\n\n  \n", nil, "the input has no line: nothing to do"},
		{"header.csv", "key,create,product_id,external_customer_id\n", nil, "the CSV has a header and no line under it: nothing to do"},
		{"unknown.csv", "key\nk\n", []string{"-create", "mailchimp"}, `-create "mailchimp": want one of`},
	} {
		path := filepath.Join(t.TempDir(), "users"+filepath.Ext(tc.name))
		require.NoError(t, os.WriteFile(path, []byte(tc.content), 0o600))
		res := runCommand(t, noCredentials(), append(append([]string{"bulk", "-base-url", fake.url}, tc.args...), path)...)
		assert.Equal(t, exitUsage, res.exit, "%s: %s", tc.name, res.stderr)
		assert.Contains(t, res.stderr, tc.want, tc.name)
		assert.Equal(t, 1, strings.Count(res.stderr, "\n"), "%s: one message: %s", tc.name, res.stderr)
		assert.Empty(t, res.stdout, "%s: no report", tc.name)
	}
	held := fake.held()
	assert.Zero(t, held.Polar.Requests+held.Chargeflow.Requests, "nothing was sent")
}
