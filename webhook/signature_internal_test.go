package webhook

import (
	"net/http"
	"testing"
)

// TestStandardWebhooksSpecVector checks the signature against the example
// of the Standard Webhooks specification (its README and reference
// libraries' tests): secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, message
// msg_p5jXN8AQM9LWM0D4loKWxJek at 1614265330 with body {"test": 2432232314}
// signs as v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=. The body is not
// Polar's payload, so the signature is checked on its own.
func TestStandardWebhooksSpecVector(t *testing.T) {
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	sh, err := readSignedHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"test": 2432232314}`)
	if !sh.signedByAny(secretKeys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), body) {
		t.Error("the specification's example does not verify")
	}
	if sh.signedByAny(secretKeys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSx"), body) {
		t.Error("the example verifies under another secret")
	}
	if sh.signedByAny(secretKeys("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), []byte(`{"test": 2432232315}`)) {
		t.Error("the example verifies with another body")
	}
}
