package wire

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// trickyStrings are the strings whose encoding differs from their bytes:
// every ASCII control character, the characters encoding/json escapes for
// HTML, the JavaScript line terminators, invalid and truncated UTF-8.
func trickyStrings() []string {
	s := []string{
		"", "plain", `"quoted"`, `back\slash`, "<script>&amp;</script>", "\x7f",
		"line\u2028sep\u2029par", "ok \u2027\u202a", "emoji 🙂 é ß 中", "\ufffd",
		"\xff", "a\xc3", "\xe2\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "x\x00y",
		strings.Repeat("long é<", 300),
	}
	for c := 0; c < 0x20; c++ {
		s = append(s, "a"+string(rune(c))+"b")
	}
	return s
}

func marshalString(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range trickyStrings() {
		if got, want := string(AppendString([]byte("prefix"), s)), "prefix"+marshalString(t, s); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range trickyStrings() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), marshalString(t, s); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestObjectMatchesEncodingJSON builds, with Object, the encoding of a
// tagged struct of every kind of field Object writes, nested, and compares
// it with json.Marshal of the struct.
func TestObjectMatchesEncodingJSON(t *testing.T) {
	type inner struct {
		Name  string   `json:"name"`
		Opt   string   `json:"opt,omitempty"`
		Tags  []string `json:"tags"`
		Empty struct{} `json:"empty"`
	}
	type outer struct {
		ID    string `json:"id"`
		N     int64  `json:"n"`
		On    bool   `json:"on"`
		In    inner  `json:"in"`
		After string `json:"after,omitempty"`
	}
	encode := func(v outer) []byte {
		o := NewObject(8) // small: the buffer must grow
		o.String("id", v.ID)
		o.Int("n", v.N)
		o.Bool("on", v.On)
		o.Begin("in")
		o.String("name", v.In.Name)
		o.StringOmitEmpty("opt", v.In.Opt)
		o.Strings("tags", v.In.Tags)
		o.Begin("empty")
		o.End()
		o.End()
		o.StringOmitEmpty("after", v.After)
		return o.Bytes()
	}
	tricky := trickyStrings()
	cases := []outer{
		{},
		{ID: "x", N: math.MinInt64, In: inner{Tags: []string{}}},
		{ID: "<&>", N: math.MaxInt64, On: true, In: inner{Name: "n", Opt: "o", Tags: []string{"a", "\u2028"}}, After: "z"},
		{N: -1, In: inner{Tags: tricky}, After: "\xff"},
	}
	for i, s := range tricky {
		cases = append(cases, outer{ID: s, N: int64(i), In: inner{Name: s, Opt: s, Tags: []string{s, s}}, After: s})
	}
	for _, v := range cases {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := encode(v); string(got) != string(want) {
			t.Errorf("Object wrote\n%s\njson.Marshal wrote\n%s", got, want)
		}
		if !json.Valid(encode(v)) {
			t.Errorf("Object wrote invalid JSON for %+v", v)
		}
	}
}
