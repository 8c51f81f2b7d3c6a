package validate

import (
	"math"
	"strings"
	"testing"
)

func TestIsUUID4(t *testing.T) {
	good := []string{
		"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", "D8DD2DE1-21B7-4A41-9BC3-CE909C0CFE23",
		"d8dd2de1-21b7-4a41-abc3-ce909c0cfe23", "d8dd2de1-21b7-4a41-bbc3-ce909c0cfe23",
		"d8dd2de121b74a418bc3ce909c0cfe23", "{d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23}",
		"urn:uuid:d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", "urn:uuid:D8DD2DE1-21B7-4A41-8BC3-CE909C0CFE23",
	}
	bad := []string{
		"", "d8dd2de1-21b7-1a41-8bc3-ce909c0cfe23", "d8dd2de1-21b7-7a41-8bc3-ce909c0cfe23",
		"d8dd2de1-21b7-4a41-cbc3-ce909c0cfe23", "d8dd2de1-21b7-4a41-7bc3-ce909c0cfe23",
		"d8dd2de1-21b7-4a41-8bc3-ce909c0cfe2", "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe233",
		"d8dd2de1_21b7_4a41_8bc3_ce909c0cfe23", "g8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		"{d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", "d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23}",
		"urn:uuid:", "00000000-0000-0000-0000-000000000000", " d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
		"d8dd2de1-21b74-a41-8bc3-ce909c0cfe23", "{d8dd2de121b74a418bc3ce909c0cfe23}",
		"URN:UUID:d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23", "Urn:uuid:d8dd2de1-21b7-4a41-8bc3-ce909c0cfe23",
	}
	for _, s := range good {
		if !IsUUID4(s) {
			t.Errorf("IsUUID4(%q) = false", s)
		}
	}
	for _, s := range bad {
		if IsUUID4(s) {
			t.Errorf("IsUUID4(%q) = true", s)
		}
	}
}

func TestTextCountsCharactersNotBytes(t *testing.T) {
	var p Problems
	if !p.Text("f", strings.Repeat("😀", 128), 1, 128) {
		t.Fatalf("128 emoji refused: %v", p)
	}
	if p.Text("f", strings.Repeat("😀", 129), 1, 128) || p[0].Code != CodeTooLong {
		t.Fatalf("129 emoji accepted: %v", p)
	}
}

func TestMetadataBoundaries(t *testing.T) {
	r := PolarMetadata()
	ok := map[string]any{strings.Repeat("é", 40): strings.Repeat("日", 500), "i": math.MaxInt64, "u": uint64(math.MaxUint64),
		"f": math.Copysign(0, -1), "b": false, "f32": float32(1.5)}
	var p Problems
	if !p.Metadata("metadata", ok, r) {
		t.Fatalf("refused: %v", p)
	}
	r.Reserved = []string{"subkit_idempotency_key"}
	p = nil
	p.Metadata("metadata", map[string]any{"subkit_idempotency_key": "x", strings.Repeat("k", 41): 1}, r)
	if len(p) != 2 || p[0].Code != CodeTooLong || p[1].Code != CodeReserved {
		t.Fatalf("want too_long then reserved, got %v", p)
	}
}

// FuzzMetadata checks that validation never panics and that what it accepts
// is what the Polar rules allow.
func FuzzMetadata(f *testing.F) {
	f.Add("plan", "pro", int64(1), 1.5, true)
	f.Add("", "", int64(0), math.NaN(), false)
	f.Add(strings.Repeat("k", 41), strings.Repeat("v", 501), int64(-1), math.Inf(1), true)
	f.Add("a\x00", "b\x00", int64(math.MaxInt64), math.Copysign(0, -1), false)
	f.Add("\xff", "\xfe", int64(0), 0.0, true)
	f.Fuzz(func(t *testing.T, k, s string, i int64, fl float64, b bool) {
		var p Problems
		accepted := p.Metadata("metadata", map[string]any{k: s, k + "_i": i, k + "_f": fl, k + "_b": b}, PolarMetadata())
		if accepted != (len(p) == 0) {
			t.Fatalf("result %v disagrees with problems %v", accepted, p)
		}
		keyOK := k != "" && len([]rune(k))+2 <= 40 && !strings.ContainsRune(k, 0) && isValidUTF8(k)
		valOK := s != "" && len([]rune(s)) <= 500 && !strings.ContainsRune(s, 0) && isValidUTF8(s)
		floatOK := !math.IsNaN(fl) && !math.IsInf(fl, 0)
		if accepted && !(keyOK && valOK && floatOK) {
			t.Fatalf("accepted key %q value %q float %v", k, s, fl)
		}
	})
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
