package webhook_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit/webhook"
)

// Test vectors, computed by hand outside this package's code:
//
//	python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(KEY,
//	    b"<id>.<ts>."+BODY, hashlib.sha256).digest()).decode())'
//
// with KEY base64.b64decode(secret[6:]) for the standard scheme and
// secret.encode() for Polar's legacy one; the standard one was checked again
// with `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f -binary | base64`.
const (
	// standard: "whsec_" + base64(bytes 0..31) and + base64(bytes 100..131)
	stdSecret  = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	std2Secret = "whsec_ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="
	// legacy: "whsec_" + 37 alphanumerics + a 6-character CRC, and the
	// prefix used before 2026-06-29
	legacySecret = "whsec_Kq7ZpR2mXv9LbN4tHc6WsYd1Fg8Ju3Qe5Ao0T1xQ9zA"
	oldSecret    = "polar_whs_Mz3Rq8Vb1Nc6Xw4Ty9Ls2Kd7Hf5Jg0Pa3Ue8I7bK2mC"

	vecID   = "5f0e8b1c-3d2a-4b6c-8e9f-0a1b2c3d4e5f"
	vecTS   = "1796551200" // 2026-12-06T10:00:00Z
	vecBody = `{"type":"subscription.created","timestamp":"2026-12-06T10:00:00.123456Z","data":{"id":"0b4e5c8a-1f6d-4e2a-9c3b-7d8e9f0a1b2c","created_at":"2026-12-06T10:00:00.1Z","modified_at":null}}`

	sigStd         = "v1,4bTW2CSZigC911kGDc07PYIR6DjZesOKw0k2S0Ug7Y4="
	sigStd2        = "v1,2W991PYUZ2XK0zspdrieU0Os2Nw9Etk+DtmaOr+yAK0="
	sigLegacy      = "v1,UVmEFfnkM51KyckmACRrS7O4ADrjiOYpmhARuE1g+fA="
	sigOld         = "v1,sC5Z6xlaMfrQ24J+HjmvMWw8no0cIgFnK65YcJtw7xM="
	sigStdAsLegacy = "v1,ax9Y1PhVPxW7c580FzZz/p+pKsCytoKtjALOjzFJANk=" // key: stdSecret's own bytes

	// Another event, of a type this package names no constant for.
	orderID   = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
	orderBody = `{"type":"order.created","timestamp":"2026-12-06T10:00:01Z","data":{"id":"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f","total_amount":0}}`
	orderSig  = "v1,Rmh0+eNhvfd9dyZ6FlqMxkEOEosNcnt7PyI4xRUHzjE=" // stdSecret
)

// vecTime is vecTS as a time.
var vecTime = time.Unix(1796551200, 0)

func headers(id, ts, sig string) http.Header {
	h := http.Header{}
	if id != "" {
		h.Set("webhook-id", id)
	}
	if ts != "" {
		h.Set("webhook-timestamp", ts)
	}
	if sig != "" {
		h.Set("webhook-signature", sig)
	}
	return h
}

// receiver returns a Receiver of secrets whose clock reads at.
func receiver(t *testing.T, at time.Time, secrets ...string) *webhook.Receiver {
	t.Helper()
	r, err := webhook.NewPolarReceiver(secrets, webhook.WithClock(func() time.Time { return at }))
	require.NoError(t, err)
	return r
}

