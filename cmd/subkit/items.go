package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/bulk"
)

// The input's own columns, and the create it refuses by name.
const (
	createChatDash       = "chatdash-connect"
	createColumn         = "create"
	metadataColumn       = "metadata"
	metadataColumnPrefix = "metadata."
)

// lineKind is how a line asking for one kind of create (bulk.Kinds, by
// name) is read: the columns it cannot do without besides the key (a line
// without one fails, so an input whose every line lacks it is refused as a
// whole), and how its params are made.
type lineKind struct {
	required []string
	read     func(l *line, it *bulk.Item)
}

// lineKinds reads every kind in bulk's table of kinds; a test checks that
// the two name the same kinds.
func lineKinds() map[string]lineKind {
	return map[string]lineKind{
		"polar-customer": {[]string{"product_id", "customer_id"}, func(l *line, it *bulk.Item) {
			it.Customer = &subkit.CustomerSubscriptionParams{ProductID: l.required("product_id", "the free product's UUID"),
				CustomerID: l.required("customer_id", "Polar's customer UUID"), Metadata: l.metadata()}
		}},
		"polar-external-customer": {[]string{"product_id", "external_customer_id"}, func(l *line, it *bulk.Item) {
			it.ExternalCustomer = &subkit.ExternalCustomerSubscriptionParams{ProductID: l.required("product_id", "the free product's UUID"),
				ExternalCustomerID: l.required("external_customer_id", "your ID of the Polar customer"), Metadata: l.metadata()}
		}},
		"chargeflow-dispute": {[]string{"dispute_id", "source_id", "created_at", "start_date", "frequency", "frequency_count"},
			func(l *line, it *bulk.Item) {
				it.DisputeID = l.required("dispute_id", "24 hex characters")
				it.Dispute = l.dispute()
			}},
	}
}

// createNames are the names of the creates a line can ask for, in the
// create column or -create: bulk's kinds, in its order.
func createNames() []string {
	var names []string
	for _, k := range bulk.Kinds() {
		names = append(names, k.Name)
	}
	return names
}

// The columns each create reads, named as the API's own fields.
var (
	polarColumns      = []string{"product_id", "customer_id", "external_customer_id"}
	chargeflowColumns = []string{"dispute_id", "source_id", "account_id", "created_at", "start_date", "frequency",
		"frequency_count", "collection_method", "updated_at", "end_date", "cancellation_date", "cancellation_reason",
		"trial_start", "trial_end", "renews_at", "plan_name", "pricing_model", "status"}
)

// schema turns records into items: which column holds the key, which create
// every line makes (or the create column), and values for columns a line
// leaves empty (-set).
type schema struct {
	keyColumn, keyPrefix string
	create               string // "" reads the create column
	defaults             map[string]string
}

// known reports whether a column means something to the schema; the others
// are ignored (and named once, in case of a typo).
func (s *schema) known(col string) bool {
	switch {
	case col == s.keyColumn, col == createColumn, col == metadataColumn, strings.HasPrefix(col, metadataColumnPrefix):
		return true
	}
	for _, c := range polarColumns {
		if c == col {
			return true
		}
	}
	for _, c := range chargeflowColumns {
		if c == col {
			return true
		}
	}
	return false
}

// line reads one record's values, collecting every problem with a column.
type line struct {
	rec      record
	defaults map[string]string
	problems []*inputError
}

func (l *line) fail(column, format string, args ...any) {
	l.problems = append(l.problems, &inputError{line: l.rec.line, column: column, msg: fmt.Sprintf(format, args...)})
}

// str is a column's text, "" when absent; numbers and booleans of JSON Lines
// are taken as their text.
func (l *line) str(col string) string {
	v, ok := l.rec.values[col]
	if !ok {
		return l.defaults[col]
	}
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	l.fail(col, "want a string, got %s", jsonKind(v))
	return ""
}

func (l *line) required(col, what string) string {
	v := l.str(col)
	if v == "" {
		if _, given := l.rec.values[col]; !given {
			l.fail(col, "is required (%s)", what)
		}
	}
	return v
}

func (l *line) integer(col string) int {
	s := l.str(col)
	if s == "" {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		l.fail(col, "want a whole number, got %q", clip(s, 100))
	}
	return n
}

// date reads RFC 3339 (2025-01-31T12:00:00Z) or a day (2025-01-31, UTC).
func (l *line) date(col string) time.Time {
	s := l.str(col)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t
	}
	l.fail(col, "want a date: RFC 3339 (2025-01-31T12:00:00Z) or YYYY-MM-DD, got %q", clip(s, 100))
	return time.Time{}
}

