package subkittest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/subkit-go/subkit"
)

// WithChargeflowSubscriptionsArray makes the Chargeflow fake answer the
// dispute look-up's expansion in the other shape that Chargeflow's
// reference leaves open: "subscriptions": [ … ] (the dispute's subscription
// as the only element, [] when it has none) instead of "subscription":
// {…} or null. Use it to test that a client accepts both.
func WithChargeflowSubscriptionsArray() ServerOption {
	return func(s *Server) { s.cfArray = true }
}

// The dispute object, keys in the order Chargeflow's reference lists them.
type chargeflowDisputeJSON struct {
	ID        string  `json:"id"`
	Source    string  `json:"source"`
	SourceID  string  `json:"source_id"`
	CreatedAt string  `json:"created_at"`
	Reason    string  `json:"reason"`
	DueBy     string  `json:"due_by"`
	Amount    float64 `json:"amount"`
	Currency  string  `json:"currency"`
	Status    string  `json:"status"`
	Stage     string  `json:"stage"`
	// Subscription is absent without ?expand=subscription, and null (the
	// JSON text) for a dispute without one.
	Subscription  json.RawMessage    `json:"subscription,omitempty"`
	Subscriptions *[]json.RawMessage `json:"subscriptions,omitempty"`
}

var chargeflowDisputeReasons = []string{"fraudulent", "product_not_received", "subscription_canceled", "unrecognized",
	"duplicate", "credit_not_processed", "product_unacceptable", "general"}

// disputeDetails returns the dispute's own fields: the seeded ones, and for
// the rest values drawn from the dispute ID, so that a dispute reads the
// same in every answer (and on every server).
func disputeDetails(id string, seeded *ChargeflowDispute) chargeflowDisputeJSON {
	sum := sha256.Sum256([]byte(id))
	created := time.Unix(int64(binary.BigEndian.Uint32(mustHex(id)[:4])), 0).UTC()
	d := chargeflowDisputeJSON{
		ID: id, Source: "stripe", SourceID: "dp_" + base62Of(sum[:24]),
		Reason:   chargeflowDisputeReasons[int(sum[24])%len(chargeflowDisputeReasons)],
		Amount:   float64(1000+int(binary.BigEndian.Uint16(sum[25:27]))%49000) / 100,
		Currency: "USD", Status: "needs_response", Stage: "Chargeback",
	}
	due := created.AddDate(0, 0, 7+int(sum[27])%14)
	if seeded != nil {
		for _, f := range []struct{ dst, src *string }{{&d.Source, &seeded.Source}, {&d.SourceID, &seeded.SourceID},
			{&d.Reason, &seeded.Reason}, {&d.Currency, &seeded.Currency}, {&d.Status, &seeded.Status}, {&d.Stage, &seeded.Stage}} {
			if *f.src != "" {
				*f.dst = *f.src
			}
		}
		if seeded.Amount != 0 {
			d.Amount = seeded.Amount
		}
		if !seeded.CreatedAt.IsZero() {
			created = seeded.CreatedAt
		}
		if !seeded.DueBy.IsZero() {
			due = seeded.DueBy
		}
	}
	d.CreatedAt, d.DueBy = isoMillis(created), isoMillis(due)
	return d
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) < 4 {
		panic("subkittest: not a dispute ID: " + s)
	}
	return b
}

func base62Of(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = base62[int(c)%len(base62)]
	}
	return string(out)
}

// expands reports whether the query asks to expand what: expand=a,b and
// repeated expand (or expand[]) keys are all read.
func expands(q query, what string) bool {
	for _, key := range []string{"expand", "expand[]"} {
		for _, v := range q.all(key) {
			for _, part := range strings.Split(v, ",") {
				if strings.TrimSpace(part) == what {
					return true
				}
			}
		}
	}
	return false
}

// dispute serves GET /disputes/{disputeId}: the dispute, with its
// subscription (the JSON its create answered) when expand asks for it: the
// newest one look-ups see (see WithReadLag). An unknown dispute is 404, as
// for the create.
func (h chargeflowHandler) dispute(x *exchange, id string) *outcome {
	s := h.s
	s.mu.Lock()
	seeded, exists := s.cf.dispute(id, s.implicit)
	var body json.RawMessage
	for _, st := range s.visible(subkit.Chargeflow, s.now()) {
		if st.chargeflow.DisputeID == id {
			body = st.body
		}
	}
	s.mu.Unlock()
	if !exists {
		return h.fail(x, http.StatusNotFound, "Dispute not found")
	}
	d := disputeDetails(id, seeded)
	if expands(parseQuery(x.r.URL.RawQuery), "subscription") {
		switch {
		case s.cfArray && body == nil:
			d.Subscriptions = &[]json.RawMessage{}
		case s.cfArray:
			d.Subscriptions = &[]json.RawMessage{body}
		case body == nil:
			d.Subscription = json.RawMessage("null")
		default:
			d.Subscription = body
		}
	}
	return jsonAnswer(http.StatusOK, h.contentType(), d)
}
