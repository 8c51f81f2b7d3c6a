package subkittest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"
)

// The headers Polar sends with every webhook delivery besides
// Content-Type: Standard Webhooks' three and its User-Agent.
const (
	webhookIDHeader        = "webhook-id"
	webhookTimestampHeader = "webhook-timestamp"
	webhookSignatureHeader = "webhook-signature"
	polarWebhookUserAgent  = "polar.sh webhooks"
)

// NewPolarWebhookSecret returns a fresh webhook secret as Polar makes them
// since 2026-09-08: "whsec_" and the base64 of 32 random bytes, signed the
// standard way (SignPolarWebhook).
func NewPolarWebhookSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "whsec_" + base64.StdEncoding.EncodeToString(b[:])
}

// SignPolarWebhook returns the headers Polar sends with body as the
// delivery of event id made at t, signed with secret the standard way
// (secrets made since 2026-09-08): the HMAC-SHA256 key is the base64 after
// "whsec_" (a secret without the prefix is decoded whole). Use it to test
// your own webhook handler. It panics if that part of secret is not
// base64: such a secret signs with SignPolarWebhookLegacy.
func SignPolarWebhook(secret, id string, t time.Time, body []byte) http.Header {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		panic("subkittest: SignPolarWebhook: the secret after \"whsec_\" is not base64 (a secret made before 2026-09-08 signs with SignPolarWebhookLegacy)")
	}
	return signedWebhookHeader(key, id, t, body)
}

// SignPolarWebhookLegacy is SignPolarWebhook for a secret made before
// 2026-09-08: the HMAC-SHA256 key is the UTF-8 bytes of the whole secret,
// prefix included.
func SignPolarWebhookLegacy(secret, id string, t time.Time, body []byte) http.Header {
	return signedWebhookHeader([]byte(secret), id, t, body)
}

func signedWebhookHeader(key []byte, id string, t time.Time, body []byte) http.Header {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", polarWebhookUserAgent)
	h.Set(webhookIDHeader, id)
	h.Set(webhookTimestampHeader, ts)
	h.Set(webhookSignatureHeader, "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return h
}

// PolarWebhookBody returns the body Polar sends for an event of type typ
// made at t about data: {"type", "timestamp", "data"}, compact, the time as
// Pydantic writes it. data that is a json.RawMessage or []byte is taken as
// JSON as it is (a subscription's Body, say); anything else is encoded. It
// panics if data cannot be encoded as JSON.
func PolarWebhookBody(typ string, t time.Time, data any) []byte {
	var raw []byte
	switch d := data.(type) {
	case json.RawMessage:
		raw = d
	case []byte:
		raw = d
	default:
		var err error
		if raw, err = encodeJSON(data); err != nil {
			panic("subkittest: PolarWebhookBody: data cannot be encoded as JSON: " + err.Error())
		}
	}
	typJSON, _ := encodeJSON(typ) // a string always encodes
	var b bytes.Buffer
	b.WriteString(`{"type":`)
	b.Write(typJSON)
	b.WriteString(`,"timestamp":"` + pyTime(t) + `","data":`)
	b.Write(raw)
	b.WriteString("}")
	return b.Bytes()
}

// NewPolarWebhookRequest returns an incoming POST request (httptest's)
// carrying one webhook event as Polar sends it: a fresh event ID, an event
// of type typ about data (see PolarWebhookBody), made and signed now with
// secret the standard way (see SignPolarWebhook). Serve it to your handler
// with an httptest.ResponseRecorder:
//
//	req := subkittest.NewPolarWebhookRequest(secret, "subscription.canceled", sub.Body)
//	rec := httptest.NewRecorder()
//	handler.ServeHTTP(rec, req)
func NewPolarWebhookRequest(secret, typ string, data any) *http.Request {
	now := time.Now()
	body := PolarWebhookBody(typ, now, data)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	for k, v := range SignPolarWebhook(secret, newUUID4(), now, body) {
		req.Header[k] = v
	}
	return req
}
