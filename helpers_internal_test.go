package subkit

// Helpers of the package's internal tests.
//
// The request bodies that encode themselves (jsonBody, in disputes.go and
// subscriptions.go) must send byte for byte what json.Marshal sends of the
// tagged struct that defines their wire form, which lives in their tests
// (disputes_internal_test.go, subscriptions_internal_test.go): those draw
// random params from bodyStrings and compare the two with assertEncodesAs.

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// bodyStrings are values whose encoding differs from their bytes, and the
// ordinary ones.
var bodyStrings = []string{
	"", "", "x", "sub_1PqRsTuVwXyZ", "2024-05-01T09:30:00Z", `"q"`, `b\s`, "<a&b>", "\x00", "\x1f\t\n\r\b\f",
	"\u2028\u2029", "é中🙂", "\xff", "a\xc3", "\x7f", strings.Repeat("é<", 40),
}

func pick(r *rand.Rand) string { return bodyStrings[r.IntN(len(bodyStrings))] }

// assertEncodesAs fails t unless b.encodeJSON writes what json.Marshal
// writes of wire, b's wire form as a tagged struct.
func assertEncodesAs(t *testing.T, b jsonBody, wire any) {
	t.Helper()
	want, err := json.Marshal(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.encodeJSON(); string(got) != string(want) {
		t.Fatalf("encodeJSON wrote\n%s\njson.Marshal writes\n%s", got, want)
	}
}
