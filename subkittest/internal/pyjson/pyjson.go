// Package pyjson reads and writes JSON the way Python's json module does, for
// the fake of a Python (FastAPI) server: objects keep their key order, a
// repeated key keeps its first place and its last value, numbers keep their
// text, and a syntax error carries the message and the position (in code
// points) that json.JSONDecodeError would.
package pyjson

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// A Value is one of: nil (null), bool, Number, string, *Object, []Value.
type Value = any

// Number is a JSON number as written.
type Number string

// IsInt reports whether the number is written as an integer (Python reads it
// as an int, not a float).
func (n Number) IsInt() bool { return !strings.ContainsAny(string(n), ".eE") }

// Float is the number as a float64 (±Inf when it overflows, as in Python).
func (n Number) Float() float64 {
	f, _ := strconv.ParseFloat(string(n), 64)
	return f
}

// Object is a JSON object that keeps its keys in order.
type Object struct {
	Keys   []string
	Values map[string]Value
}

// NewObject makes an empty object.
func NewObject() *Object { return &Object{Values: map[string]Value{}} }

// Set adds or replaces a key; a replaced key keeps its place, as in a Python dict.
func (o *Object) Set(k string, v Value) *Object {
	if _, ok := o.Values[k]; !ok {
		o.Keys = append(o.Keys, k)
	}
	o.Values[k] = v
	return o
}

// Get returns the value of k.
func (o *Object) Get(k string) (Value, bool) {
	v, ok := o.Values[k]
	return v, ok
}

// Len is the number of keys.
func (o *Object) Len() int { return len(o.Keys) }

// MarshalJSON writes the object as Python's json.dumps would.
func (o *Object) MarshalJSON() ([]byte, error) { return Marshal(o) }

// SyntaxError is Python's json.JSONDecodeError: Msg and the position Pos, in
// code points from the start of the document.
type SyntaxError struct {
	Msg string
	Pos int
}

// Error reads like Python's message: the text, then the position.
func (e *SyntaxError) Error() string { return fmt.Sprintf("%s (char %d)", e.Msg, e.Pos) }

// ErrNotDecodable is a failure Python raises as something other than
// JSONDecodeError: a body that is not UTF-8, nesting past the recursion limit,
// or an integer literal longer than 4300 digits.
var ErrNotDecodable = errors.New("pyjson: the document cannot be decoded")

const (
	maxDepth     = 990  // Python's default recursion limit is 1000 frames
	maxIntDigits = 4300 // sys.int_info.default_max_str_digits
)

// Parse decodes a document as json.loads(bytes) would. A leading UTF-8 BOM is
// skipped, as Python's encoding detection does.
func Parse(doc []byte) (Value, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(doc) {
		return nil, ErrNotDecodable
	}
	p := &parser{src: []rune(string(doc))}
	p.skipWS()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipWS()
	if p.pos != len(p.src) {
		return nil, &SyntaxError{Msg: "Extra data", Pos: p.pos}
	}
	return v, nil
}

type parser struct {
	src []rune
	pos int
}

// errNoValue is Python's StopIteration from scan_once: the caller turns it
// into "Expecting value" at the position where a value should start.
var errNoValue = errors.New("no value")

