// Decoding of error bodies, in every shape the three APIs are known to use.

package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// FieldProblem is one field the server complained about.
type FieldProblem struct {
	Field, Message, Code string
}

// ErrorInfo is what an error body says. Empty fields were not in it.
type ErrorInfo struct {
	Code      string
	Message   string
	Fields    []FieldProblem
	RequestID string
}

// errorBody is the union of the known shapes, decoded in one pass:
//
//	Polar:      {"error":"NotPermitted","detail":"…"}
//	            {"error":"invalid_token","error_description":"…"}
//	            {"error":"RequestValidationError","detail":[{"loc":[…],"msg":"…","type":"…"}]}
//	            {"detail":"Not Found"}
//	Chargeflow: {"message":"…","requestId":"…"}
//	ChatDash:   {"message":"…"} and Stripe's {"error":{"message":"…","code":"…","type":"…"}}
type errorBody struct {
	Error            json.RawMessage `json:"error"`
	ErrorDescription string          `json:"error_description"`
	Detail           json.RawMessage `json:"detail"`
	Message          json.RawMessage `json:"message"`
	Code             json.RawMessage `json:"code"`
	RequestID        json.RawMessage `json:"requestId"`
	RequestIDSnake   json.RawMessage `json:"request_id"`
}

type stripeError struct {
	Message string `json:"message"`
	Code    string `json:"code"`
	Type    string `json:"type"`
}

type detailItem struct {
	Loc  []json.RawMessage `json:"loc"`
	Msg  string            `json:"msg"`
	Type string            `json:"type"`
}

// DecodeError reads an error body leniently: any field of the wrong type is
// skipped, and a body that is not a JSON object yields an empty ErrorInfo.
// errorIsCode says how to read a string "error": Polar puts a machine name
// there ("NotPermitted"); other APIs put a human message.
func DecodeError(body []byte, errorIsCode bool) ErrorInfo {
	var info ErrorInfo
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return info
	}
	var eb errorBody
	if json.Unmarshal(trimmed, &eb) != nil {
		return info
	}
	info.RequestID = firstNonEmpty(asString(eb.RequestID), asString(eb.RequestIDSnake))
	info.Code = asString(eb.Code)

	errText, errMessage := asString(eb.Error), ""
	switch {
	case errText != "" && errorIsCode:
		info.Code = errText
	case errText != "":
		errMessage = errText
	case len(eb.Error) > 0 && eb.Error[0] == '{':
		var se stripeError
		if json.Unmarshal(eb.Error, &se) == nil {
			info.Message = se.Message
			info.Code = firstNonEmpty(se.Code, se.Type, info.Code)
		}
	}

	if s := asString(eb.Detail); s != "" {
		info.Message = firstNonEmpty(info.Message, s)
	} else if len(eb.Detail) > 0 && eb.Detail[0] == '[' {
		var items []json.RawMessage
		if json.Unmarshal(eb.Detail, &items) == nil {
			info.Fields = fieldProblems(items)
		}
	}
	info.Message = firstNonEmpty(info.Message, eb.ErrorDescription, asString(eb.Message), errMessage)
	if info.Message == "" && len(info.Fields) > 0 {
		info.Message = summarize(info.Fields)
	}
	return info
}

func fieldProblems(items []json.RawMessage) []FieldProblem {
	type located struct {
		FieldProblem
		member string
	}
	all := make([]located, 0, len(items))
	missing := map[string]int{}
	for _, raw := range items {
		var it detailItem
		if json.Unmarshal(raw, &it) != nil {
			continue
		}
		field, member := locPath(it.Loc)
		all = append(all, located{FieldProblem{Field: field, Message: it.Msg, Code: it.Type}, member})
		if _, ok := missing[member]; !ok {
			missing[member] = 0
		}
		if it.Type == "missing" {
			missing[member]++
		}
	}
	// A body matching neither member of a union (Polar's two create shapes)
	// gets the errors of both. The member that was meant is the one missing
	// the fewest fields; the other's errors would only confuse.
	keep := ""
	if len(missing) > 1 {
		best, tie := -1, false
		for m, n := range missing {
			switch {
			case best < 0 || n < best:
				best, keep, tie = n, m, false
			case n == best:
				tie = true
			}
		}
		if tie {
			keep = ""
		}
	}
	out := make([]FieldProblem, 0, len(all))
	seen := map[FieldProblem]bool{}
	for _, l := range all {
		if (keep != "" && l.member != keep) || seen[l.FieldProblem] {
			continue
		}
		seen[l.FieldProblem] = true
		out = append(out, l.FieldProblem)
	}
	return out
}

// locPath turns a FastAPI/Pydantic location into a dotted wire path:
//
//	["body","metadata","k"]                               → "metadata.k"
//	["body","items",0,"id"]                               → "items[0].id"
//	["body","SubscriptionCreateCustomer","metadata","k","int"] → "metadata.k" (member "SubscriptionCreateCustomer")
//
// The leading "body" or "query" says where, not which field. Pydantic names
// the union member that failed (a CamelCase model name, never a wire key) and,
// under a dict, the key's validator ("int", "function-after[…]", "[key]"):
// neither is part of the wire path.
func locPath(loc []json.RawMessage) (path, member string) {
	if len(loc) > 1 {
		if where, _ := stringValue(loc[0]); where == "query" || where == "path" || where == "header" {
			return paramPath(loc), ""
		}
	}
	var b strings.Builder
	afterDict := false
	for i, raw := range loc {
		s, isString := stringValue(raw)
		if !isString {
			if n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64); err == nil && !afterDict {
				b.WriteString("[" + strconv.FormatInt(n, 10) + "]")
			}
			continue
		}
		switch {
		case i == 0 && len(loc) > 1 && (s == "body" || s == "query" || s == "path" || s == "header"):
			continue
		case i <= 1 && b.Len() == 0 && len(loc) > i+1 && isModelName(s):
			member = s
			continue
		case afterDict:
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
		if s == "metadata" && i+1 < len(loc) {
			// The next element is the key; whatever follows names validators.
			if k, ok := stringValue(loc[i+1]); ok {
				b.WriteString("." + k)
			}
			afterDict = true
		}
	}
	return b.String(), member
}

// paramPath names a query, path or header parameter: it has no inner
// structure, so what Pydantic adds after its name labels validators, except a
// trailing index, which says which of a repeated parameter's values failed:
// ["query","customer_id","json-or-python[…]",0] → "customer_id[0]".
func paramPath(loc []json.RawMessage) string {
	name, _ := stringValue(loc[1])
	if len(loc) > 2 {
		last := bytes.TrimSpace(loc[len(loc)-1])
		if n, err := strconv.ParseInt(string(last), 10, 64); err == nil {
			return name + "[" + strconv.FormatInt(n, 10) + "]"
		}
	}
	return name
}

// isModelName reports whether s looks like a Pydantic model name
// (SubscriptionCreateCustomer): wire keys are snake_case.
func isModelName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')) {
			return false
		}
	}
	return true
}

func summarize(fields []FieldProblem) string {
	const most = 3
	parts := make([]string, 0, most)
	for i, f := range fields {
		if i == most {
			parts = append(parts, "…")
			break
		}
		if f.Field != "" {
			parts = append(parts, f.Field+": "+f.Message)
		} else {
			parts = append(parts, f.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func asString(raw json.RawMessage) string {
	s, _ := stringValue(raw)
	return s
}

func stringValue(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
