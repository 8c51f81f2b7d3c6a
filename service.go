package subkit

import (
	"fmt"

	"github.com/subkit-go/subkit/internal/validate"
)

// SubscriptionsService creates (and finds) subscriptions on the three APIs.
// Reach it as Client.Subscriptions.
type SubscriptionsService struct {
	client *Client
}

// Format prints only the service's name, for every verb: the client it
// belongs to holds credentials.
func (s SubscriptionsService) Format(f fmt.State, _ rune) {
	_, _ = f.Write([]byte("subkit.SubscriptionsService"))
}

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
