package subkit

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"

	"github.com/google/go-querystring/query"

	"github.com/subkit-go/subkit/internal/validate"
)

// ConnectListStatus filters ListConnect. The type is open: ChatDash may add
// statuses, and any non-empty value is sent as given.
type ConnectListStatus string

// The statuses ChatDash documents for its list filter.
const (
	ConnectListScheduled         ConnectListStatus = "scheduled" // schedules not started yet
	ConnectListTrialing          ConnectListStatus = "trialing"
	ConnectListActive            ConnectListStatus = "active" // the server's default
	ConnectListIncomplete        ConnectListStatus = "incomplete"
	ConnectListIncompleteExpired ConnectListStatus = "incomplete_expired"
	ConnectListPastDue           ConnectListStatus = "past_due"
	ConnectListCanceled          ConnectListStatus = "canceled"
	ConnectListUnpaid            ConnectListStatus = "unpaid"
	ConnectListPaused            ConnectListStatus = "paused"
)

// ConnectListParams filter ListConnect. nil params list the server's default
// (active subscriptions).
type ConnectListParams struct {
	// Status keeps subscriptions in that status; "" means the server's
	// default, active.
	Status ConnectListStatus
	// PageSize is how many subscriptions a page fetches, 1–100; 0 means 100.
	PageSize int
}

type connectListQuery struct {
	Status        ConnectListStatus `url:"status,omitempty"`
	Limit         int               `url:"limit"`
	StartingAfter string            `url:"starting_after,omitempty"`
}

type connectPage struct {
	Subscriptions []*ConnectSubscription `json:"subscriptions"`
	HasMore       bool                   `json:"has_more"`
	NextCursor    *string                `json:"next_cursor"`
}

func connectPath(accountID string) string {
	return "/v1/public/stripe/connect/accounts/" + url.PathEscape(accountID) + "/subscriptions"
}

// GetConnect returns one subscription of the connected account accountID.
// ChatDash's answer here gives the customer as a bare ID (Customer.Email is
// "") and adds Pricing, TotalPrice and TotalUsage. ErrNotFound if there is no
// such subscription.
func (s *SubscriptionsService) GetConnect(ctx context.Context, accountID, subscriptionID string, opts ...CallOption) (*ConnectSubscription, error) {
	cs := collectCallOptions(ChatDash, opts)
	var v validate.Problems
	v.PathID("accountId", accountID)
	v.PathID("subscriptionId", subscriptionID)
	if err := invalid(ChatDash, v); err != nil {
		return nil, err
	}
	out := new(ConnectSubscription)
	err := s.client.do(ctx, &request{api: ChatDash, method: http.MethodGet,
		path: connectPath(accountID) + "/" + url.PathEscape(subscriptionID)}, out, cs)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListConnect returns the subscriptions of the connected account accountID,
// fetching pages (cursor paging) as the loop consumes them: breaking out of
// the loop fetches no further page. An error is yielded once and ends the
// sequence.
//
// It is also how to check by hand whether a ChatDash create whose outcome is
// unknown happened: list ConnectListScheduled and compare the customer,
// product and start date.
func (s *SubscriptionsService) ListConnect(ctx context.Context, accountID string, p *ConnectListParams) iter.Seq2[*ConnectSubscription, error] {
	if p == nil {
		p = &ConnectListParams{}
	}
	var v validate.Problems
	v.PathID("accountId", accountID)
	if p.PageSize < 0 || p.PageSize > 100 {
		v.Add("limit", validate.CodeInvalid, "must be between 1 and 100 (0 for 100), got %d", p.PageSize)
	}
	v.Text("status", string(p.Status), 0, 0)
	if err := invalid(ChatDash, v); err != nil {
		return failed[ConnectSubscription](err)
	}
	limit := p.PageSize
	if limit == 0 {
		limit = 100
	}
	fetch := func(ctx context.Context, cursor string) ([]*ConnectSubscription, string, bool, error) {
		q, err := query.Values(connectListQuery{Status: p.Status, Limit: limit, StartingAfter: cursor})
		if err != nil {
			return nil, "", false, err
		}
		var page connectPage
		err = s.client.do(ctx, &request{api: ChatDash, method: http.MethodGet, path: connectPath(accountID), query: q.Encode()},
			&page, callSettings{})
		if err != nil {
			return nil, "", false, err
		}
		next := ""
		if page.NextCursor != nil {
			next = *page.NextCursor
		}
		if next == "" && page.HasMore && len(page.Subscriptions) > 0 {
			// No cursor given: the last item's ID is Stripe's cursor.
			next = page.Subscriptions[len(page.Subscriptions)-1].ID
		}
		return page.Subscriptions, next, page.HasMore && next != "", nil
	}
	return paginate(ctx, "", fetch, func(cursor string) error {
		return fmt.Errorf("subkit: chatdash: the cursor %q repeats", cursor)
	})
}
