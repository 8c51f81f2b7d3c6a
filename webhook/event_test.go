package webhook_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
	"github.com/subkit-go/subkit/subkittest"
	"github.com/subkit-go/subkit/webhook"
)

// verifyEvent signs body as Polar does and verifies it.
func verifyEvent(t *testing.T, body []byte) *webhook.Event {
	t.Helper()
	now := time.Now()
	ev, err := receiver(t, now, stdSecret).Verify(subkittest.SignPolarWebhook(stdSecret, "evt-decode", now, body), body)
	require.NoError(t, err)
	return ev
}

// TestEventSubscriptionIsTheAPIsSubscription: a subscription event's data
// decodes into the very subkit.Subscription the API's answer does —
// the whole fixture, prices of both kinds, a discount, meters, metadata
// with integers kept as integers.
func TestEventSubscriptionIsTheAPIsSubscription(t *testing.T) {
	fixture, err := os.ReadFile("../testdata/polar-subscription.json")
	require.NoError(t, err)
	var want subkit.Subscription
	require.NoError(t, json.Unmarshal(fixture, &want))

	for _, typ := range []string{webhook.SubscriptionCreated, webhook.SubscriptionActive, webhook.SubscriptionUpdated,
		webhook.SubscriptionCanceled, webhook.SubscriptionUncanceled, webhook.SubscriptionRevoked, webhook.SubscriptionPastDue,
		webhook.SubscriptionPaused, webhook.SubscriptionResumed, webhook.SubscriptionCycled, "subscription.some_future_event"} {
		ev := verifyEvent(t, subkittest.PolarWebhookBody(typ, t0, json.RawMessage(fixture)))
		assert.Equal(t, typ, ev.Type)
		assert.True(t, ev.IsSubscription())
		got, err := ev.Subscription()
		require.NoError(t, err, typ)
		assert.Equal(t, want, *got, typ)
	}
	ev := verifyEvent(t, subkittest.PolarWebhookBody(webhook.SubscriptionCreated, t0, json.RawMessage(fixture)))
	got, err := ev.Subscription()
	require.NoError(t, err)
	// Spot checks, so that equality with a broken decoder cannot pass.
	require.Len(t, got.Prices, 2)
	assert.Equal(t, subkit.AmountTypeFixed, got.Prices[0].AmountType)
	assert.Equal(t, subkit.AmountTypeMeteredUnit, got.Prices[1].AmountType)
	assert.Equal(t, "0.0125", got.Prices[1].UnitAmount)
	require.NotNil(t, got.Discount)
	assert.Equal(t, int64(3), got.Metadata["seats_hint"])
	assert.Equal(t, 0.75, got.Metadata["ratio"])
}

// TestEventSubscriptionOtherShapes: the price and discount unions told
// apart by their discriminators, as in the API's answers.
func TestEventSubscriptionOtherShapes(t *testing.T) {
	fixture, err := os.ReadFile("../testdata/polar-subscription.json")
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(fixture, &m))
	prices := m["prices"].([]any)
	base := prices[0].(map[string]any)
	with := func(extra map[string]any) map[string]any {
		p := map[string]any{}
		for k, v := range base {
			p[k] = v
		}
		delete(p, "price_amount")
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	m["prices"] = []any{
		with(map[string]any{"amount_type": "custom", "minimum_amount": 500, "maximum_amount": nil, "preset_amount": 1000}),
		with(map[string]any{"amount_type": "seat_based", "seat_tiers": map[string]any{"seat_tier_type": "volume",
			"tiers": []any{map[string]any{"min_seats": 1, "max_seats": nil, "price_per_seat": 900}}, "minimum_seats": 1, "maximum_seats": nil}}),
		with(map[string]any{"amount_type": "free"}),
		with(map[string]any{"amount_type": "some_future_kind"}),
	}
	discount := m["discount"].(map[string]any)
	delete(discount, "basis_points")
	discount["type"], discount["duration"], discount["duration_in_months"] = "fixed", "repeating", 3
	discount["amount"], discount["currency"], discount["amounts"] = 500, "usd", map[string]any{"usd": 500}
	data, err := json.Marshal(m)
	require.NoError(t, err)

	var want subkit.Subscription
	require.NoError(t, json.Unmarshal(data, &want))
	got, err := verifyEvent(t, subkittest.PolarWebhookBody(webhook.SubscriptionUpdated, t0, json.RawMessage(data))).Subscription()
	require.NoError(t, err)
	assert.Equal(t, want, *got)
	require.Len(t, got.Prices, 4)
	assert.Equal(t, []subkit.AmountType{subkit.AmountTypeCustom, subkit.AmountTypeSeatBased, subkit.AmountTypeFree, "some_future_kind"},
		[]subkit.AmountType{got.Prices[0].AmountType, got.Prices[1].AmountType, got.Prices[2].AmountType, got.Prices[3].AmountType})
	require.NotNil(t, got.Discount)
	assert.Equal(t, "fixed", string(got.Discount.Type))
}

func TestEventSubscriptionRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, typ string
		data      any
		want      error
	}{
		{"another type", "order.created", map[string]any{"id": "x"}, webhook.ErrNotSubscription},
		{"no id", webhook.SubscriptionUpdated, map[string]any{"status": "active"}, webhook.ErrMalformed},
		{"a wrong type", webhook.SubscriptionUpdated, map[string]any{"id": "x", "amount": "ten"}, webhook.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := verifyEvent(t, subkittest.PolarWebhookBody(tc.typ, t0, tc.data))
			sub, err := ev.Subscription()
			assert.Nil(t, sub)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestEventPayloadRules(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"all keys", `{"type":"x.y","timestamp":"2026-12-06T10:00:00Z","data":{}}`, true},
		{"an offset time, unknown keys", `{"type":"x.y","timestamp":"2026-12-06T11:00:00.5+01:00","data":{"a":1},"more":[]}`, true},
		{"no type", `{"timestamp":"2026-12-06T10:00:00Z","data":{}}`, false},
		{"an empty type", `{"type":"","timestamp":"2026-12-06T10:00:00Z","data":{}}`, false},
		{"a type that is not a string", `{"type":1,"timestamp":"2026-12-06T10:00:00Z","data":{}}`, false},
		{"no timestamp", `{"type":"x.y","data":{}}`, false},
		{"a date only", `{"type":"x.y","timestamp":"2026-12-06","data":{}}`, false},
		{"no data", `{"type":"x.y","timestamp":"2026-12-06T10:00:00Z"}`, false},
		{"null data", `{"type":"x.y","timestamp":"2026-12-06T10:00:00Z","data":null}`, false},
		{"array data", `{"type":"x.y","timestamp":"2026-12-06T10:00:00Z","data":[]}`, false},
		{"not JSON", `type=x.y`, false},
		{"an array", `[]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			body := []byte(tc.body)
			ev, err := receiver(t, now, stdSecret).Verify(subkittest.SignPolarWebhook(stdSecret, "evt-p", now, body), body)
			if tc.ok {
				require.NoError(t, err)
				assert.Equal(t, "x.y", ev.Type)
				assert.Equal(t, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC), ev.Timestamp.Truncate(time.Second).UTC())
			} else {
				assert.ErrorIs(t, err, webhook.ErrMalformed)
			}
		})
	}
}
