package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// record is one line of input: its line number in the file and its values
// by column (CSV) or field (JSON Lines). CSV values are strings; JSON values
// are as encoding/json decodes them with UseNumber.
type record struct {
	line   int
	values map[string]any
}

// inputError is a problem with the input, naming the line and, when it is
// known, the column.
type inputError struct {
	line   int
	column string // a column's name, or "" when the problem is the line's
	msg    string
}

func (e *inputError) Error() string {
	if e.column == "" {
		return fmt.Sprintf("line %d: %s", e.line, e.msg)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.line, e.column, e.msg)
}

// formatOf is the input's format: the -format flag, else the file's
// extension (.csv; .jsonl, .ndjson, .json), else an error.
func formatOf(flagValue, path string) (string, error) {
	if flagValue != "" {
		switch flagValue {
		case "csv", "jsonl":
			return flagValue, nil
		}
		return "", fmt.Errorf("-format %q: want csv or jsonl", flagValue)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return "csv", nil
	case ".jsonl", ".ndjson", ".json":
		return "jsonl", nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its name: give -format csv or -format jsonl", path)
}

// records reads data in format. A line that cannot be read is yielded as an
// *inputError and reading goes on with the next line; a header that cannot
// be read ends the sequence with the error.
func records(format string, data []byte) iter.Seq2[record, error] {
	if format == "csv" {
		return csvRecords(data)
	}
	return jsonlRecords(data)
}

// csvRecords reads CSV with a header line naming the columns. Empty values
// are absent values.
func csvRecords(data []byte) iter.Seq2[record, error] {
	return func(yield func(record, error) bool) {
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1 // a line of another width is reported, not fatal
		header, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("the CSV input is empty: it needs a header line naming the columns")
			}
			yield(record{line: 1}, fmt.Errorf("%w: reading the CSV header: %w", errBadHeader, err))
			return
		}
		seen := map[string]bool{}
		for i, h := range header {
			h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
			switch {
			case !utf8.ValidString(h):
				yield(record{line: 1}, fmt.Errorf("%w: line 1: the header's column %d is not valid UTF-8 (%s)", errBadHeader, i+1, badUTF8(h)))
				return
			case h == "" || seen[h]:
				yield(record{line: 1}, fmt.Errorf("%w: line 1: the header's column %d is empty or repeated (%q)", errBadHeader, i+1, clip(h, 100)))
				return
			}
			header[i], seen[h] = h, true
		}
		for {
			fields, err := r.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			line, _ := r.FieldPos(0)
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				err = &inputError{line: pe.Line, column: columnName(header, fields), msg: fmt.Sprintf("%v (at character %d)", pe.Err, pe.Column)}
				line = pe.Line
			case err != nil:
				err = &inputError{line: line, msg: err.Error()}
			case len(fields) != len(header):
				err = &inputError{line: line, msg: fmt.Sprintf("%d values, but the header names %d columns", len(fields), len(header))}
			}
			if err != nil {
				if !yield(record{line: line}, err) {
					return
				}
				continue
			}
			rec := record{line: line, values: make(map[string]any, len(header))}
			var problems []*inputError
			for i, v := range fields {
				if v = strings.TrimSpace(v); v != "" {
					if p := checkText(v); p != "" {
						problems = append(problems, &inputError{line: line, column: header[i], msg: p})
					}
					rec.values[header[i]] = v
				}
			}
			if len(problems) > 0 {
				if !yield(record{line: line}, joinProblems(problems)) {
					return
				}
				continue
			}
			if !yield(rec, nil) {
				return
			}
		}
	}
}

// columnName names the column a CSV parse error is in, as far as the
// fields read before it tell.
func columnName(header, fields []string) string {
	if n := len(fields); n < len(header) {
		return header[n]
	}
	return "past the last column"
}

// jsonlRecords reads JSON Lines: one JSON object a line; blank lines are
// skipped.
func jsonlRecords(data []byte) iter.Seq2[record, error] {
	return func(yield func(record, error) bool) {
		line := 0
		for len(data) > 0 {
			line++
			var text []byte
			if i := bytes.IndexByte(data, '\n'); i >= 0 {
				text, data = data[:i], data[i+1:]
			} else {
				text, data = data, nil
			}
			if line == 1 {
				text = bytes.TrimPrefix(text, []byte("\ufeff"))
			}
			if len(bytes.TrimSpace(text)) == 0 {
				continue
			}
			rec, err := jsonRecord(line, text)
			if !yield(rec, err) {
				return
			}
		}
	}
}

