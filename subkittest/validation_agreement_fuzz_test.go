package subkittest

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/subkit-go/subkit/internal/validate"
	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// The SDK validates a Polar create before sending it (internal/validate);
// the fake validates it as Polar's server does (polarschema.go, checked
// against Pydantic's own answers). Design rule 1 asks for both directions:
// the SDK refuses what Polar refuses (or the create fails on the wire) and
// never refuses what Polar accepts. These targets feed the same generated
// input to both and compare the verdicts.

// Named types a caller may put in metadata.
type (
	metaString string
	metaInt    int32
	metaBool   bool
	metaFloat  float64
)

// agreementValue makes a metadata value of the kind the fuzzer picked.
func agreementValue(kind uint8, s string, i int64, fl float64) any {
	switch kind % 17 {
	case 0:
		return s
	case 1:
		return i
	case 2:
		return fl
	case 3:
		return i%2 == 0
	case 4:
		return nil
	case 5: // near the 500-character limit, in runes of any width
		return strings.Repeat(s, int(uint64(i)%600))
	case 6:
		return uint64(i)
	case 7:
		return float32(fl)
	case 8:
		return int8(i)
	case 9:
		return metaString(s)
	case 10:
		return time.Duration(i)
	case 11:
		return metaInt(i)
	case 12:
		return metaBool(i%2 == 0)
	case 13:
		return metaFloat(fl)
	case 14:
		return []any{s}
	case 15:
		return map[string]any{"k": s}
	default:
		return json.Number(s)
	}
}

// sdkVerdict is what the SDK's validation says of the metadata: "" when it
// passes, else why not. A value that passes but cannot be encoded is then
// refused by the call before anything is sent (see serverVerdict).
func sdkVerdict(md map[string]any) string {
	var p validate.Problems
	if !p.Metadata("metadata", md, validate.PolarMetadata()) {
		return fmt.Sprint(p)
	}
	return ""
}

// serverVerdict is what the fake (Polar) answers for a create carrying
// productID and md, as the SDK would encode it: "" for accepted.
func serverVerdict(t *testing.T, productID string, md map[string]any) (sendable bool, problem string) {
	body, err := json.Marshal(map[string]any{"product_id": productID, "customer_id": customerID, "metadata": md})
	if err != nil {
		return false, "" // nothing can be sent
	}
	v, err := pyjson.Parse(body)
	if err != nil {
		t.Fatalf("the fake cannot parse what encoding/json wrote: %v\n%s", err, body)
	}
	_, errs := validatePolarCreate(v, true)
	if len(errs) == 0 {
		return true, ""
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = fmt.Sprintf("%v: %s", e.loc, e.msg)
	}
	return true, strings.Join(parts, "; ")
}

// laxNumber reports whether Polar's metadata union reads the string s as a
// number (Pydantic's lax mode, after the string member refused it).
func laxNumber(s string) bool {
	t := strings.TrimSpace(s)
	if pyIntText.MatchString(t) && len(t) <= 4300 {
		return true
	}
	if pyFloatText.MatchString(t) {
		return !math.IsInf(pyjson.Number(strings.ReplaceAll(t, "_", "")).Float(), 0)
	}
	return false
}

