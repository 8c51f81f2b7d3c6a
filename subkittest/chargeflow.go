package subkittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/subkit-go/subkit"
)

// chargeflowVersionPath is the API version every Chargeflow path starts with.
const chargeflowVersionPath = "/public/2025-04-01"

var hex24 = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)

// chargeflowHandler serves Chargeflow's Merchants API: routing, the rate
// limit, the API key (a missing key is 401 {"message":"Unauthorized"}, a
// wrong one 403 {"message":"Forbidden"}, as the API gateway answers; neither
// carries a requestId), the body, the dispute. Its own errors are 400/404
// {"message": …, "requestId": …}.
//
// A dispute holds one subscription: a create for a dispute that already
// holds one replaces it (201, a new id), since the endpoint is a singular
// sub-resource that records the dispute's subscription rather than adding
// to a list.
type chargeflowHandler struct{ s *Server }

func (chargeflowHandler) contentType() string { return "application/json" }

// route returns the dispute ID of a dispute path and whether the path names
// the dispute's subscription (the create) or the dispute itself (the
// look-up); ok is false for any other path.
func (chargeflowHandler) route(r *http.Request) (id string, sub, ok bool) {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), chargeflowVersionPath+"/disputes/")
	if !ok {
		return "", false, false
	}
	id, sub = strings.CutSuffix(rest, "/subscription")
	if id == "" || strings.Contains(id, "/") {
		return "", false, false
	}
	id, err := url.PathUnescape(id)
	return id, sub, err == nil
}

func (h chargeflowHandler) op(r *http.Request) Op {
	switch id, sub, ok := h.route(r); {
	case !ok || id == "":
	case sub && r.Method == http.MethodPost:
		return OpCreate
	case !sub && isGet(r):
		return OpLookup
	}
	return ""
}

func (h chargeflowHandler) tooManyRequests(retryAfter string) *outcome {
	o := jsonAnswer(http.StatusTooManyRequests, h.contentType(), map[string]string{"message": "Too Many Requests"})
	if retryAfter != "" {
		o.header.Set("Retry-After", retryAfter)
	}
	return o
}

type chargeflowError struct {
	Message   string `json:"message"`
	RequestID string `json:"requestId"`
}

func (h chargeflowHandler) fail(x *exchange, status int, msg string) *outcome {
	return jsonAnswer(status, h.contentType(), chargeflowError{Message: msg, RequestID: x.rec.ID})
}

