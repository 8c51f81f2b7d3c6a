package validate

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"unicode/utf8"
)

// MetadataRules are the limits an API puts on a metadata object. They live
// here, apart from any one API, so that the next API with metadata reuses the
// same checks with its own numbers.
type MetadataRules struct {
	MaxPairs      int
	MaxKeyChars   int
	MaxValueChars int // for string values; they must also be non-empty
	// Reserved keys may not be used by the caller.
	Reserved []string
}

// PolarMetadata is Polar's set: at most 50 pairs, keys of 1–40 characters,
// string values of 1–500 characters.
func PolarMetadata() MetadataRules {
	return MetadataRules{MaxPairs: 50, MaxKeyChars: 40, MaxValueChars: 500}
}

// Metadata checks md against r. Values may be strings, bools, any integer
// kind, or finite floats; nil and anything else is a problem. Problems are
// reported by key in sorted order, so the error reads the same every time.
func (p *Problems) Metadata(field string, md map[string]any, r MetadataRules) bool {
	before := len(*p)
	if len(md) > r.MaxPairs {
		p.Add(field, CodeTooLong, "must have at most %d pairs, got %d", r.MaxPairs, len(md))
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := field + "." + k
		if k == "" {
			path = field + `.""`
		}
		p.metadataKey(field, path, k, r)
		p.metadataValue(path, md[k], r)
	}
	return len(*p) == before
}

func (p *Problems) metadataKey(field, path, k string, r MetadataRules) {
	if !p.clean(path, k) {
		return
	}
	n := utf8.RuneCountInString(k)
	switch {
	case n == 0:
		p.Add(path, CodeTooShort, "metadata keys must not be empty")
	case n > r.MaxKeyChars:
		p.Add(path, CodeTooLong, "metadata keys must be at most %d characters, got %d", r.MaxKeyChars, n)
	}
	for _, res := range r.Reserved {
		if k == res {
			p.Add(path, CodeReserved, "the key %q is reserved by subkit", k)
		}
	}
}

func (p *Problems) metadataValue(path string, v any, r MetadataRules) {
	switch x := v.(type) {
	case string:
		if x == "" {
			p.Add(path, CodeTooShort, "string values must not be empty")
			return
		}
		p.Text(path, x, 1, r.MaxValueChars)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
	case float64:
		p.finite(path, x)
	case float32:
		p.finite(path, float64(x))
	case nil:
		p.Add(path, CodeType, "values must not be null")
	case json.Number:
		// encoding/json sends it as the number it holds, "" as 0.
		switch _, err := x.Float64(); {
		case x == "":
		case !json.Valid([]byte(x)) || (x[0] != '-' && (x[0] < '0' || x[0] > '9')):
			p.Add(path, CodeInvalid, "must be a valid JSON number, got %q", string(x))
		case err != nil:
			p.Add(path, CodeInvalid, "must be a finite number, got %s", string(x))
		}
	default:
		p.namedKind(path, v, r)
	}
}

// namedKind checks a value of a named type (type Plan string, time.Duration,
// …) by its kind, which is what encoding/json sends: Polar accepts it as it
// accepts the built-in type. A type with its own JSON or text encoding
// (time.Time, …) sends whatever that encoding writes, so it is refused, as
// is every other kind.
func (p *Problems) namedKind(path string, v any, r MetadataRules) {
	_, marshals := v.(json.Marshaler)
	_, texts := v.(encoding.TextMarshaler)
	rv := reflect.ValueOf(v)
	switch k := rv.Kind(); {
	case marshals || texts:
	case k == reflect.String:
		p.metadataValue(path, rv.String(), r)
		return
	case k == reflect.Bool, reflect.Int <= k && k <= reflect.Uintptr:
		return
	case k == reflect.Float32 || k == reflect.Float64:
		p.finite(path, rv.Float())
		return
	}
	p.Add(path, CodeType, "values must be a string, an integer, a float or a bool, got %T", v)
}

func (p *Problems) finite(path string, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		p.Add(path, CodeInvalid, "must be a finite number (JSON cannot carry NaN or infinity)")
	}
}
