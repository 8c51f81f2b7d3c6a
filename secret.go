package subkit

import (
	"fmt"
	"log/slog"

	"github.com/subkit-go/subkit/internal/transport"
)

// secret holds a credential. Every way of printing or logging it redacts, so a
// credential cannot reach a log line or an error through a stray %v.
//
// The credential lives in a closure, not in a string field: printers that walk
// unexported fields by reflection, where no method can be called (fmt
// printing a caller's struct that holds a *Client with %s or %d, go-spew as
// testify uses it), print a func's address, never its contents.
type secret struct{ get func() string }

func newSecret(s string) secret {
	if s == "" {
		return secret{}
	}
	return secret{get: func() string { return s }}
}

func (s secret) isSet() bool { return s.get != nil }

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
	if !s.isSet() {
		return ""
	}
	return transport.Redacted
}

// reveal is the one place the raw credential is read: when a header is set.
func (s secret) reveal() string {
	if !s.isSet() {
		return ""
	}
	return s.get()
}