func (h chargeflowHandler) serve(x *exchange) *outcome {
	disputeID, sub, ok := h.route(x.r)
	if !ok {
		return h.fail(x, http.StatusNotFound, "Not Found")
	}
	allow := http.MethodPost
	if !sub {
		allow = http.MethodGet
	}
	if x.r.Method != allow && !(allow == http.MethodGet && isGet(x.r)) {
		o := h.fail(x, http.StatusMethodNotAllowed, "Method Not Allowed")
		o.header.Set("Allow", allow)
		return o
	}
	if o := x.rateLimited(); o != nil {
		return o
	}
	switch key := x.r.Header.Get("X-Api-Key"); {
	case key == "":
		return jsonAnswer(http.StatusUnauthorized, h.contentType(), map[string]string{"message": "Unauthorized"})
	case !x.known(key):
		return jsonAnswer(http.StatusForbidden, h.contentType(), map[string]string{"message": "Forbidden"})
	}
	if !hex24.MatchString(disputeID) {
		return h.fail(x, http.StatusBadRequest, "Invalid request: disputeId must match ^[0-9a-fA-F]{24}$")
	}
	if !sub {
		return h.dispute(x, strings.ToLower(disputeID))
	}
	if mt, _, err := mime.ParseMediaType(x.r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return h.fail(x, http.StatusBadRequest, "Invalid request body: Content-Type must be application/json")
	}
	var body map[string]any
	dec := json.NewDecoder(bytes.NewReader(x.body))
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil || dec.More() || body == nil {
		return h.fail(x, http.StatusBadRequest, "Invalid request body: expected a JSON object")
	}
	c, problems := parseDisputeSubscription(body)
	if len(problems) > 0 {
		return h.fail(x, http.StatusBadRequest, "Invalid request body: "+strings.Join(problems, "; "))
	}

	s := h.s
	disputeID = strings.ToLower(disputeID)
	s.mu.Lock()
	dispute, exists := s.cf.dispute(disputeID, s.implicit)
	s.mu.Unlock()
	if !exists {
		return h.fail(x, http.StatusNotFound, "Dispute not found")
	}
	ext := any(nil)
	if dispute != nil && dispute.ExtAccountID != "" {
		ext = dispute.ExtAccountID
	}
	account := any(nil)
	switch {
	case c.accountID != "":
		account = c.accountID
	case dispute != nil && dispute.AccountID != "":
		account = dispute.AccountID
	}
	now := s.now()
	id := newObjectID(now)
	out := chargeflowSubscriptionJSON{
		ID: id, SourceID: c.sourceID, AccountID: account, ExtAccountID: ext,
		CreatedAt: c.dates["created_at"], UpdatedAt: c.dates["updated_at"], StartDate: c.dates["start_date"],
		EndDate: c.dates["end_date"], CancellationDate: c.dates["cancellation_date"],
		Frequency: c.frequency, FrequencyCount: c.frequencyCount, CancellationReason: c.cancellationReason,
		CollectionMethod: c.collectionMethod, TrialStart: c.dates["trial_start"], TrialEnd: c.dates["trial_end"],
		RenewsAt: c.dates["renews_at"], PlanName: c.planName, PricingModel: c.pricingModel, Status: c.status,
	}
	b := mustJSON(out)
	o := answer(http.StatusCreated, h.contentType(), b)
	reqID := x.rec.ID
	o.apply = func() []string {
		st := &stored{api: subkit.Chargeflow, id: id, body: b, chargeflow: &ChargeflowSubscription{
			ID: id, RequestID: reqID, CreatedAt: now, Body: b, DisputeID: disputeID, SourceID: c.sourceID, AccountID: c.accountID}}
		if old := s.cf.current[disputeID]; old != nil {
			old.replacedBy = id
			st.chargeflow.Replaced = old.id
		}
		s.cf.current[disputeID] = st
		s.subs = append(s.subs, st)
		return []string{id}
	}
	return o
}

type chargeflowSubscriptionJSON struct {
	ID                 string  `json:"id"`
	SourceID           string  `json:"source_id"`
	AccountID          any     `json:"account_id"`
	ExtAccountID       any     `json:"ext_account_id"`
	CreatedAt          *string `json:"created_at"`
	UpdatedAt          *string `json:"updated_at"`
	StartDate          *string `json:"start_date"`
	EndDate            *string `json:"end_date"`
	CancellationDate   *string `json:"cancellation_date"`
	Frequency          string  `json:"frequency"`
	FrequencyCount     int64   `json:"frequency_count"`
	CancellationReason *string `json:"cancellation_reason"`
	CollectionMethod   string  `json:"collection_method"`
	TrialStart         *string `json:"trial_start"`
	TrialEnd           *string `json:"trial_end"`
	RenewsAt           *string `json:"renews_at"`
	PlanName           *string `json:"plan_name"`
	PricingModel       string  `json:"pricing_model"`
	Status             string  `json:"status"`
}

// disputeCreate is a create body that passed the checks.
type disputeCreate struct {
	sourceID, accountID  string
	dates                map[string]*string // normalised, nil when null or absent
	frequency            string
	frequencyCount       int64
	collectionMethod     string
	cancellationReason   *string
	planName             *string
	pricingModel, status string
}

var (
	chargeflowFrequencies = []string{"day", "week", "month", "year"}
	chargeflowCollections = []string{"automatically", "automatically_with_reminders", "send_invoice"}
	chargeflowReasons     = []string{"too_expensive", "low_quality", "unused", "too_complex", "missing_features"}
)

