package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/subkit-go/subkit/webhook"
)

// FuzzVerify hands Verify any headers and body. It must never panic, must
// refuse with one of its three errors naming no secret, and may accept only
// what one of the receiver's keys really signed — checked here with
// crypto/hmac directly — within the tolerance, decoded as Polar's payload.
func FuzzVerify(f *testing.F) {
	f.Add(vecID, vecTS, sigStd, []byte(vecBody))
	f.Add(vecID, vecTS, sigLegacy, []byte(vecBody))
	f.Add(vecID, vecTS, sigStd2+" "+sigStd, []byte(vecBody))
	f.Add(orderID, vecTS, orderSig, []byte(orderBody))
	f.Add(vecID, "1796551201", sigStd, []byte(vecBody))
	f.Add("", "", "", []byte(nil))
	f.Add("msg", "0", "v1,", []byte("{}"))
	keys := [][]byte{[]byte(stdSecret), mustBase64(f, strings.TrimPrefix(stdSecret, "whsec_")), []byte(legacySecret)}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		r := receiver(t, vecTime, stdSecret, legacySecret)
		ev, err := r.Verify(headers(id, ts, sig), body)
		if err != nil {
			if ev != nil {
				t.Fatal("an event with an error")
			}
			if !errors.Is(err, webhook.ErrMalformed) && !errors.Is(err, webhook.ErrInvalidSignature) && !errors.Is(err, webhook.ErrTimestamp) {
				t.Fatalf("an error of no kind: %v", err)
			}
			for _, s := range []string{stdSecret, legacySecret, strings.TrimPrefix(stdSecret, "whsec_")} {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("the error names a secret: %v", err)
				}
			}
			return
		}
		if !signedByOneOf(keys, id, ts, sig, body) {
			t.Fatalf("accepted a delivery no key signed: id %q ts %q sig %q", id, ts, sig)
		}
		if ev.ID != id || ev.Type == "" || len(ev.Data) == 0 || ev.Data[0] != '{' {
			t.Fatalf("accepted, but the event is not whole: %+v", ev)
		}
	})
}

// signedByOneOf is the Standard Webhooks check, written out on its own.
func signedByOneOf(keys [][]byte, id, ts, sig string, body []byte) bool {
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(id + "." + ts + "."))
		m.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
		for _, s := range strings.Fields(sig) {
			if s == want {
				return true
			}
		}
	}
	return false
}

func mustBase64(f *testing.F, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
