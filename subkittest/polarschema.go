package subkittest

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// This file checks a Polar create body the way Polar's server does: FastAPI
// validating the union SubscriptionCreateCustomer | SubscriptionCreateExternalCustomer
// with Pydantic 2 in its default ("smart") union mode. When neither member
// accepts the body, the errors of both are reported, each location naming
// the member; a metadata value that no member of its own union (string, int,
// float, bool) accepts gets one error per member. testdata/polar_validation.json
// holds Pydantic's own answers for the cases the tests compare.

// pydError is one item of a 422's detail list.
type pydError struct {
	typ   string
	loc   []pyjson.Value
	msg   string
	input pyjson.Value
	ctx   *pyjson.Object // nil: no ctx key
}

func (e pydError) value() *pyjson.Object {
	o := pyjson.NewObject().Set("type", e.typ).Set("loc", e.loc).Set("msg", e.msg).Set("input", e.input)
	if e.ctx != nil {
		o.Set("ctx", e.ctx)
	}
	return o
}

func locOf(parts ...pyjson.Value) []pyjson.Value { return parts }

func with(loc []pyjson.Value, more ...pyjson.Value) []pyjson.Value {
	out := make([]pyjson.Value, 0, len(loc)+len(more))
	return append(append(out, loc...), more...)
}

// polarCreate is a create body that passed the schema.
type polarCreate struct {
	productID  string // canonical
	customerID string // canonical; "" in the external shape
	externalID string
	external   bool
	metadata   *pyjson.Object
}

// The union's members, in the order Pydantic tries and reports them.
var polarMembers = [...]struct {
	name    string
	idField string
}{
	{"SubscriptionCreateCustomer", "customer_id"},
	{"SubscriptionCreateExternalCustomer", "external_customer_id"},
}

// validatePolarCreate checks a decoded body; present is false when the body
// was empty or JSON null, which FastAPI reports as a missing body.
func validatePolarCreate(body pyjson.Value, present bool) (*polarCreate, []pydError) {
	if !present || body == nil {
		return nil, []pydError{{typ: "missing", loc: locOf("body"), msg: "Field required", input: nil}}
	}
	var all []pydError
	for _, m := range polarMembers {
		pc, errs := validatePolarMember(body, m.name, m.idField)
		if len(errs) == 0 {
			return pc, nil
		}
		all = append(all, errs...)
	}
	return nil, all
}

