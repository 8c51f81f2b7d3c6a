package subkittest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/internal/validate"
	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// TestPolarValidationMatchesPydantic replays bodies that Polar's schema
// refuses and compares the fake's answers, byte for byte, with Pydantic's
// own (testdata/gen_polar_validation.py wrote them).
func TestPolarValidationMatchesPydantic(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/polar_validation.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name         string  `json:"name"`
		ContentType  *string `json:"content_type"`
		Body         string  `json:"body"`
		BodyIsLatin1 bool    `json:"body_is_latin1"`
		Status       int     `json:"status"`
		Want         string  `json:"want"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	s := NewServer()
	defer s.Close()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			body := []byte(c.Body)
			if c.BodyIsLatin1 {
				body = body[:0]
				for _, r := range c.Body {
					body = append(body, byte(r))
				}
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/subscriptions/", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+PolarToken)
			if c.ContentType != nil {
				req.Header.Set("Content-Type", *c.ContentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.Status || string(got) != c.Want {
				t.Errorf("answer %d %s\nwant   %d %s", resp.StatusCode, got, c.Status, c.Want)
			}
		})
	}
	if n := len(s.PolarSubscriptions()); n != 0 {
		t.Errorf("the server holds %d subscriptions after refusals", n)
	}
}

func TestPolarAcceptsUUIDForms(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	for _, form := range []string{
		productID,
		strings.ToUpper(productID),
		strings.ReplaceAll(productID, "-", ""),
		"{" + productID + "}",
		"urn:uuid:" + productID,
		"urn:uuid:" + strings.ToUpper(productID),
	} {
		got := post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+form+`","customer_id":"`+customerID+`"}`)
		if got.status != 201 {
			t.Errorf("%s: %d %s", form, got.status, got.body)
			continue
		}
		if id := decodeObject(t, []byte(got.body))["product_id"]; id != productID {
			t.Errorf("%s: product_id answered as %v", form, id)
		}
	}
}

// The schema refusals are compared with Pydantic's own answers in
// TestPolarValidationMatchesPydantic; these spell a few out.
func TestPolarRefusesBadUUIDAndMetadata(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	url := s.URL() + rc.path
	long := strings.Repeat("k", 41)
	cases := []struct {
		name, body, want string
	}{
		{"v1 customer UUID", `{"product_id":"` + productID + `","customer_id":"` + uuidV1 + `"}`,
			`{"error":"RequestValidationError","detail":[` +
				`{"type":"uuid_version","loc":["body","SubscriptionCreateCustomer","customer_id"],"msg":"UUID version 4 expected","input":"` + uuidV1 + `","ctx":{"expected_version":4}},` +
				`{"type":"missing","loc":["body","SubscriptionCreateExternalCustomer","external_customer_id"],"msg":"Field required","input":{"product_id":"` + productID + `","customer_id":"` + uuidV1 + `"}}]}`},
		{"41-character key", `{"product_id":"` + productID + `","external_customer_id":"e","metadata":{"` + long + `":"v"}}`,
			`{"error":"RequestValidationError","detail":[` +
				`{"type":"string_too_long","loc":["body","SubscriptionCreateCustomer","metadata","` + long + `","[key]"],"msg":"String should have at most 40 characters","input":"` + long + `","ctx":{"max_length":40}},` +
				`{"type":"missing","loc":["body","SubscriptionCreateCustomer","customer_id"],"msg":"Field required","input":{"product_id":"` + productID + `","external_customer_id":"e","metadata":{"` + long + `":"v"}}},` +
				`{"type":"string_too_long","loc":["body","SubscriptionCreateExternalCustomer","metadata","` + long + `","[key]"],"msg":"String should have at most 40 characters","input":"` + long + `","ctx":{"max_length":40}}]}`},
		// One validator on every field (kit/schemas.py): the whole field is
		// the loc, its input the input.
		{"NUL in a key", `{"product_id":"` + productID + `","external_customer_id":"e","metadata":{"a\u0000":1}}`,
			`{"error":"RequestValidationError","detail":[` +
				`{"type":"value_error","loc":["body","SubscriptionCreateCustomer","metadata"],"msg":"Value error, This value contains invalid characters","input":{"a\u0000":1},"ctx":{"error":{}}},` +
				`{"type":"missing","loc":["body","SubscriptionCreateCustomer","customer_id"],"msg":"Field required","input":{"product_id":"` + productID + `","external_customer_id":"e","metadata":{"a\u0000":1}}},` +
				`{"type":"value_error","loc":["body","SubscriptionCreateExternalCustomer","metadata"],"msg":"Value error, This value contains invalid characters","input":{"a\u0000":1},"ctx":{"error":{}}}]}`},
		{"NUL in a value", `{"product_id":"` + productID + `","customer_id":"` + customerID + `","metadata":{"k":"a\u0000","n":2}}`,
			`{"error":"RequestValidationError","detail":[` +
				`{"type":"value_error","loc":["body","SubscriptionCreateCustomer","metadata"],"msg":"Value error, This value contains invalid characters","input":{"k":"a\u0000","n":2},"ctx":{"error":{}}},` +
				`{"type":"value_error","loc":["body","SubscriptionCreateExternalCustomer","metadata"],"msg":"Value error, This value contains invalid characters","input":{"k":"a\u0000","n":2},"ctx":{"error":{}}},` +
				`{"type":"missing","loc":["body","SubscriptionCreateExternalCustomer","external_customer_id"],"msg":"Field required","input":{"product_id":"` + productID + `","customer_id":"` + customerID + `","metadata":{"k":"a\u0000","n":2}}}]}`},
		{"NUL in external_customer_id", `{"product_id":"` + productID + `","external_customer_id":"e\u0000"}`,
			`{"error":"RequestValidationError","detail":[` +
				`{"type":"missing","loc":["body","SubscriptionCreateCustomer","customer_id"],"msg":"Field required","input":{"product_id":"` + productID + `","external_customer_id":"e\u0000"}},` +
				`{"type":"value_error","loc":["body","SubscriptionCreateExternalCustomer","external_customer_id"],"msg":"Value error, This value contains invalid characters","input":"e\u0000","ctx":{"error":{}}}]}`},
		{"empty body", ``,
			`{"error":"RequestValidationError","detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]}`},
	}
	for _, c := range cases {
		expectAnswer(t, post(t, url, rc.header, c.body), 422, c.want)
	}
	mustHold(t, s, subkit.Polar, 0)
}

