// Encoding of request bodies of fixed shape without reflection.
//
// A body of strings, integers and booleans is written here byte for byte as
// encoding/json.Marshal writes it: encoding/json's reflective walk was the
// largest part of a small create's client work left (BENCHMARKS.md). Each
// body keeps its tagged struct as the definition of its wire form, and its
// tests compare this encoding with json.Marshal of that struct.

package wire

import (
	"strconv"
	"unicode/utf8"
)

// Object writes one JSON object, nested objects included. Start it with
// NewObject, add fields in wire order, and take the encoding with Bytes.
type Object struct {
	b    []byte
	more bool // the object being written already has a field
}

// NewObject starts an object in a buffer of capacity size (bytes): an
// estimate, the buffer grows as needed.
func NewObject(size int) Object {
	o := Object{b: make([]byte, 0, size)}
	o.b = append(o.b, '{')
	return o
}

// Bytes closes the object and returns its encoding.
func (o *Object) Bytes() []byte { return append(o.b, '}') }

// key writes a field's name. Names are the SDK's own constants, none of
// which needs escaping (the tests compare every body with json.Marshal), so
// they are written as they are.
func (o *Object) key(k string) {
	if o.more {
		o.b = append(o.b, ',')
	}
	o.more = true
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

// String writes a string field.
func (o *Object) String(k, v string) {
	o.key(k)
	o.b = AppendString(o.b, v)
}

// StringOmitEmpty writes a string field unless v is "" (omitempty).
func (o *Object) StringOmitEmpty(k, v string) {
	if v != "" {
		o.String(k, v)
	}
}

// Int writes an integer field.
func (o *Object) Int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// Bool writes a boolean field.
func (o *Object) Bool(k string, v bool) {
	o.key(k)
	o.b = strconv.AppendBool(o.b, v)
}

// Strings writes an array of strings; a nil slice is null, as
// encoding/json writes it.
func (o *Object) Strings(k string, vs []string) {
	o.key(k)
	if vs == nil {
		o.b = append(o.b, "null"...)
		return
	}
	o.b = append(o.b, '[')
	for i, v := range vs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = AppendString(o.b, v)
	}
	o.b = append(o.b, ']')
}

// Begin opens an object field; End closes it.
func (o *Object) Begin(k string) {
	o.key(k)
	o.b = append(o.b, '{')
	o.more = false
}

// End closes the object Begin opened, which is a field of the one around it.
func (o *Object) End() {
	o.b = append(o.b, '}')
	o.more = true
}

// AppendString appends s as a JSON string, escaped as encoding/json escapes
// it by default: '"', '\\' and control characters, the HTML characters <, >
// and &, U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
