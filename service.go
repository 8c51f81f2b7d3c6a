package subkit

import (
	"github.com/subkit-go/subkit/internal/validate"
)

// SubscriptionsService creates (and finds) subscriptions on the three APIs.
// Reach it as Client.Subscriptions.
type SubscriptionsService struct {
	client *Client
}

// String names the service without printing the client it belongs to.
func (s *SubscriptionsService) String() string { return "subkit.SubscriptionsService" }

// invalid turns the problems validation found into the error a call returns,
// or nil when there are none.
func invalid(api API, problems validate.Problems) error {
	if len(problems) == 0 {
		return nil
	}
	fields := make([]FieldError, len(problems))
	for i, p := range problems {
		fields[i] = FieldError(p)
	}
	return &ValidationError{API: api, Fields: fields}
}
