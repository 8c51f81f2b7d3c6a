package subkit

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Fuzz targets of types.go's decoders: the Polar Subscription object graph,
// Metadata and TaxID. Their example-based tests are in types_test.go.

// fuzzSeeds are the fixture and some other shapes, to start the fuzzers somewhere useful.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	fixture, err := os.ReadFile(fixturePath)
	if err != nil {
		f.Fatal(err)
	}
	return [][]byte{
		fixture,
		[]byte(richSubscriptionJSON),
		[]byte(`{}`),
		[]byte(`{"metadata": {"a": 9007199254740993, "b": 1e3, "c": "\u00e9", "d": null, "e": {"f": [1]}}}`),
		[]byte(`{"customer": {"tax_id": ["x", null, 3]}, "discount": null, "seats": 2}`),
		[]byte(`{"prices": [{"amount_type": "seat_based", "seat_tiers": {"tiers": [{"min_seats": 1}]}}]}`),
		[]byte(`{"custom_field_data": {"when": "2026-01-01T00:00:00Z", "n": -1}}`),
	}
}

// FuzzDecodeSubscription checks that no input panics the decoder, and that whatever decodes
// survives a round trip through encoding/json unchanged after the first pass (the first may
// normalise, e.g. 1.0 in metadata comes back as the integer 1).
//
// The seeds are several kilobytes, and the fuzzer minimises every new interesting input for
// up to -fuzzminimizetime (60s by default), so with the defaults it spends most of its time
// minimising; -fuzzminimizetime=1s gives far more executions.
func FuzzDecodeSubscription(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s Subscription
		if err := json.Unmarshal(data, &s); err != nil {
			return
		}
		first, err := json.Marshal(&s)
		if err != nil {
			t.Fatalf("marshal decoded value: %v", err)
		}
		var again Subscription
		if err := json.Unmarshal(first, &again); err != nil {
			t.Fatalf("decode own encoding %s: %v", first, err)
		}
		second, err := json.Marshal(&again)
		if err != nil {
			t.Fatalf("marshal again: %v", err)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the value:\n%s\n%s", first, second)
		}
	})
}

// referenceMetadata is the slow, obviously right decoder the fast one must agree with:
// encoding/json twice, once with UseNumber to classify the top-level numbers.
func referenceMetadata(data []byte) (Metadata, error) {
	var plain map[string]any
	if err := json.Unmarshal(data, &plain); err != nil {
		return nil, err
	}
	if plain == nil {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var numbered map[string]any
	if err := dec.Decode(&numbered); err != nil {
		return nil, err
	}
	out := make(Metadata, len(plain))
	for k, v := range numbered {
		n, ok := v.(json.Number)
		if !ok {
			out[k] = plain[k]
			continue
		}
		if !strings.ContainsAny(string(n), ".eE") {
			if i, err := n.Int64(); err == nil {
				out[k] = i
				continue
			}
		}
		f, err := n.Float64()
		if err != nil {
			return nil, err
		}
		out[k] = f
	}
	return out, nil
}

func FuzzMetadataUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`{"reference_id": "ABC123", "seats_hint": 3, "ratio": 0.75, "vip": true}`,
		`{"big": 9007199254740993, "over": 9223372036854775808, "e": 1e3, "f": 1.0, "inf": 1e400}`,
		`{"s": "a\"b\u00e9\ud83d\ude00", "n": null, "o": {"x": [1, "y"]}, "neg": -0}`,
		`null`, `{}`, `[]`, `{"a": 1, "a": 2}`, "{\"\xff\": \"\xfe\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Metadata
		gotErr := json.Unmarshal(data, &got)
		want, wantErr := referenceMetadata(data)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("input %q: error %v, reference error %v", data, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("input %q:\n got %#v\nwant %#v", data, got, want)
		}
	})
}

// FuzzTaxIDUnmarshal checks the hand-written TaxID scanner against encoding/json.
func FuzzTaxIDUnmarshal(f *testing.F) {
	for _, seed := range []string{
		`["911144442", "us_ein"]`, `["a", null, 3]`, `[]`, `null`, `"x"`, `[{"a": "]"}, "\"]"]`, ` [ "a" , "b" ] `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got TaxID
		gotErr := json.Unmarshal(data, &got)
		var parts []any
		wantErr := json.Unmarshal(data, &parts)
		if (gotErr != nil) != (wantErr != nil) {
			t.Fatalf("input %q: error %v, reference error %v", data, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		var want TaxID
		if len(parts) > 0 {
			want.Value, _ = parts[0].(string)
		}
		if len(parts) > 1 {
			want.Format, _ = parts[1].(string)
		}
		if want != got {
			t.Fatalf("input %q: got %#v, want %#v", data, got, want)
		}
	})
}
