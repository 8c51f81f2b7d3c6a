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
	"strings"
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
			if h == "" || seen[h] {
				yield(record{line: 1}, fmt.Errorf("%w: line 1: the header's column %d is empty or repeated (%q)", errBadHeader, i+1, h))
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
			for i, v := range fields {
				if v = strings.TrimSpace(v); v != "" {
					rec.values[header[i]] = v
				}
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
	for k, v := range values {
		if v == nil || v == "" {
			delete(values, k) // null and "" are absent, as an empty CSV cell is
		}
	}
	return record{line: line, values: values}, nil
}
