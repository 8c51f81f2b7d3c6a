package subkittest

import (
	"cmp"
	"encoding/json"
	"math/big"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// This file serves Polar's look-ups, GET /v1/subscriptions/ and
// GET /v1/subscriptions/{id}, as polar/subscription/endpoints.py,
// kit/pagination.py, kit/sorting.py and kit/metadata.py do: FastAPI first
// runs the endpoint's dependencies in order (authentication, pagination,
// sorting, metadata), then validates the query parameters in the order the
// endpoint declares them, and reports every problem of the request in one
// 422. testdata/polar_query_validation.json holds Pydantic's own answers for
// the cases the tests compare.

// polarMaxLimit is settings.API_PAGINATION_MAX_LIMIT: a larger limit is
// lowered to it, not refused.
const polarMaxLimit = 100

// polarStatuses are SubscriptionStatus's values in declaration order, as
// Pydantic lists them in an enum error.
var polarStatuses = []string{"incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"}

// polarSortProperties are SubscriptionSortProperty's values
// (server/polar/subscription/sorting.py). created_at is not one of them:
// Polar refuses sorting=created_at with a 422.
var polarSortProperties = []string{"customer", "status", "started_at", "current_period_end", "ended_at", "ends_at",
	"amount", "product", "discount"}

// polarCancellationReasons are CustomerCancellationReason's values in
// declaration order (server/polar/models/subscription.py).
var polarCancellationReasons = []string{"customer_service", "low_quality", "missing_features", "switched_service",
	"too_complex", "too_expensive", "unused", "other"}

// The labels Pydantic gives the members of MultipleQueryFilter's union
// (a scalar or a sequence).
const labelUUIDSeq = "json-or-python[json=list[uuid],python=chain[is-instance[Sequence],function-wrap[sequence_validator()]]]"

func labelEnum(name string) string { return "str-enum[" + name + "]" }

func labelEnumSeq(name string) string {
	return "json-or-python[json=list[str-enum[" + name + "]],python=chain[is-instance[Sequence],function-wrap[sequence_validator()]]]"
}

// polarMetadataKey is kit/metadata.py's pattern, matched at the start of a
// query key only (re.match): metadata[k]anything also names key k.
var polarMetadataKey = regexp.MustCompile(`^metadata\[([^\]]+)\]`)

// polarSort is one sorting criterion.
type polarSort struct {
	property string
	desc     bool
}

// metadataFilter is one metadata[key] filter: the texts it accepts.
type metadataFilter struct {
	key   string
	texts []string
}

// polarListQuery is a list request that passed validation.
type polarListQuery struct {
	page, limit *big.Int
	sorting     []polarSort
	metadata    []metadataFilter // in the order the keys first appear
	filters     map[string][]string
	// active and cancelAtPeriodEnd are nil when not given.
	active, cancelAtPeriodEnd *bool
}

// parsePyBool reads a query value as a Pydantic bool field does in lax
// mode: the words below in any case, no surrounding space.
func parsePyBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "1", "on", "t", "true", "y", "yes":
		return true, true
	case "0", "off", "f", "false", "n", "no":
		return false, true
	}
	return false, false
}

// pyEnumExpected writes an enum's values as Pydantic's enum error does:
// 'a', 'b' or 'c'.
func pyEnumExpected(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + v + "'"
	}
	if len(quoted) == 1 {
		return quoted[0]
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}

func enumError(loc []pyjson.Value, input pyjson.Value, values []string) pydError {
	expected := pyEnumExpected(values)
	return pydError{typ: "enum", loc: loc, msg: "Input should be " + expected, input: input,
		ctx: pyjson.NewObject().Set("expected", expected)}
}

// positiveInt validates a page or limit parameter (int, gt=0).
func positiveInt(q query, key string, def int64) (*big.Int, *pydError) {
	v, ok := q.last(key)
	if !ok {
		return big.NewInt(def), nil
	}
	loc := locOf("query", key)
	n, ok := parsePyInt(v)
	if !ok {
		return nil, &pydError{typ: "int_parsing", loc: loc, msg: "Input should be a valid integer, unable to parse string as an integer", input: v}
	}
	if n.Sign() <= 0 {
		return nil, &pydError{typ: "greater_than", loc: loc, msg: "Input should be greater than 0", input: v,
			ctx: pyjson.NewObject().Set("gt", 0)}
	}
	return n, nil
}

