package main

import (
	"github.com/subkit-go/subkit"
)

// sharedState is what -redis and -rate add to the client: the limiters and
// the idempotency store, and how to release them.
type sharedState struct {
	options []subkit.Option
	close   func()
}

// shared makes the limiters of -rate, each for this process alone.
// TODO(redis): -redis shares them and the store through subkitredis.
func (c *config) shared(_ *scan) (*sharedState, error) {
	s := &sharedState{close: func() {}}
	for api, r := range c.rates {
		s.options = append(s.options, subkit.WithRateLimiter(api, subkit.NewLimiter(r.events, r.per)))
	}
	return s, nil
}