// metadata gathers the metadata.NAME columns and, in JSON Lines, the
// metadata object.
func (l *line) metadata() subkit.Metadata {
	md := subkit.Metadata{}
	if v, ok := l.rec.values[metadataColumn]; ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			l.fail(metadataColumn, "want an object of names and values, got %s", jsonKind(v))
		}
		for k, val := range obj {
			md[k] = l.metadataValue(metadataColumnPrefix+k, val)
		}
	}
	for col := range l.rec.values {
		if name, ok := strings.CutPrefix(col, metadataColumnPrefix); ok {
			md[name] = l.metadataValue(col, l.rec.values[col])
		}
	}
	for col, v := range l.defaults {
		if name, ok := strings.CutPrefix(col, metadataColumnPrefix); ok {
			if _, set := md[name]; !set {
				md[name] = v
			}
		}
	}
	if len(md) == 0 {
		return nil
	}
	return md
}

// metadataValue keeps a JSON number an integer when it is one, so that
// metadata sent from JSON Lines keeps its type; CSV values are strings.
func (l *line) metadataValue(col string, v any) any {
	switch v := v.(type) {
	case string, bool:
		return v
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
	}
	l.fail(col, "want a string, number or boolean, got %s", jsonKind(v))
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// item makes the bulk item a record asks for. An error names the line and
// every column at fault; the item then still carries the line and the key
// when they could be read.
func (s *schema) item(rec record) (bulk.Item, error) {
	l := &line{rec: rec, defaults: s.defaults}
	it := bulk.Item{Line: rec.line}
	if key := l.required(s.keyColumn, "the idempotency key; -key names the column"); key != "" {
		it.Key = s.keyPrefix + key
	}
	create := s.create
	if create == "" {
		create = normalCreate(l.required(createColumn, "one of "+strings.Join(createNames(), ", ")+"; or give -create"))
	}
	kind, known := lineKinds()[create]
	switch {
	case create == "":
	case known:
		kind.read(l, &it)
	case create == createChatDash:
		l.fail(createColumn, "ChatDash creates cannot be made in bulk: ChatDash stores nothing a create can be found by, so they can be neither keyed nor resumed (make them one at a time with CreateConnect, FindConnect after an unknown outcome)")
	default:
		l.fail(createColumn, "unknown create %q: want one of %s", clip(create, 100), strings.Join(createNames(), ", "))
	}
	if len(l.problems) > 0 {
		return it, joinProblems(l.problems)
	}
	return it, nil
}

func (l *line) dispute() *subkit.DisputeSubscriptionParams {
	return &subkit.DisputeSubscriptionParams{
		SourceID:           l.required("source_id", "the subscription's ID in your billing system"),
		AccountID:          l.str("account_id"),
		CreatedAt:          l.date("created_at"),
		StartDate:          l.date("start_date"),
		Frequency:          subkit.Frequency(l.str("frequency")),
		FrequencyCount:     l.integer("frequency_count"),
		CollectionMethod:   subkit.CollectionMethod(l.str("collection_method")),
		UpdatedAt:          l.date("updated_at"),
		EndDate:            l.date("end_date"),
		CancellationDate:   l.date("cancellation_date"),
		CancellationReason: subkit.CancellationReason(l.str("cancellation_reason")),
		TrialStart:         l.date("trial_start"),
		TrialEnd:           l.date("trial_end"),
		RenewsAt:           l.date("renews_at"),
		PlanName:           l.str("plan_name"),
		PricingModel:       subkit.PricingModel(l.str("pricing_model")),
		Status:             subkit.DisputeSubscriptionStatus(l.str("status")),
	}
}

// normalCreate accepts polar_customer as well as polar-customer.
func normalCreate(s string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-")
}

// lineProblems is every problem of one line.
type lineProblems []*inputError

func joinProblems(ps []*inputError) error {
	if len(ps) == 1 {
		return ps[0]
	}
	return lineProblems(ps)
}

func (ps lineProblems) Error() string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = "column " + p.column + ": " + p.msg
	}
	return fmt.Sprintf("line %d: %s", ps[0].line, strings.Join(parts, "; "))
}

// createOf names an item's create as the input does ("" for none).
func createOf(it bulk.Item) string {
	k, _ := it.Kind()
	return k.Name
}
