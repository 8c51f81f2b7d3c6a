package subkittest

import (
	"math/big"
	"regexp"
	"strings"
	"unicode"
)

// queryPair is one key=value item of a query string, both decoded.
type queryPair struct{ key, value string }

// queryPairs reads a raw query string the way Python's
// urllib.parse.parse_qsl(qs, keep_blank_values=True) does, which Starlette
// uses: items are separated by "&" only, an item without "=" has an empty
// value, "+" is a space, a %XX escape is decoded and an invalid one is kept
// as written, and bytes that are not UTF-8 become U+FFFD. Key order and
// repetitions are kept. It serves all three fakes: every look-up parameter
// arrives here, percent-encoded keys such as metadata%5Bk%5D included.
func queryPairs(raw string) []queryPair {
	var out []queryPair
	for _, item := range strings.Split(raw, "&") {
		if item == "" {
			continue
		}
		k, v, _ := strings.Cut(item, "=")
		out = append(out, queryPair{key: unquotePlus(k), value: unquotePlus(v)})
	}
	return out
}

// unquotePlus is Python's urllib.parse.unquote_plus with errors="replace".
func unquotePlus(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			hi, _ := unhex(s[i+1])
			lo, _ := unhex(s[i+2])
			b = append(b, hi<<4|lo)
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// query is a decoded query string.
type query []queryPair

func parseQuery(raw string) query { return query(queryPairs(raw)) }

// last returns the last value of key, as Starlette's QueryParams.get does.
func (q query) last(key string) (string, bool) {
	v, ok := "", false
	for _, p := range q {
		if p.key == key {
			v, ok = p.value, true
		}
	}
	return v, ok
}

// all returns every value of key in order, as QueryParams.getlist does.
func (q query) all(key string) []string {
	var out []string
	for _, p := range q {
		if p.key == key {
			out = append(out, p.value)
		}
	}
	return out
}

// pyIntQuery matches what Pydantic 2 accepts as an integer in a string
// (lax mode): after trimming whitespace, an optional sign, digits with
// single underscores between them, and optionally a point and one or more zeros.
var pyIntQuery = regexp.MustCompile(`^[+-]?[0-9]+(_[0-9]+)*(\.0+)?$`)

// parsePyInt reads a query value as a Pydantic int field does; ok is false
// when Pydantic answers int_parsing.
func parsePyInt(s string) (*big.Int, bool) {
	t := strings.TrimFunc(s, unicode.IsSpace)
	if !pyIntQuery.MatchString(t) || len(t) > 4300 {
		return nil, false
	}
	if i := strings.IndexByte(t, '.'); i >= 0 {
		t = t[:i]
	}
	n, ok := new(big.Int).SetString(strings.ReplaceAll(t, "_", ""), 10)
	return n, ok
}