func TestPolarBothCustomerKeysTakeTheCustomerShape(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+productID+`","customer_id":"`+customerID+`","external_customer_id":"x"}`)
	if got.status != 201 {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	if h := s.PolarSubscriptions()[0]; h.CustomerID != customerID || h.ExternalCustomerID != "" {
		t.Errorf("held %+v", h)
	}
}

// Polar parses UUIDs with Pydantic (the Rust uuid crate), which accepts the
// "urn:uuid:" prefix in lowercase only: "URN:UUID:…" is refused with 422
// (see the "uppercase urn prefix" case in testdata/polar_validation.json,
// computed by Pydantic 2.13). The SDK checks every UUID before any I/O, so
// it should refuse the form too instead of sending it.

func TestSDKRefusesUppercaseURNPrefixLikePolar(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID: "URN:UUID:" + productID, CustomerID: customerID})
	if !errors.Is(err, subkit.ErrInvalidParams) {
		var ae *subkit.APIError
		if errors.As(err, &ae) {
			t.Errorf("the SDK sent a product_id Polar refuses: %d %s", ae.StatusCode, ae.Body)
		} else {
			t.Errorf("error %v, want ErrInvalidParams", err)
		}
	}
	if n := len(s.Requests(subkit.Polar)); n != 0 {
		t.Errorf("%d requests reached the server", n)
	}
}

// The lowercase prefix is Polar's own form and must go through.
func TestSDKSendsLowercaseURNPrefix(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	got, err := c.Subscriptions.CreateForCustomer(context.Background(), &subkit.CustomerSubscriptionParams{
		ProductID: "urn:uuid:" + strings.ToUpper(productID), CustomerID: "{" + customerID + "}"})
	if err != nil {
		t.Fatal(err)
	}
	if held := s.PolarSubscriptions(); len(held) != 1 || held[0].ID != got.ID || held[0].ProductID != productID || held[0].CustomerID != customerID {
		t.Errorf("held %+v", held)
	}
}

// Polar's real 422 bodies locate problems inside the create union:
// ["body","SubscriptionCreateCustomer","metadata","k","int"] (Pydantic 2
// names the union member, and the member of the metadata value's own union).
// FieldError.Field is documented as a dotted wire path ("metadata.plan"),
// not "SubscriptionCreateCustomer.metadata.k.int". This test replays
// Pydantic's answer for a null metadata value (from
// testdata/polar_validation.json).
func TestSDKFieldPathsOfPolarUnionErrors(t *testing.T) {
	t.Parallel()
	body := polarGolden(t, "null value")
	s := newServer(t)
	s.InjectFault(subkit.Polar, 1, Respond(422, body))
	c := newClient(t, s)
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	var ae *subkit.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 422 || len(ae.Fields) == 0 {
		t.Fatalf("error %v", err)
	}
	found := false
	for _, f := range ae.Fields {
		if strings.Contains(f.Field, "SubscriptionCreate") || strings.Contains(f.Field, "function-after") ||
			strings.HasSuffix(f.Field, ".int") || strings.HasSuffix(f.Field, ".float") || strings.HasSuffix(f.Field, ".bool") {
			t.Errorf("FieldError.Field %q is not a wire path", f.Field)
		}
		found = found || f.Field == "metadata.k"
	}
	if !found {
		t.Errorf("no FieldError for metadata.k in %+v", ae.Fields)
	}
}

// The SDK validates a Polar create before sending it (internal/validate);
// the fake validates it as Polar's server does (polarschema.go, checked
// against Pydantic's own answers). Validation must agree both ways: the SDK
// refuses what Polar refuses (or the create fails on the wire) and never
// refuses what Polar accepts. These targets feed the same generated
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
			return "invalid UTF-8 key: encoding/json would send U+FFFD instead (the SDK sends no invalid UTF-8 in any string)"
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
