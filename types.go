package subkit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Metadata is a set of key-value pairs attached to an object (Polar's metadata).
//
// Values a caller may send are string, bool, any Go integer kind, and float32/float64.
// Decoded metadata holds string, bool, int64 for JSON integers that fit in an int64, and
// float64 for every other number (a fraction or an exponent, as in 1.0 or 1e3, or an integer
// too large for int64). A JSON null becomes a nil value; a nested object or array, which
// Polar does not send today, becomes the map[string]any or []any encoding/json would give.
type Metadata map[string]any

// UnmarshalJSON decodes a JSON object, keeping integers exact: encoding/json's default would
// turn them into float64 and silently round IDs above 2^53. The result replaces the map
// rather than merging into it, and a null makes it nil. A number too large for a float64
// (1e400) is an error, as it is for encoding/json.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	v, err := decodeLooseObject(data, "metadata")
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// CustomFieldData holds the values a customer entered in a product's custom fields, keyed by
// the field's slug. Values decode as for [Metadata]: string, int64 (float64 for numbers that
// are not integers), bool, or nil for a field left empty. Date-time fields stay RFC 3339
// strings, because nothing on the wire tells them apart from text fields.
type CustomFieldData map[string]any

// UnmarshalJSON decodes a JSON object the same way as [Metadata.UnmarshalJSON].
func (c *CustomFieldData) UnmarshalJSON(data []byte) error {
	v, err := decodeLooseObject(data, "custom_field_data")
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// decodeLooseObject decodes a JSON object of mostly scalar values in one cheap pass. After
// one validity scan it walks the object by hand and classifies each value by its first
// byte: going through map[string]json.RawMessage would cost a reflective decode, a copy of
// every value and a second validity scan, and this runs for every object of the graph.
// It never fails on a value's type.
func decodeLooseObject(data []byte, what string) (map[string]any, error) {
	i := skipSpace(data, 0)
	if !json.Valid(data) || i == len(data) || (data[i] != '{' && data[i] != 'n') {
		// Let encoding/json word the syntax or type error, as it would for a plain map.
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("subkit: %s: not a JSON object", what) // unreachable for valid input
	}
	if data[i] == 'n' { // null
		return nil, nil
	}
	out := make(map[string]any)
	i = skipSpace(data, i+1)
	for data[i] != '}' {
		end := valueEnd(data, i)
		key, err := unquoteJSON(data[i:end])
		if err != nil {
			return nil, err
		}
		i = skipSpace(data, skipSpace(data, end)+1) // past the colon
		end = valueEnd(data, i)
		val, err := decodeLooseValue(data[i:end])
		if err != nil {
			return nil, fmt.Errorf("subkit: %s[%q]: %w", what, key, err)
		}
		out[key] = val // a repeated key keeps its last value, as in encoding/json
		i = skipSpace(data, end)
		if data[i] == ',' {
			i = skipSpace(data, i+1)
		}
	}
	return out, nil
}

// The scanners below may assume their input is valid JSON (checked by json.Valid first),
// so they need not guard against running off its end.

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		for j := i + 1; ; j++ {
			switch data[j] {
			case '\\':
				j++ // the escaped byte cannot end the string
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch data[j] {
			case '"':
				j = valueEnd(data, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // number, true, false, null
		j := i
		for j < len(data) {
			switch data[j] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return j
			}
			j++
		}
		return j
	}
}

func decodeLooseValue(raw []byte) (any, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty value")
	}
	switch c := raw[0]; {
	case c == '"':
		return unquoteJSON(raw)
	case c == 't':
		return true, nil
	case c == 'f':
		return false, nil
	case c == 'n':
		return nil, nil
	case c == '-' || ('0' <= c && c <= '9'):
		return parseJSONNumber(raw)
	default: // object or array: rare, so the general decoder is fine
		var v any
		err := json.Unmarshal(raw, &v)
		return v, err
	}
}

// parseJSONNumber keeps integers that fit in an int64 exact and makes everything else a float64.
func parseJSONNumber(raw []byte) (any, error) {
	if !bytes.ContainsAny(raw, ".eE") {
		if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return n, nil
		}
		// Out of int64 range: fall through to float64, as encoding/json would.
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// unquoteJSON decodes a JSON string literal. Most strings need no unescaping, so it returns
// them without a second decode; escapes and invalid UTF-8 (which encoding/json replaces with
// U+FFFD) go through encoding/json so the result is exactly what it would give.
func unquoteJSON(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		body := raw[1 : len(raw)-1]
		if bytes.IndexByte(body, '\\') < 0 && utf8.Valid(body) {
			return string(body), nil
		}
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// SubscriptionStatus is the state of a Polar subscription. Polar adds states over time
// (paused arrived in 2026-07), so the type is open: an unknown value decodes as itself.
type SubscriptionStatus string

// Known values of [SubscriptionStatus].
const (
	SubscriptionStatusIncomplete        SubscriptionStatus = "incomplete"
	SubscriptionStatusIncompleteExpired SubscriptionStatus = "incomplete_expired"
	SubscriptionStatusTrialing          SubscriptionStatus = "trialing"
	SubscriptionStatusActive            SubscriptionStatus = "active"
	SubscriptionStatusPastDue           SubscriptionStatus = "past_due"
	SubscriptionStatusCanceled          SubscriptionStatus = "canceled"
	SubscriptionStatusUnpaid            SubscriptionStatus = "unpaid"
	SubscriptionStatusPaused            SubscriptionStatus = "paused"
)

// RecurringInterval is the unit of a billing or trial period. The type is open: an unknown
// value decodes as itself.
type RecurringInterval string

// Known values of [RecurringInterval].
const (
	RecurringIntervalDay   RecurringInterval = "day"
	RecurringIntervalWeek  RecurringInterval = "week"
	RecurringIntervalMonth RecurringInterval = "month"
	RecurringIntervalYear  RecurringInterval = "year"
)

// CustomerCancellationReason is the reason a customer gave when canceling a Polar
// subscription. The type is open: an unknown value decodes as itself.
type CustomerCancellationReason string

// Known values of [CustomerCancellationReason].
const (
	CustomerCancellationCustomerService CustomerCancellationReason = "customer_service"
	CustomerCancellationLowQuality      CustomerCancellationReason = "low_quality"
	CustomerCancellationMissingFeatures CustomerCancellationReason = "missing_features"
	CustomerCancellationSwitchedService CustomerCancellationReason = "switched_service"
	CustomerCancellationTooComplex      CustomerCancellationReason = "too_complex"
	CustomerCancellationTooExpensive    CustomerCancellationReason = "too_expensive"
	CustomerCancellationUnused          CustomerCancellationReason = "unused"
	CustomerCancellationOther           CustomerCancellationReason = "other"
)

// CustomerType says whether a Polar customer is a person or a team. The type is open: an
// unknown value decodes as itself.
type CustomerType string

// Known values of [CustomerType].
const (
	CustomerTypeIndividual CustomerType = "individual"
	CustomerTypeTeam       CustomerType = "team"
)

// AmountType is the discriminator of a Polar [Price]: it says which of the price's amount
// fields are meaningful. The type is open: an unknown value decodes as itself.
type AmountType string

// Known values of [AmountType].
const (
	AmountTypeFixed       AmountType = "fixed"        // PriceAmount
	AmountTypeCustom      AmountType = "custom"       // MinimumAmount, MaximumAmount, PresetAmount
	AmountTypeSeatBased   AmountType = "seat_based"   // SeatTiers
	AmountTypeMeteredUnit AmountType = "metered_unit" // UnitAmount, CapAmount, MeterID, Meter
	AmountTypeFree        AmountType = "free"         // no amount; found in older data
)

// DiscountType is the discriminator of a Polar [Discount]'s value: a fixed amount off or a
// percentage off. The type is open: an unknown value decodes as itself.
type DiscountType string

// Known values of [DiscountType].
const (
	DiscountTypeFixed      DiscountType = "fixed"      // Amount, Currency, Amounts
	DiscountTypePercentage DiscountType = "percentage" // BasisPoints
)

// DiscountDuration says for how many billing periods a Polar [Discount] applies. The type is
// open: an unknown value decodes as itself.
type DiscountDuration string

// Known values of [DiscountDuration].
const (
	DiscountDurationOnce      DiscountDuration = "once"      // the first period only
	DiscountDurationForever   DiscountDuration = "forever"   // every period
	DiscountDurationRepeating DiscountDuration = "repeating" // DurationInMonths months
)
