package subkit

import (
	"fmt"
	"log/slog"
)

// secret holds a credential. Every way of printing or logging it redacts, so a
// credential cannot reach a log line or an error through a stray %v.
type secret string

const redacted = "[REDACTED]"

func (s secret) String() string   { return s.mask() }
func (s secret) GoString() string { return `"` + s.mask() + `"` }

// Format covers every verb, including %x and %q, which would otherwise print
// the raw bytes of the underlying string.
func (s secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.mask()))
}

func (s secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

func (s secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// reveal is the one place the raw credential is read: when a header is set.
func (s secret) reveal() string { return string(s) }