// parseDisputeSubscription checks a create body against the documented
// schema and lists every problem. Unknown keys are ignored.
func parseDisputeSubscription(body map[string]any) (*disputeCreate, []string) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	c := &disputeCreate{dates: map[string]*string{}, collectionMethod: "automatically", pricingModel: "fixed_price", status: "active"}

	str := func(key string, required, nullable bool) (string, bool) {
		v, ok := body[key]
		switch {
		case !ok && required:
			bad("%s is required", key)
		case !ok:
		case v == nil && nullable:
		case v == nil:
			bad("%s must not be null", key)
		default:
			s, isStr := v.(string)
			if !isStr {
				bad("%s must be a string", key)
				return "", false
			}
			return s, true
		}
		return "", false
	}
	if s, ok := str("source_id", true, false); ok {
		if n := utf8.RuneCountInString(s); n < 1 || n > 128 {
			bad("source_id must be 1 to 128 characters, got %d", n)
		}
		c.sourceID = s
	}
	if s, ok := str("account_id", false, false); ok {
		if !hex24.MatchString(s) {
			bad("account_id must match ^[0-9a-fA-F]{24}$")
		}
		c.accountID = s
	}
	for _, d := range []struct {
		key      string
		required bool
	}{{"created_at", true}, {"start_date", true}, {"updated_at", false}, {"end_date", false},
		{"cancellation_date", false}, {"trial_start", false}, {"trial_end", false}, {"renews_at", false}} {
		if s, ok := str(d.key, d.required, !d.required); ok {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				bad("%s must be an RFC 3339 date-time", d.key)
				continue
			}
			norm := isoMillis(t)
			c.dates[d.key] = &norm
		}
	}
	enum := func(key string, required, nullable bool, allowed []string) (string, bool) {
		s, ok := str(key, required, nullable)
		if ok && !contains(allowed, s) {
			bad("%s must be one of %s", key, strings.Join(allowed, ", "))
			return "", false
		}
		return s, ok
	}
	if s, ok := enum("frequency", true, false, chargeflowFrequencies); ok {
		c.frequency = s
	}
	switch v, ok := body["frequency_count"]; {
	case !ok:
		bad("frequency_count is required")
	default:
		n, isNum := v.(json.Number)
		f, err := n.Float64()
		if !isNum || err != nil || f != float64(int64(f)) {
			bad("frequency_count must be an integer")
		} else if f < 1 {
			bad("frequency_count must be at least 1")
		} else {
			c.frequencyCount = int64(f)
		}
	}
	if s, ok := enum("collection_method", false, false, chargeflowCollections); ok {
		c.collectionMethod = s
	}
	if s, ok := enum("cancellation_reason", false, true, chargeflowReasons); ok {
		c.cancellationReason = &s
	}
	if s, ok := str("plan_name", false, true); ok {
		c.planName = &s
	}
	// The full lists are unpublished: any non-empty value is taken.
	for _, open := range []struct {
		key string
		dst *string
	}{{"pricing_model", &c.pricingModel}, {"status", &c.status}} {
		if s, ok := str(open.key, false, false); ok {
			if s == "" {
				bad("%s must not be empty", open.key)
				continue
			}
			*open.dst = s
		}
	}
	return c, problems
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

type chargeflowState struct {
	disputes map[string]*ChargeflowDispute // seeded, by lowercase ID
	current  map[string]*stored            // the subscription each dispute holds
}

// dispute returns the seeded dispute id names (nil for an implicit one) and
// whether it exists. It runs with the lock held.
func (c *chargeflowState) dispute(id string, implicit bool) (*ChargeflowDispute, bool) {
	d, ok := c.disputes[id]
	return d, ok || implicit && len(c.disputes) == 0
}

func (c *chargeflowState) init() {
	c.disputes = map[string]*ChargeflowDispute{}
	c.current = map[string]*stored{}
}
