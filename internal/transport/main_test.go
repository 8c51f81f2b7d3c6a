package transport

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"go.uber.org/goleak"
)

// TestMain fails the package's test binary if any goroutine outlives its
// tests: a leaked connection, timer or server goroutine is a bug, not noise.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// FuzzReadAtMost compares readAtMost with the plain reading it replaced
// (bytes.Buffer.ReadFrom over io.LimitReader(limit+1)), which allocated two
// to four times the limit to refuse an oversized chunked body: same body,
// same refusal, same error, whatever the reader's pace, size hint or failure.
func FuzzReadAtMost(f *testing.F) {
	f.Add([]byte(`{"id":"x"}`), uint16(16), int32(-1), uint8(0))
	f.Add(bytes.Repeat([]byte("a"), 9000), uint16(8192), int32(9000), uint8(1))
	f.Add(bytes.Repeat([]byte("a"), 9000), uint16(9000), int32(-1), uint8(2))
	f.Add([]byte{}, uint16(0), int32(0), uint8(3))
	f.Add(bytes.Repeat([]byte("b"), 20000), uint16(10000), int32(100), uint8(4))
	f.Fuzz(func(t *testing.T, data []byte, limit16 uint16, hint32 int32, mode uint8) {
		limit, hint := int64(limit16), int64(hint32)
		reader := func() io.Reader {
			var r io.Reader = bytes.NewReader(data)
			switch mode % 5 {
			case 1:
				r = iotest.OneByteReader(r)
			case 2:
				r = iotest.HalfReader(r)
			case 3:
				r = iotest.DataErrReader(r) // the last data comes with io.EOF
			case 4:
				r = io.MultiReader(r, iotest.ErrReader(io.ErrUnexpectedEOF)) // cut short
			}
			return r
		}
		var want bytes.Buffer
		n, wantErr := want.ReadFrom(io.LimitReader(reader(), limit+1))
		wantTooLarge := n > limit

		body, tooLarge, err := readAtMost(reader(), limit, hint)
		switch {
		case tooLarge != wantTooLarge:
			t.Fatalf("tooLarge %v, want %v (%d bytes, limit %d)", tooLarge, wantTooLarge, len(data), limit)
		case tooLarge:
			if body != nil || err != nil {
				t.Fatalf("refused with body %d bytes, err %v", len(body), err)
			}
		case !errors.Is(err, wantErr) && !(err == nil && wantErr == nil):
			t.Fatalf("err %v, want %v", err, wantErr)
		case err == nil && !bytes.Equal(body, want.Bytes()):
			t.Fatalf("body %q, want %q", body, want.Bytes())
		}
	})
}