func isWS(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

func (p *parser) skipWS() {
	for p.pos < len(p.src) && isWS(p.src[p.pos]) {
		p.pos++
	}
}

func (p *parser) peek() rune {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return -1
}

func (p *parser) hasPrefix(s string) bool {
	rs := []rune(s)
	if p.pos+len(rs) > len(p.src) {
		return false
	}
	for i, r := range rs {
		if p.src[p.pos+i] != r {
			return false
		}
	}
	return true
}

// value reads one value at p.pos (no leading white space skipped).
func (p *parser) value(depth int) (Value, error) {
	v, err := p.scanOnce(depth)
	if errors.Is(err, errNoValue) {
		return nil, &SyntaxError{Msg: "Expecting value", Pos: p.pos}
	}
	return v, err
}

func (p *parser) scanOnce(depth int) (Value, error) {
	if depth > maxDepth {
		return nil, ErrNotDecodable
	}
	switch r := p.peek(); {
	case r == '"':
		p.pos++
		return p.str()
	case r == '{':
		p.pos++
		return p.object(depth + 1)
	case r == '[':
		p.pos++
		return p.array(depth + 1)
	case r == 'n' && p.hasPrefix("null"):
		p.pos += 4
		return nil, nil
	case r == 't' && p.hasPrefix("true"):
		p.pos += 4
		return true, nil
	case r == 'f' && p.hasPrefix("false"):
		p.pos += 5
		return false, nil
	case r == '-' || (r >= '0' && r <= '9'):
		return p.number()
	}
	// Python also reads NaN, Infinity and -Infinity; the fake refuses them
	// as JSON does, since no response could carry them back.
	return nil, errNoValue
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// number follows Python's NUMBER_RE: -?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?
func (p *parser) number() (Value, error) {
	start := p.pos
	i := p.pos
	if i < len(p.src) && p.src[i] == '-' {
		i++
	}
	switch {
	case i < len(p.src) && p.src[i] == '0':
		i++
	case i < len(p.src) && isDigit(p.src[i]):
		for i < len(p.src) && isDigit(p.src[i]) {
			i++
		}
	default:
		return nil, errNoValue
	}
	intEnd := i
	isFloat := false
	if i+1 < len(p.src) && p.src[i] == '.' && isDigit(p.src[i+1]) {
		i += 2
		for i < len(p.src) && isDigit(p.src[i]) {
			i++
		}
		isFloat = true
	}
	if i < len(p.src) && (p.src[i] == 'e' || p.src[i] == 'E') {
		j := i + 1
		if j < len(p.src) && (p.src[j] == '+' || p.src[j] == '-') {
			j++
		}
		if j < len(p.src) && isDigit(p.src[j]) {
			for j < len(p.src) && isDigit(p.src[j]) {
				j++
			}
			i = j
			isFloat = true
		}
	}
	if !isFloat {
		digits := intEnd - start
		if p.src[start] == '-' {
			digits--
		}
		if digits > maxIntDigits {
			return nil, ErrNotDecodable
		}
	}
	p.pos = i
	return Number(string(p.src[start:i])), nil
}

// str reads a string whose opening quote is just before p.pos, with the
// messages of CPython's C scanner.
func (p *parser) str() (Value, error) {
	begin := p.pos - 1
	var b strings.Builder
	for {
		if p.pos >= len(p.src) {
			return nil, &SyntaxError{Msg: "Unterminated string starting at", Pos: begin}
		}
		r := p.src[p.pos]
		switch {
		case r == '"':
			p.pos++
			return b.String(), nil
		case r == '\\':
			p.pos++
			if p.pos >= len(p.src) {
				return nil, &SyntaxError{Msg: "Unterminated string starting at", Pos: begin}
			}
			if err := p.escape(&b); err != nil {
				return nil, err
			}
		case r < 0x20:
			return nil, &SyntaxError{Msg: "Invalid control character at", Pos: p.pos}
		default:
			b.WriteRune(r)
			p.pos++
		}
	}
}

func (p *parser) escape(b *strings.Builder) error {
	c := p.src[p.pos]
	simple := map[rune]rune{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}
	if r, ok := simple[c]; ok {
		b.WriteRune(r)
		p.pos++
		return nil
	}
	if c != 'u' {
		return &SyntaxError{Msg: "Invalid \\escape", Pos: p.pos - 1}
	}
	u, ok := p.hex4(p.pos + 1)
	if !ok {
		return &SyntaxError{Msg: "Invalid \\uXXXX escape", Pos: p.pos}
	}
	p.pos += 5
	if utf16.IsSurrogate(rune(u)) && u < 0xdc00 && p.pos+1 < len(p.src) && p.src[p.pos] == '\\' && p.src[p.pos+1] == 'u' {
		if lo, ok := p.hex4(p.pos + 2); ok && lo >= 0xdc00 && lo <= 0xdfff {
			b.WriteRune(utf16.DecodeRune(rune(u), rune(lo)))
			p.pos += 6
			return nil
		}
	}
	// A lone surrogate: Python keeps it; Go cannot, so it becomes U+FFFD.
	b.WriteRune(rune(u))
	return nil
}

func (p *parser) hex4(at int) (int, bool) {
	if at+4 > len(p.src) {
		return 0, false
	}
	n := 0
	for _, r := range p.src[at : at+4] {
		d := strings.IndexRune("0123456789abcdef", unicode.ToLower(r))
		if d < 0 {
			return 0, false
		}
		n = n*16 + d
	}
	return n, true
}

func (p *parser) object(depth int) (Value, error) {
	obj := NewObject()
	p.skipWS()
	switch p.peek() {
	case '}':
		p.pos++
		return obj, nil
	case '"':
	default:
		return nil, &SyntaxError{Msg: "Expecting property name enclosed in double quotes", Pos: p.pos}
	}
	for {
		p.pos++ // the opening quote
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipWS()
		if p.peek() != ':' {
			return nil, &SyntaxError{Msg: "Expecting ':' delimiter", Pos: p.pos}
		}
		p.pos++
		p.skipWS()
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		obj.Set(k.(string), v)
		p.skipWS()
		switch p.peek() {
		case '}':
			p.pos++
			return obj, nil
		case ',':
		default:
			return nil, &SyntaxError{Msg: "Expecting ',' delimiter", Pos: p.pos}
		}
		comma := p.pos
		p.pos++
		p.skipWS()
		switch p.peek() {
		case '"':
		case '}':
			return nil, &SyntaxError{Msg: "Illegal trailing comma before end of object", Pos: comma}
		default:
			return nil, &SyntaxError{Msg: "Expecting property name enclosed in double quotes", Pos: p.pos}
		}
	}
}

func (p *parser) array(depth int) (Value, error) {
	arr := []Value{}
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		return arr, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.skipWS()
		switch p.peek() {
		case ']':
			p.pos++
			return arr, nil
		case ',':
		default:
			return nil, &SyntaxError{Msg: "Expecting ',' delimiter", Pos: p.pos}
		}
		comma := p.pos
		p.pos++
		p.skipWS()
		if p.peek() == ']' {
			return nil, &SyntaxError{Msg: "Illegal trailing comma before end of array", Pos: comma}
		}
	}
}

// Marshal writes v as json.dumps(v, ensure_ascii=False, separators=(",", ":"))
// would: compact, non-ASCII text as is, floats in Python's repr. Besides the
// Value kinds it writes int, int64, float64 and []string.
func Marshal(v Value) ([]byte, error) {
	var b bytes.Buffer
	if err := write(&b, v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func write(b *bytes.Buffer, v Value) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case Number:
		s, err := x.python()
		if err != nil {
			return err
		}
		b.WriteString(s)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("pyjson: out of range float value %v", x)
		}
		b.WriteString(FloatRepr(x))
	case string:
		writeString(b, x)
	case []string:
		b.WriteByte('[')
		for i, s := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, s)
		}
		b.WriteByte(']')
	case []Value:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := write(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Object:
		b.WriteByte('{')
		for i, k := range x.Keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			if err := write(b, x.Values[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("pyjson: cannot write %T", v)
	}
	return nil
}

// python is the number as Python writes it back: an int normalised, a float
// in repr.
func (n Number) python() (string, error) {
	if n.IsInt() {
		i, ok := new(big.Int).SetString(string(n), 10)
		if !ok {
			return "", fmt.Errorf("pyjson: bad integer %q", string(n))
		}
		return i.String(), nil
	}
	f := n.Float()
	if math.IsInf(f, 0) {
		return "", fmt.Errorf("pyjson: out of range float value %s", string(n))
	}
	return FloatRepr(f), nil
}

// FloatRepr is Python's repr of a float: the shortest digits that read back
// the same, positional between 1e-4 and 1e16 (with ".0" when integral),
// scientific outside.
func FloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp >= -4 && exp < 16 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	return sci
}

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			if r < 0x20 {
				fmt.Fprintf(b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}
