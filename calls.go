package subkit

// CallOption changes one call. Make one with WithResponseInfo.
type CallOption struct {
	apply func(*callSettings)
}

type callSettings struct {
	info *ResponseInfo
}

func collectCallOptions(opts []CallOption) callSettings {
	var cs callSettings
	for _, o := range opts {
		if o.apply != nil {
			o.apply(&cs)
		}
	}
	return cs
}

// WithResponseInfo fills *dst when the call returns, error or not: the status
// and request ID of the answer, the number of attempts and, for a create that
// succeeded, its Outcome. A nil dst is ignored.
func WithResponseInfo(dst *ResponseInfo) CallOption {
	return CallOption{apply: func(cs *callSettings) { cs.info = dst }}
}

// ResponseInfo describes how a call went, for logs and support tickets.
type ResponseInfo struct {
	API API
	// StatusCode is the status of the answer the result (or error) came
	// from; 0 when no answer arrived.
	StatusCode int
	// RequestID is the API's ID of that answer, for its support; "" if none.
	RequestID string
	// Attempts counts the attempts made, a refused connection included.
	Attempts int
	// Outcome says how a create's result came about; "" for look-ups and
	// failed calls.
	Outcome Outcome
}

// Outcome says how a create's result came about.
type Outcome string

// The outcomes of a create that returned a subscription.
const (
	// OutcomeCreated: this call's request created it and the answer arrived.
	OutcomeCreated Outcome = "created"
)
