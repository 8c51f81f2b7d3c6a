package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Invalid UTF-8 is refused per line in CSV and JSON Lines alike, naming
// the field, instead of being created for the U+FFFD it would decode as;
// the other lines run. A 5 MB value is refused and echoed clipped.
func TestBulkRefusesBadValuesPerLine(t *testing.T) {
	t.Parallel()
	fake := startFake(t, "", "-implicit")
	huge := strings.Repeat("k", 5<<20)
	for _, tc := range []struct{ name, content string }{
		{"users.jsonl", `{"key":"a","external_customer_id":"usr_1"}` + "\n" +
			`{"key":"b","external_customer_id":"usr_` + "\xff" + `1"}` + "\n" +
			`{"key":"` + huge + `","external_customer_id":"usr_3"}` + "\n"},
		{"users.csv", "key,external_customer_id\na,usr_1\nb,usr_\xff1\n" + huge + ",usr_3\n"},
	} {
		path := writeFile(t, tc.name, tc.content)
		res := runCommand(t, noCredentials(), "bulk", "-base-url", fake.url, "-create", "polar-external-customer",
			"-set", "product_id="+product, "-progress", "none", path)

		assert.Equal(t, exitFailed, res.exit, "%s: %s", tc.name, res.stderr)
		assert.Less(t, len(res.stdout)+len(res.stderr), 20<<10, "%s: the 5 MB value is not echoed", tc.name)
		report := readReport(t, res.stdout)
		first, bad, long := report[1], report[2], report[3]
		if tc.name == "users.csv" {
			first, bad, long = report[2], report[3], report[4]
		}
		assert.Contains(t, []string{"created", "replayed"}, first.Outcome, "%s: %s", tc.name, first.Error)
		assert.Equal(t, "failed", bad.Outcome, tc.name)
		assert.Contains(t, bad.Error, fmt.Sprintf("line %d, column external_customer_id: not valid UTF-8: after ", bad.Line), tc.name)
		assert.Contains(t, bad.Error, `usr_", a bad byte at character `, tc.name)
		assert.Equal(t, "fix", bad.Action)
		assert.Equal(t, "failed", long.Outcome, tc.name)
		assert.Contains(t, long.Error, "column key: 5242880 bytes, more than the 65536 a value may have", tc.name)
	}
	for _, s := range fake.held().Polar.Subscriptions {
		assert.Equal(t, "usr_1", s.ExternalCustomerID, "only the good line was created")
	}
}
