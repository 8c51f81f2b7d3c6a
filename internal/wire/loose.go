// Loose decoding of the few JSON values whose shape the SDK does not fix in
// advance: metadata-like objects of scalars (integers kept exact) and Polar's
// [value, format] tax ID pair.

package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// DecodeObject decodes a JSON object of mostly scalar values in one cheap pass. After
// one validity scan it walks the object by hand and classifies each value by its first
// byte: going through map[string]json.RawMessage would cost a reflective decode, a copy of
// every value and a second validity scan, and this runs for every object of the graph.
// It never fails on a value's type.
func DecodeObject(data []byte, what string) (map[string]any, error) {
	i := skipSpace(data, 0)
	if !json.Valid(data) || i == len(data) || (data[i] != '{' && data[i] != 'n') {
		// Let encoding/json word the syntax or type error, as it would for a plain map.
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%s: not a JSON object", what) // unreachable for valid input
	}
	if data[i] == 'n' { // null
		return nil, nil
	}
	out := make(map[string]any)
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		end := valueEnd(data, i)
		key, err := unquoteJSON(data[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = valueEnd(data, i)
		val, err := decodeLooseValue(data[i:end])
		if err != nil {
			return nil, fmt.Errorf("%s[%q]: %w", what, key, err)
		}
		out[key] = val // a repeated key keeps its last value, as in encoding/json
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// The scanners below may assume their input is valid JSON (checked by json.Valid first),
// so they need not guard against running off its end.

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		for j := i + 1; ; j++ {
			switch data[j] {
			case '\\':
				j++ // the escaped byte cannot end the string
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				j = valueEnd(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // number, true, false, null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

func decodeLooseValue(raw []byte) (any, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch c := raw[0]; {
	case c == '"':
		return unquoteJSON(raw)
	case c == 't':
		return true, nil
	case c == 'f':
		return false, nil
	case c == 'n':
		return nil, nil
	case c == '-' || ('0' <= c && c <= '9'):
		return parseJSONNumber(raw)
	default: // object or array: rare, so the general decoder is fine
		var v any
		err := json.Unmarshal(raw, &v)
		return v, err
	}
}

// parseJSONNumber keeps integers that fit in an int64 exact and makes everything else a float64.
func parseJSONNumber(raw []byte) (any, error) {
	if !bytes.ContainsAny(raw, ".eE") {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, nil
		}
		// Out of int64 range: fall through to float64, as encoding/json would.
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// unquoteJSON decodes a JSON string literal. Most strings need no unescaping, so it returns
// them without a second decode; escapes and invalid UTF-8 (which encoding/json replaces with
// U+FFFD) go through encoding/json so the result is exactly what it would give.
func unquoteJSON(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		body := raw[1 : len(raw)-1]
		if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
			return string(body), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// DecodePair decodes a two-element array of strings leniently, as Polar's tax
// ID [value, format]: a null or non-string element, a missing element or extra
// elements never fail; only a value that is not an array (or null) does.
func DecodePair(data []byte) (first, second string, err error) {
	i := skipSpace(data, 0)
	if !json.Valid(data) || i == len(data) || (data[i] != '[' && data[i] != 'n') {
		var parts []any // for encoding/json's wording of the syntax or type error
		if err := json.Unmarshal(data, &parts); err != nil {
			return "", "", err
		}
		return "", "", errors.New("not a JSON array") // unreachable for valid input
	}
	if data[i] == 'n' {
		return "", "", nil
	}
	i = skipSpace(data, i+1)
	for n := 0; data[i] != ']'; n++ {
		end := valueEnd(data, i)
		if n < 2 && data[i] == '"' {
			s, err := unquoteJSON(data[i:end])
			if err != nil {
				return "", "", err
			}
			if n == 0 {
				first = s
			} else {
				second = s
			}
		}
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return first, second, nil
}