func validatePolarMember(body pyjson.Value, member, idField string) (*polarCreate, []pydError) {
	loc := locOf("body", member)
	obj, ok := body.(*pyjson.Object)
	if !ok {
		return nil, []pydError{{typ: "model_attributes_type", loc: loc,
			msg: "Input should be a valid dictionary or object to extract fields from", input: body}}
	}
	var errs []pydError
	pc := &polarCreate{external: idField == "external_customer_id", metadata: pyjson.NewObject()}
	// Fields in declaration order: metadata (from the mixin), product_id, then the member's own.
	if v, ok := obj.Get("metadata"); ok {
		md, merrs := validateMetadata(v, with(loc, "metadata"))
		if len(merrs) == 0 && metadataHasNUL(md) {
			merrs = []pydError{nulError(with(loc, "metadata"), v)}
		}
		errs = append(errs, merrs...)
		pc.metadata = md
	}
	if v, ok := obj.Get("product_id"); !ok {
		errs = append(errs, missing(with(loc, "product_id"), obj))
	} else if id, e := validateUUID4(v, with(loc, "product_id")); e != nil {
		errs = append(errs, *e)
	} else {
		pc.productID = id
	}
	v, ok := obj.Get(idField)
	switch {
	case !ok:
		errs = append(errs, missing(with(loc, idField), obj))
	case pc.external:
		s, isStr := v.(string)
		switch {
		case !isStr:
			errs = append(errs, pydError{typ: "string_type", loc: with(loc, idField), msg: "Input should be a valid string", input: v})
		case strings.Contains(s, "\x00"):
			errs = append(errs, nulError(with(loc, idField), s))
		default:
			pc.externalID = s
		}
	default:
		if id, e := validateUUID4(v, with(loc, idField)); e != nil {
			errs = append(errs, *e)
		} else {
			pc.customerID = id
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return pc, nil
}

func missing(loc []pyjson.Value, input pyjson.Value) pydError {
	return pydError{typ: "missing", loc: loc, msg: "Field required", input: input}
}

// nulError is Schema._reject_nul_characters (server/polar/kit/schemas.py):
// one validator, run on every field of every schema once the field has
// validated, refusing a NUL in any string the value holds (the keys and
// values of a dict included) with the whole field as loc and its input.
func nulError(loc []pyjson.Value, input pyjson.Value) pydError {
	return pydError{typ: "value_error", loc: loc, msg: "Value error, This value contains invalid characters",
		input: input, ctx: pyjson.NewObject().Set("error", pyjson.NewObject())}
}

// metadataHasNUL reports whether a validated metadata dict holds a NUL in a
// key or a string value.
func metadataHasNUL(md *pyjson.Object) bool {
	for _, k := range md.Keys {
		if strings.Contains(k, "\x00") {
			return true
		}
		if v, ok := md.Values[k].(string); ok && strings.Contains(v, "\x00") {
			return true
		}
	}
	return false
}

// validateUUID4 checks a pydantic.UUID4 field and returns the canonical form.
func validateUUID4(v pyjson.Value, loc []pyjson.Value) (string, *pydError) {
	s, ok := v.(string)
	if !ok {
		return "", &pydError{typ: "uuid_type", loc: loc, msg: "UUID input should be a string, bytes or UUID object", input: v}
	}
	b, problem := parseUUID(s)
	if problem != "" {
		return "", &pydError{typ: "uuid_parsing", loc: loc, msg: "Input should be a valid UUID, " + problem, input: v,
			ctx: pyjson.NewObject().Set("error", problem)}
	}
	if b[6]>>4 != 4 || b[8]&0xc0 != 0x80 {
		return "", &pydError{typ: "uuid_version", loc: loc, msg: "UUID version 4 expected", input: v,
			ctx: pyjson.NewObject().Set("expected_version", 4)}
	}
	return formatUUID(b), nil
}

// parseUUID reads a UUID as the Rust uuid crate (behind Pydantic) does: 32
// hex digits, 36 with hyphens, 38 braced, or 45 with a lowercase "urn:uuid:"
// prefix; hex digits in either case. On failure it returns the crate's
// message.
func parseUUID(s string) ([16]byte, string) {
	var hexDigits string
	switch {
	case len(s) == 32:
		hexDigits = s
	case len(s) == 36:
		hexDigits = hyphenated(s)
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		hexDigits = hyphenated(s[1:37])
	case len(s) == 45 && strings.HasPrefix(s, "urn:uuid:"):
		hexDigits = hyphenated(s[9:])
	}
	var b [16]byte
	if len(hexDigits) == 32 {
		ok := true
		for i := 0; i < 16 && ok; i++ {
			hi, ok1 := unhex(hexDigits[2*i])
			lo, ok2 := unhex(hexDigits[2*i+1])
			ok = ok1 && ok2
			b[i] = hi<<4 | lo
		}
		if ok {
			return b, ""
		}
	}
	return b, uuidProblem(s)
}

// hyphenated returns the 32 digits of a 36-character hyphenated UUID, or "".
func hyphenated(s string) string {
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return ""
	}
	return s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// uuidProblem explains why s is not a UUID, in the uuid crate's words.
func uuidProblem(s string) string {
	body, offset, simple := s, 0, true
	switch {
	case len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}':
		body, offset, simple = s[1:len(s)-1], 1, false
	case strings.HasPrefix(s, "urn:uuid:"):
		body, offset, simple = s[9:], 9, false
	}
	hyphens := 0
	var bounds [4]int
	for i, r := range body {
		if r == '-' {
			if hyphens < 4 {
				bounds[hyphens] = i
			}
			hyphens++
			continue
		}
		if r >= utf8.RuneSelf || !isHexDigit(byte(r)) {
			return fmt.Sprintf("invalid character: found `%c` at %d", r, i+offset+1)
		}
	}
	if hyphens == 0 && simple {
		return fmt.Sprintf("invalid length: expected length 32 for simple format, found %d", len(s))
	}
	if hyphens != 4 {
		return fmt.Sprintf("invalid group count: expected 5, found %d", hyphens+1)
	}
	starts := [5]int{0, 9, 14, 19, 24}
	lens := [5]int{8, 4, 4, 4, 12}
	for i := range 4 {
		if bounds[i] != starts[i+1]-1 {
			return fmt.Sprintf("invalid group length in group %d: expected %d, found %d", i, lens[i], bounds[i]-starts[i])
		}
	}
	return fmt.Sprintf("invalid group length in group 4: expected 12, found %d", len(s)-starts[4])
}

func isHexDigit(c byte) bool { _, ok := unhex(c); return ok }

// Polar's metadata rules (polar/kit/metadata.py).
const (
	maxMetadataPairs = 50
	maxMetadataKey   = 40
	maxMetadataValue = 500
)

// The label Pydantic gives the string member of the metadata value union.
const labelMetadataString = "constrained-str"

// validateMetadata checks dict[MetadataKey, str | int | float | bool] with
// at most 50 items, and returns it as stored (a long numeric string that
// only the int or float member accepts becomes that number, as in Pydantic).
func validateMetadata(v pyjson.Value, loc []pyjson.Value) (*pyjson.Object, []pydError) {
	obj, ok := v.(*pyjson.Object)
	if !ok {
		return nil, []pydError{{typ: "dict_type", loc: loc, msg: "Input should be a valid dictionary", input: v}}
	}
	var errs []pydError
	out := pyjson.NewObject()
	for _, k := range obj.Keys {
		n := utf8.RuneCountInString(k)
		keyLoc := with(loc, k, "[key]")
		switch {
		case n < 1:
			errs = append(errs, pydError{typ: "string_too_short", loc: keyLoc, msg: "String should have at least 1 character",
				input: k, ctx: pyjson.NewObject().Set("min_length", 1)})
		case n > maxMetadataKey:
			errs = append(errs, pydError{typ: "string_too_long", loc: keyLoc, msg: fmt.Sprintf("String should have at most %d characters", maxMetadataKey),
				input: k, ctx: pyjson.NewObject().Set("max_length", maxMetadataKey)})
		}
		val, verrs := metadataValue(obj.Values[k], with(loc, k))
		errs = append(errs, verrs...)
		out.Set(k, val)
	}
	if len(errs) == 0 && out.Len() > maxMetadataPairs {
		errs = append(errs, pydError{typ: "too_long", loc: loc,
			msg:   fmt.Sprintf("Dictionary should have at most %d items after validation, not %d", maxMetadataPairs, out.Len()),
			input: obj, ctx: pyjson.NewObject().Set("field_type", "Dictionary").Set("max_length", maxMetadataPairs).Set("actual_length", out.Len())})
	}
	return out, errs
}

var (
	pyIntText   = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*$`)
	pyFloatText = regexp.MustCompile(`^[+-]?([0-9]+(_[0-9]+)*(\.([0-9]+(_[0-9]+)*)?)?|\.[0-9]+(_[0-9]+)*)([eE][+-]?[0-9]+)?$`)
)

// metadataValue checks one value against str(1–500) | int | float | bool.
func metadataValue(v pyjson.Value, loc []pyjson.Value) (pyjson.Value, []pydError) {
	typeErrors := func() []pydError {
		return []pydError{
			{typ: "string_type", loc: with(loc, labelMetadataString), msg: "Input should be a valid string", input: v},
			{typ: "int_type", loc: with(loc, "int"), msg: "Input should be a valid integer", input: v},
			{typ: "float_type", loc: with(loc, "float"), msg: "Input should be a valid number", input: v},
			{typ: "bool_type", loc: with(loc, "bool"), msg: "Input should be a valid boolean", input: v},
		}
	}
	switch x := v.(type) {
	case bool, pyjson.Number:
		return v, nil
	case string:
		n := utf8.RuneCountInString(x)
		strLoc := with(loc, labelMetadataString)
		var strErr pydError
		switch {
		case n < 1:
			strErr = pydError{typ: "string_too_short", loc: strLoc, msg: "String should have at least 1 character",
				input: x, ctx: pyjson.NewObject().Set("min_length", 1)}
		case n > maxMetadataValue:
			strErr = pydError{typ: "string_too_long", loc: strLoc, msg: fmt.Sprintf("String should have at most %d characters", maxMetadataValue),
				input: x, ctx: pyjson.NewObject().Set("max_length", maxMetadataValue)}
		default:
			return x, nil
		}
		// Lax mode: the number members parse the text.
		t := strings.TrimSpace(x)
		if pyIntText.MatchString(t) && len(t) <= 4300 {
			i, _ := new(big.Int).SetString(strings.ReplaceAll(t, "_", ""), 10)
			return pyjson.Number(i.String()), nil
		}
		if pyFloatText.MatchString(t) {
			if f := pyjson.Number(strings.ReplaceAll(t, "_", "")).Float(); !math.IsInf(f, 0) {
				return pyjson.Number(pyjson.FloatRepr(f)), nil
			}
		}
		return nil, []pydError{
			strErr,
			{typ: "int_parsing", loc: with(loc, "int"), msg: "Input should be a valid integer, unable to parse string as an integer", input: x},
			{typ: "float_parsing", loc: with(loc, "float"), msg: "Input should be a valid number, unable to parse string as a number", input: x},
			{typ: "bool_parsing", loc: with(loc, "bool"), msg: "Input should be a valid boolean, unable to interpret input", input: x},
		}
	}
	return nil, typeErrors()
}