func stringValues(vs []string) []pyjson.Value {
	out := make([]pyjson.Value, len(vs))
	for i, v := range vs {
		out[i] = v
	}
	return out
}

// parsePolarList validates a list request's query; the errors are in the
// order FastAPI reports them.
func parsePolarList(q query) (*polarListQuery, []pydError) {
	var errs []pydError
	lq := &polarListQuery{filters: map[string][]string{}}

	// Dependencies: pagination, sorting, metadata.
	lq.page, lq.limit, errs = polarPaging(q)
	sorting := q.all("sorting")
	if len(sorting) == 0 {
		sorting = []string{"-started_at"}
	}
	var full []string
	for _, p := range polarSortProperties {
		full = append(full, p, "-"+p)
	}
	for i, s := range sorting {
		if !slices.Contains(full, s) {
			errs = append(errs, enumError(locOf("query", "sorting", i), s, full))
			continue
		}
		prop, desc := strings.CutPrefix(s, "-")
		lq.sorting = append(lq.sorting, polarSort{property: prop, desc: desc})
	}
	index := map[string]int{}
	for _, p := range q {
		m := polarMetadataKey.FindStringSubmatch(p.key)
		if m == nil {
			continue
		}
		i, ok := index[m[1]]
		if !ok {
			i = len(lq.metadata)
			index[m[1]] = i
			lq.metadata = append(lq.metadata, metadataFilter{key: m[1]})
		}
		lq.metadata[i].texts = append(lq.metadata[i].texts, p.value)
	}

	// The endpoint's own query parameters, in declaration order.
	uuids := func(key string) {
		vs := q.all(key)
		if len(vs) == 0 {
			return
		}
		var seqErrs []pydError
		var ids []string
		for i, v := range vs {
			id, e := validateUUID4(v, locOf("query", key, labelUUIDSeq, i))
			if e != nil {
				seqErrs = append(seqErrs, *e)
				continue
			}
			ids = append(ids, id)
		}
		if len(seqErrs) > 0 {
			errs = append(errs, pydError{typ: "uuid_type", loc: locOf("query", key, "uuid"),
				msg: "UUID input should be a string, bytes or UUID object", input: stringValues(vs)})
			errs = append(errs, seqErrs...)
			return
		}
		lq.filters[key] = ids
	}
	uuids("organization_id")
	uuids("product_id")
	uuids("customer_id")
	if vs := q.all("external_customer_id"); len(vs) > 0 {
		lq.filters["external_customer_id"] = vs
	}
	uuids("discount_id")
	boolean := func(key string) *bool {
		v, ok := q.last(key)
		if !ok {
			return nil
		}
		b, ok := parsePyBool(v)
		if !ok {
			errs = append(errs, pydError{typ: "bool_parsing", loc: locOf("query", key),
				msg: "Input should be a valid boolean, unable to interpret input", input: v})
			return nil
		}
		return &b
	}
	enums := func(key, enum string, values []string) {
		vs := q.all(key)
		if len(vs) == 0 {
			return
		}
		var seqErrs []pydError
		for i, v := range vs {
			if !slices.Contains(values, v) {
				seqErrs = append(seqErrs, enumError(locOf("query", key, labelEnumSeq(enum), i), v, values))
			}
		}
		if len(seqErrs) > 0 {
			errs = append(errs, enumError(locOf("query", key, labelEnum(enum)), stringValues(vs), values))
			errs = append(errs, seqErrs...)
			return
		}
		lq.filters[key] = vs
	}
	lq.active = boolean("active")
	enums("status", "SubscriptionStatus", polarStatuses)
	lq.cancelAtPeriodEnd = boolean("cancel_at_period_end")
	enums("customer_cancellation_reason", "CustomerCancellationReason", polarCancellationReasons)
	if len(errs) > 0 {
		return nil, errs
	}
	return lq, nil
}