// knownDivergence explains a value the SDK refuses and Polar accepts, when
// the divergence is deliberate; "" when it is not.
func knownDivergence(md map[string]any) string {
	for k, v := range md {
		if n, ok := v.(json.Number); ok && math.IsInf(pyjson.Number(n).Float(), 0) {
			// Python reads 1e400 as infinity and Pydantic's float takes it,
			// but no JSON column can store it; the SDK keeps to finite
			// numbers.
			return "a number beyond float64's range"
		}
		if !utf8.ValidString(k) {
			return "invalid UTF-8 key: encoding/json would send U+FFFD instead (design: no invalid UTF-8 in any string)"
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.String {
			continue
		}
		s := rv.String()
		if !utf8.ValidString(s) {
			return "invalid UTF-8 value: encoding/json would send U+FFFD instead"
		}
		if n := utf8.RuneCountInString(s); (n == 0 || n > 500) && laxNumber(s) {
			// Polar documents string values of 1–500 characters; its
			// Pydantic union then tries int and float in lax mode and
			// stores such a string as a number. The SDK keeps to the
			// documented rule rather than let a string change type.
			return "a string outside 1–500 characters that Polar would store as a number"
		}
	}
	return ""
}

// FuzzMetadataAgreement compares the SDK's metadata validation with the
// fake's Pydantic-faithful schema on the same metadata: up to 55 pairs
// (around the limit of 50), one of them generated of any kind.
func FuzzMetadataAgreement(f *testing.F) {
	f.Add("plan", "pro", int64(3), 0.5, uint8(0), uint8(0))
	f.Add("", "x", int64(0), 0.0, uint8(0), uint8(49))
	f.Add(strings.Repeat("k", 40), strings.Repeat("é", 500), int64(1), 0.0, uint8(0), uint8(49))
	f.Add(strings.Repeat("k", 41), "v", int64(1), 0.0, uint8(0), uint8(0))
	f.Add("k", "v", int64(1), 0.0, uint8(0), uint8(50))
	f.Add("k", "1", int64(501), 0.0, uint8(5), uint8(0))  // a 501-digit numeric string
	f.Add("k", "ab", int64(250), 0.0, uint8(5), uint8(0)) // exactly 500 characters
	f.Add("k", "1.5e3", int64(0), math.Inf(1), uint8(2), uint8(0))
	f.Add("k", "", int64(-1), math.NaN(), uint8(7), uint8(0)) // float32 NaN
	f.Add("k\x00", "v\x00", int64(0), 0.0, uint8(0), uint8(0))
	f.Add("\xff", "\xfe", int64(0), 0.0, uint8(0), uint8(0))
	f.Add("k", "pro", int64(0), 0.0, uint8(9), uint8(0))  // a named string type
	f.Add("k", "pro", int64(7), 0.0, uint8(10), uint8(0)) // time.Duration: an integer kind
	f.Add("k", "12", int64(0), 0.0, uint8(16), uint8(0))  // json.Number
	f.Add("k", "x", int64(0), 0.0, uint8(14), uint8(0))   // a list
	f.Add("k", " 42 ", int64(0), 0.0, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, key, s string, i int64, fl float64, kind, pairs uint8) {
		md := map[string]any{}
		for j := range int(pairs % 56) {
			md[fmt.Sprintf("p%02d", j)] = j
		}
		md[key] = agreementValue(kind, s, i, fl)

		sdkProblem := sdkVerdict(md)
		sendable, serverProblem := serverVerdict(t, productID, md)
		sdkSends := sdkProblem == "" && sendable
		in := fmt.Sprintf("key %q value %T %#v (%d pairs)", key, md[key], md[key], len(md))
		switch {
		case sdkSends && serverProblem != "":
			t.Fatalf("the SDK sends what Polar refuses: %s\nPolar: %s", in, serverProblem)
		case sdkProblem != "" && sendable && serverProblem == "":
			if why := knownDivergence(md); why == "" {
				t.Fatalf("the SDK refuses what Polar accepts: %s\nSDK: %s", in, sdkProblem)
			}
		}
	})
}

// FuzzUUIDAgreement compares the SDK's UUID v4 check with the fake's
// (Pydantic's UUID4 through the Rust uuid crate): the same strings pass.
func FuzzUUIDAgreement(f *testing.F) {
	for _, s := range []string{productID, strings.ToUpper(productID), strings.ReplaceAll(productID, "-", ""),
		"{" + productID + "}", "urn:uuid:" + productID, "URN:UUID:" + productID, uuidV1, "",
		"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe2", "d8dd2de1-21b7-4a41-cbc3-ce909c0cfe23", "{" + productID,
		"d8dd2de121b7-4a41-8bc3-ce909c0cfe23-", productID + "\x00", " " + productID} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sdk := validate.IsUUID4(s)
		_, perr := validateUUID4(s, locOf("body", "product_id"))
		if server := perr == nil; sdk != server {
			t.Fatalf("UUID %q: the SDK says %v, Polar says %v (%+v)", s, sdk, server, perr)
		}
	})
}
