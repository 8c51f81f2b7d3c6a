package pyjson

import (
	"errors"
	"testing"
)

// The expectations were read off CPython 3.11's json.loads and json.dumps
// (ensure_ascii=False, compact separators); the trailing-comma messages are
// those of CPython 3.13 and later.
func TestParseLikePython(t *testing.T) {
	t.Parallel()
	cases := []struct {
		doc  string
		want string // the re-encoded document, or ""
		msg  string
		pos  int
	}{
		{doc: "  ", msg: "Expecting value", pos: 2},
		{doc: "{", msg: "Expecting property name enclosed in double quotes", pos: 1},
		{doc: `{"a"`, msg: "Expecting ':' delimiter", pos: 4},
		{doc: `{"a":`, msg: "Expecting value", pos: 5},
		{doc: `{"a":1`, msg: "Expecting ',' delimiter", pos: 6},
		{doc: `{"a":1 x`, msg: "Expecting ',' delimiter", pos: 7},
		{doc: `{,}`, msg: "Expecting property name enclosed in double quotes", pos: 1},
		{doc: `{"a":1,}`, msg: "Illegal trailing comma before end of object", pos: 6},
		{doc: `[1,]`, msg: "Illegal trailing comma before end of array", pos: 2},
		{doc: `[1,2`, msg: "Expecting ',' delimiter", pos: 4},
		{doc: `[1 2]`, msg: "Expecting ',' delimiter", pos: 3},
		{doc: `"abc`, msg: "Unterminated string starting at", pos: 0},
		{doc: `"a\qb"`, msg: `Invalid \escape`, pos: 2},
		{doc: `"a\u12"`, msg: `Invalid \uXXXX escape`, pos: 3},
		{doc: `"a\u12zz"`, msg: `Invalid \uXXXX escape`, pos: 3},
		{doc: "\"a\x01\"", msg: "Invalid control character at", pos: 2},
		{doc: `{"a":1}x`, msg: "Extra data", pos: 7},
		{doc: `nul`, msg: "Expecting value", pos: 0},
		{doc: `-`, msg: "Expecting value", pos: 0},
		{doc: `-a`, msg: "Expecting value", pos: 0},
		{doc: `01`, msg: "Extra data", pos: 1},
		{doc: `1.`, msg: "Extra data", pos: 1},
		{doc: `1.5e`, msg: "Extra data", pos: 3},
		{doc: `tru`, msg: "Expecting value", pos: 0},
		{doc: `{"a" 1}`, msg: "Expecting ':' delimiter", pos: 5},
		{doc: `{"é":"ü"} x`, msg: "Extra data", pos: 10},
		{doc: `NaN`, msg: "Expecting value", pos: 0},
		{doc: `{"a":1} `, want: `{"a":1}`},
		{doc: `{"é":"ü", "b": [1, 2.50, -0, 1e16, 1E-5, true, false, null]}`, want: `{"é":"ü","b":[1,2.5,0,1e+16,1e-05,true,false,null]}`},
		{doc: `{"a":1,"a":2,"b":3}`, want: `{"a":2,"b":3}`},
		{doc: `{"b":1,"a":2,"b":3}`, want: `{"b":3,"a":2}`},
		{doc: `"\ud83d\ude00"`, want: `"😀"`},
		{doc: `[]`, want: `[]`},
		{doc: `{}`, want: `{}`},
		{doc: `  {"k" : "v"  }  `, want: `{"k":"v"}`},
		{doc: "{\"a\":\t1}", want: `{"a":1}`},
		{doc: `{"x":"\"\\\/\b\f\n\r\t\u0000"}`, want: `{"x":"\"\\/\b\f\n\r\t\u0000"}`},
		{doc: "\xef\xbb\xbf[1]", want: `[1]`},
		{doc: `[1.0, 1e15, 123.456, 0.1, 1e-4, 1.5e-5, 1e300, -0.0]`, want: `[1.0,1000000000000000.0,123.456,0.1,0.0001,1.5e-05,1e+300,-0.0]`},
	}
	for _, c := range cases {
		v, err := Parse([]byte(c.doc))
		if c.want != "" {
			if err != nil {
				t.Errorf("Parse(%q): %v", c.doc, err)
				continue
			}
			got, err := Marshal(v)
			if err != nil || string(got) != c.want {
				t.Errorf("Marshal(Parse(%q)) = %s, %v; want %s", c.doc, got, err, c.want)
			}
			continue
		}
		var se *SyntaxError
		if !errors.As(err, &se) || se.Msg != c.msg || se.Pos != c.pos {
			t.Errorf("Parse(%q) error = %v; want %q at %d", c.doc, err, c.msg, c.pos)
		}
	}
}

func TestParseNotDecodable(t *testing.T) {
	t.Parallel()
	deep := ""
	for range 2000 {
		deep += "["
	}
	long := "1"
	for range maxIntDigits {
		long += "0"
	}
	for name, doc := range map[string]string{"bad utf-8": "\"\xff\"", "deep": deep, "long int": long} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrNotDecodable) {
			t.Errorf("%s: error = %v; want ErrNotDecodable", name, err)
		}
	}
}

func TestMarshalKeepsOrder(t *testing.T) {
	t.Parallel()
	o := NewObject().Set("z", 1).Set("a", []Value{"x", nil, true, Number("2")}).Set("z", "again")
	got, err := Marshal(o)
	if err != nil || string(got) != `{"z":"again","a":["x",null,true,2]}` {
		t.Fatalf("Marshal = %s, %v", got, err)
	}
}