// polarRow is a held subscription as the list endpoint filters and sorts it,
// read back from the JSON the create answered.
type polarRow struct {
	seq  int
	body []byte
	polarRowJSON
	startedAt, periodEnd time.Time
	metadata             *pyjson.Object
}

type polarRowJSON struct {
	ID                         string          `json:"id"`
	Status                     string          `json:"status"`
	CancelAtPeriodEnd          bool            `json:"cancel_at_period_end"`
	CustomerCancellationReason *string         `json:"customer_cancellation_reason"`
	Amount                     int64           `json:"amount"`
	StartedAt                  string          `json:"started_at"`
	CurrentPeriodEnd           string          `json:"current_period_end"`
	CustomerID                 string          `json:"customer_id"`
	ProductID                  string          `json:"product_id"`
	DiscountID                 *string         `json:"discount_id"`
	Metadata                   json.RawMessage `json:"metadata"`
	Customer                   struct {
		Email          *string `json:"email"`
		ExternalID     *string `json:"external_id"`
		OrganizationID string  `json:"organization_id"`
	} `json:"customer"`
	Product struct {
		Name string `json:"name"`
	} `json:"product"`
}

// polarRows returns the Polar subscriptions look-ups see now (see
// WithReadLag), oldest first.
func (s *Server) polarRows() []*polarRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := s.visible(subkit.Polar, s.now())
	if s.polar.rows == nil {
		s.polar.rows = map[string]*polarRow{}
	}
	rows := make([]*polarRow, 0, len(held))
	for i, st := range held {
		parsed, ok := s.polar.rows[st.id]
		if !ok {
			parsed = parsePolarRow(st.body)
			s.polar.rows[st.id] = parsed
		}
		if parsed == nil {
			continue
		}
		r := *parsed
		r.seq = i
		rows = append(rows, &r)
	}
	return rows
}

// parsePolarRow reads what look-ups filter and sort on; nil if the body
// cannot be read.
func parsePolarRow(body []byte) *polarRow {
	r := &polarRow{body: body}
	if err := json.Unmarshal(body, &r.polarRowJSON); err != nil {
		return nil
	}
	r.startedAt, _ = time.Parse(time.RFC3339Nano, r.StartedAt)
	r.periodEnd, _ = time.Parse(time.RFC3339Nano, r.CurrentPeriodEnd)
	if md, err := pyjson.Parse(r.Metadata); err == nil {
		r.metadata, _ = md.(*pyjson.Object)
	}
	return r
}

// matches applies the list's filters: values of one key are alternatives,
// keys combine with AND.
func (r *polarRow) matches(lq *polarListQuery) bool {
	// A null column equals nothing.
	str := func(p *string) string {
		if p == nil {
			return "\x00null"
		}
		return *p
	}
	for key, want := range lq.filters {
		var have string
		switch key {
		case "organization_id":
			have = r.Customer.OrganizationID
		case "product_id":
			have = r.ProductID
		case "customer_id":
			have = r.CustomerID
		case "external_customer_id":
			have = str(r.Customer.ExternalID)
		case "discount_id":
			have = str(r.DiscountID)
		case "status":
			have = r.Status
		case "customer_cancellation_reason":
			have = str(r.CustomerCancellationReason)
		}
		if !slices.Contains(want, have) {
			return false
		}
	}
	// active: the status is trialing or active; inactive: canceled or unpaid
	// (Subscription.active and .revoked).
	if lq.active != nil {
		if *lq.active && r.Status != "trialing" && r.Status != "active" ||
			!*lq.active && r.Status != "canceled" && r.Status != "unpaid" {
			return false
		}
	}
	if lq.cancelAtPeriodEnd != nil && *lq.cancelAtPeriodEnd != r.CancelAtPeriodEnd {
		return false
	}
	for _, f := range lq.metadata {
		var v pyjson.Value
		ok := false
		if r.metadata != nil {
			v, ok = r.metadata.Get(f.key)
		}
		text, isText := metadataText(v)
		if !ok || !isText || !slices.Contains(f.texts, text) {
			return false
		}
	}
	return true
}

