package subkittest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/subkit-go/subkit/subkittest"
)

// TestSignPolarWebhookVectors checks the signing helpers against
// signatures computed by hand (python3's hmac and base64, and openssl for
// the standard one): key base64.b64decode(secret[6:]) for the standard
// scheme, secret.encode() for the legacy one, over "id.timestamp.body".
func TestSignPolarWebhookVectors(t *testing.T) {
	const (
		id   = "5f0e8b1c-3d2a-4b6c-8e9f-0a1b2c3d4e5f"
		body = `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00.123456Z","data":{"id":"0b4e5c8a-1f6d-4e2a-9c3b-7d8e9f0a1b2c","created_at":"2026-12-06T10:00:00.1Z","modified_at":null}}`
	)
	at := time.Unix(1796551200, 0)
	h := subkittest.SignPolarWebhook("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", id, at, []byte(body))
	assert.Equal(t, "v1,4bTW2CSZigC911kGDc07PYIR6DjZesOKw0k2S0Ug7Y4=", h.Get("webhook-signature"))
	assert.Equal(t, id, h.Get("webhook-id"))
	assert.Equal(t, "1796551200", h.Get("webhook-timestamp"))
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "polar.sh webhooks", h.Get("User-Agent"))

	h = subkittest.SignPolarWebhookLegacy("whsec_Kq7ZpR2mXv9LbN4tHc6WsYd1Fg8Ju3Qe5Ao0T1xQ9zA", id, at, []byte(body))
	assert.Equal(t, "v1,UVmEFfnkM51KyckmACRrS7O4ADrjiOYpmhARuE1g+fA=", h.Get("webhook-signature"))

	assert.Panics(t, func() { subkittest.SignPolarWebhook("whsec_Kq7Z*", id, at, []byte(body)) })
}

func TestPolarWebhookBody(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123456789, time.UTC)
	assert.Equal(t, `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00.123456Z","data":{"id":"s"}}`,
		string(subkittest.PolarWebhookBody("subscription.created", at, []byte(`{"id":"s"}`))))
	assert.Equal(t, `{"type":"order.paid","timestamp":"2026-12-06T10:00:00Z","data":{"id":"o","n":1}}`,
		string(subkittest.PolarWebhookBody("order.paid", at.Truncate(time.Second), map[string]any{"id": "o", "n": 1})))
}
