package subkittest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/subkit-go/subkit"
)

// chatdashListStatuses are the values the list's status filter takes.
var chatdashListStatuses = []string{"scheduled", "trialing", "active", "incomplete", "incomplete_expired",
	"past_due", "canceled", "unpaid", "paused"}

// chatdashListStatus maps a held schedule's status to the list filter that
// finds it: a schedule not started yet is "scheduled", a started one
// "active". The fake holds no other kind.
func chatdashListStatus(scheduleStatus string) string {
	if scheduleStatus == "not_started" {
		return "scheduled"
	}
	return scheduleStatus
}

// chatdashRow is a held schedule of one account.
type chatdashRow struct {
	body   json.RawMessage
	id     string
	status string // as the create answered it
}

// chatdashRows returns the account's subscriptions look-ups see now (see
// WithReadLag), newest first.
func (s *Server) chatdashRows(accountID string) []chatdashRow {
	s.mu.Lock()
	held := s.visible(subkit.ChatDash, s.now())
	s.mu.Unlock()
	var rows []chatdashRow
	for i := len(held) - 1; i >= 0; i-- {
		st := held[i]
		if st.chatdash.AccountID != accountID {
			continue
		}
		var head struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(st.body, &head)
		rows = append(rows, chatdashRow{body: st.body, id: st.id, status: head.Status})
	}
	return rows
}

// accountUnknown is the 404 for an account the agency does not have.
func (h chatdashHandler) accountUnknown(accountID string) *outcome {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.cd.accountExists(accountID, s.implicit) {
		return h.fail(http.StatusNotFound, "Connected account not found")
	}
	return nil
}

type chatdashListJSON struct {
	Subscriptions []json.RawMessage `json:"subscriptions"`
	HasMore       bool              `json:"has_more"`
	NextCursor    *string           `json:"next_cursor"`
}

// list serves GET …/accounts/{accountId}/subscriptions: the account's
// subscriptions of one status, newest first, a page of limit after the
// starting_after cursor.
func (h chatdashHandler) list(x *exchange, accountID string) *outcome {
	q := parseQuery(x.r.URL.RawQuery)
	status := "active"
	if v, ok := q.last("status"); ok && v != "" {
		if !slices.Contains(chatdashListStatuses, v) {
			return h.fail(http.StatusBadRequest, "Invalid status: must be one of "+strings.Join(chatdashListStatuses, ", "))
		}
		status = v
	}
	limit := 100
	if v, ok := q.last("limit"); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return h.fail(http.StatusBadRequest, "Invalid limit: must be an integer between 1 and 100")
		}
		limit = n
	}
	if o := h.accountUnknown(accountID); o != nil {
		return o
	}
	rows := h.s.chatdashRows(accountID)
	if cursor, ok := q.last("starting_after"); ok && cursor != "" {
		i := slices.IndexFunc(rows, func(r chatdashRow) bool { return r.id == cursor })
		if i < 0 {
			return h.fail(http.StatusBadRequest, "Invalid starting_after: no subscription "+cursor+" on this account")
		}
		rows = rows[i+1:]
	}
	out := chatdashListJSON{Subscriptions: []json.RawMessage{}}
	var lastID string
	for _, r := range rows {
		if chatdashListStatus(r.status) != status {
			continue
		}
		if len(out.Subscriptions) == limit {
			out.HasMore, out.NextCursor = true, &lastID
			break
		}
		out.Subscriptions = append(out.Subscriptions, r.body)
		lastID = r.id
	}
	return jsonAnswer(http.StatusOK, h.contentType(), out)
}

// The get endpoint's subscription: the create's keys with customer as a bare
// ID, then pricing and the totals.
type connectSubscriptionDetailJSON struct {
	connectSubscriptionJSON[string]
	Pricing    connectPricingJSON `json:"pricing"`
	TotalPrice int64              `json:"totalPrice"`
	TotalUsage float64            `json:"totalUsage"`
}

type connectPricingJSON struct {
	Amount     string  `json:"amount"`
	Overage    string  `json:"overage"`
	UsageLimit float64 `json:"usageLimit"`
}

// get serves GET …/accounts/{accountId}/subscriptions/{subscriptionId}.
// Nothing has been billed or used in the fake: pricing is
// {"amount":"0.00","overage":"0.00","usageLimit":0} and both totals 0.
func (h chatdashHandler) get(accountID, subID string) *outcome {
	if o := h.accountUnknown(accountID); o != nil {
		return o
	}
	for _, r := range h.s.chatdashRows(accountID) {
		if r.id != subID {
			continue
		}
		var c connectSubscriptionJSON[connectCustomerJSON]
		if err := json.Unmarshal(r.body, &c); err != nil {
			break
		}
		detail := connectSubscriptionDetailJSON{Pricing: connectPricingJSON{Amount: "0.00", Overage: "0.00"}}
		detail.connectSubscriptionJSON = connectSubscriptionJSON[string]{
			ID: c.ID, Type: c.Type, Status: c.Status, Customer: c.Customer.ID,
			CurrentPeriodStart: c.CurrentPeriodStart, CurrentPeriodEnd: c.CurrentPeriodEnd, StartDate: c.StartDate,
			Created: c.Created, CollectionMethod: c.CollectionMethod, CancelAtPeriodEnd: c.CancelAtPeriodEnd,
			CanceledAt: c.CanceledAt, Product: c.Product, AutomaticTax: c.AutomaticTax, Coupon: c.Coupon,
			PriceIDs: c.PriceIDs, Agents: c.Agents, CancelAtPeriodEndDisplay: c.CancelAtPeriodEndDisplay,
		}
		return jsonAnswer(http.StatusOK, h.contentType(), detail)
	}
	return h.fail(http.StatusNotFound, "Subscription not found")
}