// metadataText is a stored metadata value as PostgreSQL's ->> operator
// gives it, which Polar's filter compares the query's text with: a string
// without quotes, true or false, a number in numeric's text form.
func metadataText(v pyjson.Value) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case pyjson.Number:
		return pgNumericText(string(x)), true
	}
	return "", false
}

// pgNumericText is how PostgreSQL writes back a JSON number it stored as
// numeric: exponents expanded ("1e+16" → "10000000000000000", "1.5e-05" →
// "0.000015"), the digits after the point otherwise kept as written
// ("1000.0"), and no negative zero.
func pgNumericText(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	exp := 0
	if hasExp {
		exp, _ = strconv.Atoi(expText)
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	out := mant
	if hasExp {
		digits := intPart + frac
		point := len(intPart) + exp
		switch {
		case point <= 0:
			out = "0." + strings.Repeat("0", -point) + digits
		case point >= len(digits):
			out = digits + strings.Repeat("0", point-len(digits))
		default:
			out = digits[:point] + "." + digits[point:]
		}
		ip, fp, hasPoint := strings.Cut(out, ".")
		ip = strings.TrimLeft(ip, "0")
		if ip == "" {
			ip = "0"
		}
		out = ip
		if hasPoint {
			out += "." + fp
		}
	}
	if neg && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// compareRows orders two rows by the criteria; equal rows keep the order
// of creation in the first criterion's direction (newest first for the
// default -started_at), so that answers are deterministic under a fixed
// clock.
func compareRows(a, b *polarRow, sorting []polarSort) int {
	for _, s := range sorting {
		var c int
		switch s.property {
		case "customer":
			c = cmp.Compare(derefOr(a.Customer.Email), derefOr(b.Customer.Email))
		case "status":
			c = cmp.Compare(a.Status, b.Status)
		case "started_at":
			c = a.startedAt.Compare(b.startedAt)
		case "current_period_end":
			c = a.periodEnd.Compare(b.periodEnd)
		case "amount":
			c = cmp.Compare(a.Amount, b.Amount)
		case "product":
			c = cmp.Compare(a.Product.Name, b.Product.Name)
		case "discount", "ended_at", "ends_at":
			// No subscription of the fake has a discount or an end: all
			// are null, and equal.
		}
		if s.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := cmp.Compare(a.seq, b.seq)
	if len(sorting) > 0 && sorting[0].desc {
		c = -c
	}
	return c
}

func derefOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// list serves GET /v1/subscriptions/.
func (h polarHandler) list(x *exchange, cred *credential) *outcome {
	if o := h.authorize(cred, ScopeSubscriptionsRead, ScopeSubscriptionsWrite); o != nil {
		return o
	}
	lq, errs := parsePolarList(parseQuery(x.r.URL.RawQuery))
	if len(errs) > 0 {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", errs))
	}
	var rows []*polarRow
	for _, r := range h.s.polarRows() {
		if r.matches(lq) {
			rows = append(rows, r)
		}
	}
	slices.SortStableFunc(rows, func(a, b *polarRow) int { return compareRows(a, b, lq.sorting) })

	bodies := make([][]byte, len(rows))
	for i, r := range rows {
		bodies[i] = r.body
	}
	return answer(http.StatusOK, h.contentType(), polarListBody(bodies, lq.page, lq.limit))
}

// get serves GET /v1/subscriptions/{id}.
func (h polarHandler) get(x *exchange, cred *credential, rawID string) *outcome {
	if o := h.authorize(cred, ScopeSubscriptionsRead, ScopeSubscriptionsWrite); o != nil {
		return o
	}
	id, e := validateUUID4(rawID, locOf("path", "id"))
	if e != nil {
		return h.json(http.StatusUnprocessableEntity, validationErrorBody("RequestValidationError", []pydError{*e}))
	}
	s := h.s
	s.mu.Lock()
	held := s.visible(subkit.Polar, s.now())
	s.mu.Unlock()
	for _, st := range held {
		if st.id == id {
			return answer(http.StatusOK, h.contentType(), st.body)
		}
	}
	return h.json(http.StatusNotFound, polarNamedError("ResourceNotFound", "Not found"))
}