func TestVerifyBothKeySchemes(t *testing.T) {
	for _, tc := range []struct {
		name, secret, sig string
	}{
		{"standard: base64 after whsec_", stdSecret, sigStd},
		{"standard, another secret", std2Secret, sigStd2},
		{"legacy: the whole secret's bytes", legacySecret, sigLegacy},
		{"legacy, polar_whs_ prefix", oldSecret, sigOld},
		{"legacy, a secret that is also valid base64", stdSecret, sigStdAsLegacy},
		{"standard, a secret given without whsec_", strings.TrimPrefix(stdSecret, "whsec_"), sigStd},
		{"white space around the secret", "  " + stdSecret + "\n", sigStd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := receiver(t, vecTime, tc.secret).Verify(headers(vecID, vecTS, tc.sig), []byte(vecBody))
			require.NoError(t, err)
			assert.Equal(t, vecID, ev.ID)
			assert.Equal(t, webhook.SubscriptionCreated, ev.Type)
			assert.Equal(t, time.Date(2026, 12, 6, 10, 0, 0, 123456000, time.UTC), ev.Timestamp.UTC())
			assert.JSONEq(t, `{"id":"0b4e5c8a-1f6d-4e2a-9c3b-7d8e9f0a1b2c","created_at":"2026-12-06T10:00:00.1Z","modified_at":null}`, string(ev.Data))
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	// The new secret first, the one it replaced second: deliveries signed
	// with either pass, whichever scheme each uses.
	r := receiver(t, vecTime, std2Secret, legacySecret)
	for _, sig := range []string{sigStd2, sigLegacy} {
		_, err := r.Verify(headers(vecID, vecTS, sig), []byte(vecBody))
		assert.NoError(t, err, sig)
	}
	// A delivery signed with a secret the receiver does not hold fails.
	for _, sig := range []string{sigStd, sigOld, sigStdAsLegacy} {
		_, err := r.Verify(headers(vecID, vecTS, sig), []byte(vecBody))
		assert.ErrorIs(t, err, webhook.ErrInvalidSignature, sig)
	}
	// Once the old secret is dropped, its deliveries fail.
	_, err := receiver(t, vecTime, std2Secret).Verify(headers(vecID, vecTS, sigLegacy), []byte(vecBody))
	assert.ErrorIs(t, err, webhook.ErrInvalidSignature)
}

func TestVerifyToleranceEdges(t *testing.T) {
	for _, tc := range []struct {
		name      string
		now       time.Time
		tolerance time.Duration // 0: the default
		wantErr   error
	}{
		{"now", vecTime, 0, nil},
		{"5 min later: the edge, accepted", vecTime.Add(5 * time.Minute), 0, nil},
		{"5 min and 0.9 s later: whole seconds, accepted", vecTime.Add(5*time.Minute + 900*time.Millisecond), 0, nil},
		{"5 min 1 s later", vecTime.Add(5*time.Minute + time.Second), 0, webhook.ErrTimestamp},
		{"5 min earlier: the edge, accepted", vecTime.Add(-5 * time.Minute), 0, nil},
		{"5 min 1 s earlier", vecTime.Add(-5*time.Minute - time.Second), 0, webhook.ErrTimestamp},
		{"a day later", vecTime.Add(24 * time.Hour), 0, webhook.ErrTimestamp},
		{"30 s later, tolerance 30 s", vecTime.Add(30 * time.Second), 30 * time.Second, nil},
		{"31 s later, tolerance 30 s", vecTime.Add(31 * time.Second), 30 * time.Second, webhook.ErrTimestamp},
		{"1 h later, tolerance 2 h", vecTime.Add(time.Hour), 2 * time.Hour, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []webhook.ReceiverOption{webhook.WithClock(func() time.Time { return tc.now })}
			if tc.tolerance != 0 {
				opts = append(opts, webhook.WithTolerance(tc.tolerance))
			}
			r, err := webhook.NewPolarReceiver([]string{stdSecret}, opts...)
			require.NoError(t, err)
			_, err = r.Verify(headers(vecID, vecTS, sigStd), []byte(vecBody))
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

func TestVerifyTimestampCheckedAfterSignature(t *testing.T) {
	// A forged delivery is refused as a forgery, however old: ErrTimestamp
	// says only that an authentic delivery is out of date.
	r := receiver(t, vecTime.Add(time.Hour), stdSecret)
	_, err := r.Verify(headers(vecID, vecTS, sigStd2), []byte(vecBody))
	assert.ErrorIs(t, err, webhook.ErrInvalidSignature)
	assert.NotErrorIs(t, err, webhook.ErrTimestamp)
}

func TestVerifyTampering(t *testing.T) {
	r := receiver(t, vecTime, stdSecret)
	flipped := []byte(strings.TrimPrefix(sigStd, "v1,"))
	flipped[0] ^= 1 // '4' → '5': another valid base64 signature
	for _, tc := range []struct {
		name         string
		id, ts, sig  string
		body         string
		wantErr      error
		wantReadable bool
	}{
		{"a body byte", vecID, vecTS, sigStd, strings.Replace(vecBody, "created", "revoked", 1), webhook.ErrInvalidSignature, false},
		{"the body re-encoded", vecID, vecTS, sigStd, strings.Replace(vecBody, `":"`, `": "`, 1), webhook.ErrInvalidSignature, false},
		{"a trailing newline", vecID, vecTS, sigStd, vecBody + "\n", webhook.ErrInvalidSignature, false},
		{"the id", "5f0e8b1c-3d2a-4b6c-8e9f-0a1b2c3d4e5e", vecTS, sigStd, vecBody, webhook.ErrInvalidSignature, false},
		{"the timestamp, by a second", vecID, "1796551201", sigStd, vecBody, webhook.ErrInvalidSignature, false},
		{"the timestamp, a leading zero", vecID, "0" + vecTS, sigStd, vecBody, webhook.ErrInvalidSignature, false},
		{"a signature bit", vecID, vecTS, "v1," + string(flipped), vecBody, webhook.ErrInvalidSignature, false},
		{"the signature's version", vecID, vecTS, "v2," + strings.TrimPrefix(sigStd, "v1,"), vecBody, webhook.ErrInvalidSignature, false},
		{"the signature truncated", vecID, vecTS, sigStd[:20], vecBody, webhook.ErrInvalidSignature, false},
		{"another event's signature", vecID, vecTS, orderSig, vecBody, webhook.ErrInvalidSignature, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := r.Verify(headers(tc.id, tc.ts, tc.sig), []byte(tc.body))
			assert.Nil(t, ev)
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
}

func TestVerifyMissingAndMalformedHeaders(t *testing.T) {
	r := receiver(t, vecTime, stdSecret)
	for _, tc := range []struct {
		name    string
		h       http.Header
		body    string
		wantErr error
	}{
		{"no headers", http.Header{}, vecBody, webhook.ErrMalformed},
		{"no webhook-id", headers("", vecTS, sigStd), vecBody, webhook.ErrMalformed},
		{"no webhook-timestamp", headers(vecID, "", sigStd), vecBody, webhook.ErrMalformed},
		{"no webhook-signature", headers(vecID, vecTS, ""), vecBody, webhook.ErrInvalidSignature},
		{"a timestamp in milliseconds' shape but not digits", headers(vecID, "1796551200.5", sigStd), vecBody, webhook.ErrMalformed},
		{"a negative timestamp", headers(vecID, "-1", sigStd), vecBody, webhook.ErrMalformed},
		{"an RFC 3339 timestamp", headers(vecID, "2026-12-06T10:00:00Z", sigStd), vecBody, webhook.ErrMalformed},
		{"an id with a space", headers("5f0e8b1c 3d2a", vecTS, sigStd), vecBody, webhook.ErrMalformed},
		{"an id of 257 bytes", headers(strings.Repeat("a", 257), vecTS, sigStd), vecBody, webhook.ErrMalformed},
		{"a signature without version", headers(vecID, vecTS, strings.TrimPrefix(sigStd, "v1,")), vecBody, webhook.ErrInvalidSignature},
		{"a signature not base64", headers(vecID, vecTS, "v1,not*base64"), vecBody, webhook.ErrInvalidSignature},
		{"33 signatures", headers(vecID, vecTS, strings.Repeat(sigStd2+" ", 32)+sigStd), vecBody, webhook.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := r.Verify(tc.h, []byte(tc.body))
			assert.Nil(t, ev)
			assert.ErrorIs(t, err, tc.wantErr)
		})
	}
	t.Run("two webhook-id headers", func(t *testing.T) {
		h := headers(vecID, vecTS, sigStd)
		h.Add("webhook-id", vecID)
		_, err := r.Verify(h, []byte(vecBody))
		assert.ErrorIs(t, err, webhook.ErrMalformed)
	})
	t.Run("header names in any case, in a map built by hand", func(t *testing.T) {
		h := http.Header{"webhook-id": {vecID}, "WEBHOOK-TIMESTAMP": {vecTS}, "Webhook-Signature": {sigStd}}
		_, err := r.Verify(h, []byte(vecBody))
		assert.NoError(t, err)
	})
}

func TestVerifySeveralSignatures(t *testing.T) {
	r := receiver(t, vecTime, stdSecret)
	for _, sig := range []string{
		sigStd2 + " " + sigStd,                                     // one of two matches
		sigStd + " " + sigStd2,                                     // in either place
		"v1a,c29tZXRoaW5nIGFzeW1tZXRyaWM= " + sigStd,               // another scheme is skipped
		"v1,garbage " + sigStd,                                     // an unreadable one too
		sigOld + "  " + sigLegacy + "   " + sigStd2 + " " + sigStd, // several spaces
	} {
		_, err := r.Verify(headers(vecID, vecTS, sig), []byte(vecBody))
		assert.NoError(t, err, sig)
	}
	// The header sent twice counts as one list.
	h := headers(vecID, vecTS, sigStd2)
	h.Add("webhook-signature", sigStd)
	_, err := r.Verify(h, []byte(vecBody))
	assert.NoError(t, err)
	// None matching: refused.
	_, err = r.Verify(headers(vecID, vecTS, sigStd2+" "+sigLegacy), []byte(vecBody))
	assert.ErrorIs(t, err, webhook.ErrInvalidSignature)
}

func TestVerifyBodyBound(t *testing.T) {
	r, err := webhook.NewPolarReceiver([]string{stdSecret}, webhook.WithClock(func() time.Time { return vecTime }),
		webhook.WithMaxBodySize(len(vecBody)))
	require.NoError(t, err)
	_, err = r.Verify(headers(vecID, vecTS, sigStd), []byte(vecBody))
	assert.NoError(t, err, "a body of exactly the limit")
	_, err = r.Verify(headers(vecID, vecTS, sigStd), []byte(vecBody+" "))
	assert.ErrorIs(t, err, webhook.ErrMalformed, "a byte more")
}

func TestVerifyOtherTypesPassThrough(t *testing.T) {
	ev, err := receiver(t, vecTime, stdSecret).Verify(headers(orderID, vecTS, orderSig), []byte(orderBody))
	require.NoError(t, err)
	assert.Equal(t, "order.created", ev.Type)
	assert.Equal(t, orderID, ev.ID)
	assert.JSONEq(t, `{"id":"7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f","total_amount":0}`, string(ev.Data))
	assert.False(t, ev.IsSubscription())
	_, err = ev.Subscription()
	assert.ErrorIs(t, err, webhook.ErrNotSubscription)
}

func TestNewPolarReceiverRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []string
		opts    []webhook.ReceiverOption
	}{
		{"no secret", nil, nil},
		{"an empty secret", []string{stdSecret, " "}, nil},
		{"a zero tolerance", []string{stdSecret}, []webhook.ReceiverOption{webhook.WithTolerance(0)}},
		{"a negative tolerance", []string{stdSecret}, []webhook.ReceiverOption{webhook.WithTolerance(-time.Second)}},
		{"a nil clock", []string{stdSecret}, []webhook.ReceiverOption{webhook.WithClock(nil)}},
		{"a zero body size", []string{stdSecret}, []webhook.ReceiverOption{webhook.WithMaxBodySize(0)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := webhook.NewPolarReceiver(tc.secrets, tc.opts...)
			assert.Nil(t, r)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), stdSecret)
		})
	}
}

// TestNoSecretLeaks prints everything a caller can get hold of — the
// receiver, every error Verify returns — and looks for any secret or key.
func TestNoSecretLeaks(t *testing.T) {
	secrets := []string{stdSecret, legacySecret}
	r := receiver(t, vecTime, secrets...)
	var seen []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		seen = append(seen, fmt.Sprintf(verb, r), fmt.Sprintf(verb, *r))
	}
	for _, h := range []http.Header{
		headers(vecID, vecTS, sigStd2), headers(vecID, "1", sigStd), headers("", vecTS, sigStd),
		headers(vecID, vecTS, ""), headers(vecID, vecTS, "v1,garbage"),
	} {
		_, err := r.Verify(h, []byte(vecBody))
		require.Error(t, err)
		seen = append(seen, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	}
	forbidden := append([]string{}, secrets...)
	forbidden = append(forbidden, strings.TrimPrefix(stdSecret, "whsec_"), strings.TrimPrefix(legacySecret, "whsec_"),
		"\\x00\\x01\\x02\\x03", "0x0, 0x1, 0x2, 0x3", "0, 1, 2, 3, 4", // the standard key's bytes as %v and %#v print them
		strings.TrimPrefix(sigStd, "v1,"))
	for _, s := range seen {
		for _, f := range forbidden {
			assert.NotContains(t, s, f)
		}
	}
	assert.True(t, errors.Is(func() error { _, err := r.Verify(http.Header{}, nil); return err }(), webhook.ErrMalformed))
}