func jsonRecord(line int, text []byte) (record, error) {
	if !utf8.Valid(text) {
		// encoding/json would turn each bad byte into U+FFFD without a word,
		// and the create would be made for another ID than the file's.
		return record{line: line}, &inputError{line: line, column: fieldAt(text, invalidUTF8At(text)), msg: badUTF8(string(text)) + " of the line"}
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var values map[string]any
	err := dec.Decode(&values)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value on the line")
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return record{line: line}, &inputError{line: line, msg: fmt.Sprintf("invalid JSON at character %d: %v", se.Offset, err)}
	case errors.As(err, &te) && te.Field == "":
		return record{line: line}, &inputError{line: line, msg: "want a JSON object, got " + te.Value}
	case err != nil:
		return record{line: line}, &inputError{line: line, msg: "invalid JSON: " + err.Error()}
	}
	var problems []*inputError
	for k, v := range values {
		if v == nil || v == "" {
			delete(values, k) // null and "" are absent, as an empty CSV cell is
			continue
		}
		if p := checkValue(v); p != "" {
			problems = append(problems, &inputError{line: line, column: k, msg: p})
		}
	}
	if len(problems) > 0 {
		slices.SortFunc(problems, func(a, b *inputError) int { return strings.Compare(a.column, b.column) })
		return record{line: line}, joinProblems(problems)
	}
	return record{line: line, values: values}, nil
}

// maxValueBytes bounds one value of the input. No ID is this long, and a
// create's answer echoes its values: one too large for the SDK to read
// (4 MiB) would leave the outcome unknown however often the line is rerun.
const maxValueBytes = 64 << 10

// checkText says what is wrong with a value read from the input, "" if
// nothing.
func checkText(v string) string {
	switch {
	case !utf8.ValidString(v):
		return badUTF8(v)
	case len(v) > maxValueBytes:
		return fmt.Sprintf("%d bytes, more than the %d a value may have (no ID is that long, and an answer the SDK cannot read leaves the outcome unknown)", len(v), maxValueBytes)
	}
	return ""
}

// checkValue is checkText for a JSON value, strings inside objects and
// arrays included (metadata).
func checkValue(v any) string {
	switch v := v.(type) {
	case string:
		return checkText(v)
	case map[string]any:
		for k, e := range v {
			if p := checkText(k); p != "" {
				return "a key: " + p
			}
			if p := checkValue(e); p != "" {
				return p
			}
		}
	case []any:
		for _, e := range v {
			if p := checkValue(e); p != "" {
				return p
			}
		}
	}
	return ""
}

// invalidUTF8At returns the offset of the first byte of b that is not
// valid UTF-8, or -1.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// badUTF8 describes where s stops being valid UTF-8, in characters, with
// the text before it (clipped) so that the spot can be found.
func badUTF8(s string) string {
	at := invalidUTF8At([]byte(s))
	if at < 0 {
		return "valid UTF-8"
	}
	return fmt.Sprintf("not valid UTF-8: after %q, a bad byte at character %d", clip(lastRunes(s[:at], 20), 80), utf8.RuneCountInString(s[:at])+1)
}

// lastRunes is the last n characters of s.
func lastRunes(s string, n int) string {
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		if n--; n == 0 {
			return s[i:]
		}
	}
	return s
}

// fieldAt names the field of a JSON object whose name or value holds the
// byte at offset at, as far as a tokenizer can tell; "" when it cannot.
func fieldAt(text []byte, at int) string {
	dec := json.NewDecoder(bytes.NewReader(text))
	depth, key, expectKey := 0, "", false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		end := int(dec.InputOffset())
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				depth++
				expectKey = depth == 1 && t == '{'
			case '}', ']':
				depth--
				expectKey = depth == 1 // a value ended: a key comes next
			}
		case string:
			if depth == 1 && expectKey {
				key, expectKey = t, false
				if end > at {
					return key
				}
				continue
			}
			if depth == 1 {
				expectKey = true
			}
		default:
			if depth == 1 {
				expectKey = true
			}
		}
		if end > at {
			return key
		}
	}
}

// clip cuts s to at most n bytes, on a character boundary, and says how
// much was left out: input values are echoed in messages and reports, and
// a 5 MB value must not make a 5 MB report.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}
