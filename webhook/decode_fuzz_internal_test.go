package webhook

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzDecode hands the decoder any signed body: decoding the payload, the
// subscription of a subscription event, and what ordering reads of it
// must never panic, and must either fail with ErrMalformed (or
// ErrNotSubscription) or give a whole result.
func FuzzDecode(f *testing.F) {
	fixture, err := os.ReadFile("../testdata/polar-subscription.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"type":"subscription.created","timestamp":"2026-12-06T10:00:00.123456Z","data":` + string(fixture) + `}`))
	f.Add([]byte(`{"type":"subscription.updated","timestamp":"2026-12-06T10:00:00Z","data":{"id":"s","created_at":"2026-12-06T10:00:00Z","modified_at":"2026-12-06T10:00:01Z"}}`))
	f.Add([]byte(`{"type":"order.created","timestamp":"2026-12-06T10:00:01Z","data":{"id":"o","total_amount":0}}`))
	f.Add([]byte(`{"type":"subscription.revoked","timestamp":"2026-12-06T10:00:00Z","data":{"id":"s","prices":[{"amount_type":"seat_based","seat_tiers":null}],"discount":{"type":"fixed"}}}`))
	f.Add([]byte(`{"type":"","timestamp":"","data":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := decodeEvent("evt", body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("an error of another kind: %v", err)
			}
			return
		}
		if ev.Type == "" || ev.Timestamp.IsZero() && !strings.Contains(string(body), "0001-01-01") || !json.Valid(ev.Data) || ev.Data[0] != '{' {
			t.Fatalf("decoded, but not whole: %+v", ev)
		}
		sub, err := ev.Subscription()
		switch {
		case !ev.IsSubscription():
			if !errors.Is(err, ErrNotSubscription) {
				t.Fatalf("not a subscription event, but: %v", err)
			}
		case err != nil:
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("an error of another kind: %v", err)
			}
		case sub.ID == "":
			t.Fatal("a subscription without an ID")
		}
		if ref, err := readSubscriptionRef(ev.Data); err == nil && (ref.ID == "" || len(ref.ID) > maxIDLength) {
			t.Fatalf("an ordering reference without a usable ID: %+v", ref)
		}
	})
}
