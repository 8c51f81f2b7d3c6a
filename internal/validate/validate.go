// Package validate holds the client-side checks every call runs before it
// sends anything. Checks append to a Problems list rather than stopping at the
// first, so that one error can name every bad field.
package validate

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Problem is one bad field, by its wire path.
type Problem struct {
	Field, Message, Code string
}

// Problem codes.
const (
	CodeRequired = "required"
	CodeTooShort = "too_short"
	CodeTooLong  = "too_long"
	CodeInvalid  = "invalid"
	CodeEnum     = "invalid_enum"
	CodeType     = "invalid_type"
	CodeReserved = "reserved"
)

// Problems collects the problems of one request.
type Problems []Problem

// Add records a problem.
func (p *Problems) Add(field, code, format string, args ...any) {
	*p = append(*p, Problem{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Text checks a string field: valid UTF-8, no NUL, and a length in
// characters (code points) within [minChars, maxChars]; maxChars 0 means no
// upper bound. minChars 1 makes the field required.
func (p *Problems) Text(field, v string, minChars, maxChars int) bool {
	if v == "" {
		if minChars > 0 {
			p.Add(field, CodeRequired, "is required")
			return false
		}
		return true
	}
	if !p.clean(field, v) {
		return false
	}
	n := utf8.RuneCountInString(v)
	switch {
	case n < minChars:
		p.Add(field, CodeTooShort, "must be at least %d characters, got %d", minChars, n)
		return false
	case maxChars > 0 && n > maxChars:
		p.Add(field, CodeTooLong, "must be at most %d characters, got %d", maxChars, n)
		return false
	}
	return true
}

// TextOK reports whether Text would accept v, recording nothing: a caller
// can then build an expensive field path only for a bad value.
func TextOK(v string, minChars, maxChars int) bool {
	var p Problems
	return p.Text("", v, minChars, maxChars)
}

// clean refuses what no API here accepts in a string: invalid UTF-8 (JSON
// would silently replace it) and NUL.
func (p *Problems) clean(field, v string) bool {
	if !utf8.ValidString(v) {
		p.Add(field, CodeInvalid, "must be valid UTF-8")
		return false
	}
	if strings.IndexByte(v, 0) >= 0 {
		p.Add(field, CodeInvalid, "must not contain a NUL character")
		return false
	}
	return true
}

// PathID checks an ID that goes into a URL path: required, clean, and not a
// dot segment that a server could resolve to another path.
func (p *Problems) PathID(field, v string) bool {
	if !p.Text(field, v, 1, 0) {
		return false
	}
	if v == "." || v == ".." {
		p.Add(field, CodeInvalid, "must not be %q", v)
		return false
	}
	if strings.TrimSpace(v) != v {
		p.Add(field, CodeInvalid, "must not have leading or trailing white space")
		return false
	}
	return true
}

// Hex24 checks a 24-hex-digit ID (^[0-9a-fA-F]{24}$). required says whether
// "" is a problem.
func (p *Problems) Hex24(field, v string, required bool) bool {
	if v == "" {
		if required {
			p.Add(field, CodeRequired, "is required")
		}
		return !required
	}
	if len(v) != 24 || !allHex(v) {
		p.Add(field, CodeInvalid, "must be 24 hexadecimal characters")
		return false
	}
	return true
}

func allHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// UUID4 checks a required UUID of version 4 (RFC 9562 variant). It accepts
// the forms the Polar server parses: canonical with hyphens, 32 bare hex
// digits, braced, and a lower-case "urn:uuid:" prefix; hex digits in either
// case.
func (p *Problems) UUID4(field, v string) bool {
	if v == "" {
		p.Add(field, CodeRequired, "is required")
		return false
	}
	if !IsUUID4(v) {
		p.Add(field, CodeInvalid, "must be a version 4 UUID")
		return false
	}
	return true
}

// IsUUID4 reports whether v is a version 4 UUID in one of the accepted forms.
func IsUUID4(v string) bool {
	_, ok := uuid4Hex(v)
	return ok
}

// CanonicalUUID returns v, a UUID IsUUID4 accepts, in the canonical form:
// lower case, hyphenated, no prefix or braces. Anything else comes back as
// it is.
func CanonicalUUID(v string) string {
	hex, ok := uuid4Hex(v)
	if !ok {
		return v
	}
	if len(v) == 36 && v == strings.ToLower(v) {
		return v // the common case, without allocating
	}
	h := strings.ToLower(string(hex[:]))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// uuid4Hex returns the 32 hex digits of a version 4 UUID in one of the
// accepted forms.
func uuid4Hex(v string) (hex [32]byte, ok bool) {
	if rest, ok := strings.CutPrefix(v, "urn:uuid:"); ok {
		v = rest
	} else if len(v) == 38 && v[0] == '{' && v[37] == '}' {
		v = v[1:37]
	}
	switch len(v) {
	case 32:
		copy(hex[:], v)
	case 36:
		n := 0
		for i := 0; i < 36; i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if v[i] != '-' {
					return hex, false
				}
				continue
			}
			hex[n] = v[i]
			n++
		}
	default:
		return hex, false
	}
	if !allHex(string(hex[:])) {
		return hex, false
	}
	// hex[12] is the version nibble; hex[16] holds the variant bits 10xx.
	return hex, hex[12] == '4' && strings.IndexByte("89abAB", hex[16]) >= 0
}

// Time checks a time; the zero time is a problem only when required. Its
// year is checked in UTC, the zone it is sent in: 9999-12-31T23:00-05:00 is
// year 10000 on the wire, which RFC 3339 cannot write.
func (p *Problems) Time(field string, t time.Time, required bool) bool {
	if t.IsZero() {
		if required {
			p.Add(field, CodeRequired, "is required")
		}
		return !required
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		p.Add(field, CodeInvalid, "year must be between 1 and 9999 in UTC, got %d", y)
		return false
	}
	return true
}

// OneOf checks a closed enum. "" is a problem only when required.
func (p *Problems) OneOf(field, v string, required bool, allowed ...string) bool {
	if v == "" {
		if required {
			p.Add(field, CodeRequired, "is required (one of %s)", strings.Join(allowed, ", "))
		}
		return !required
	}
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	p.Add(field, CodeEnum, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return false
}
