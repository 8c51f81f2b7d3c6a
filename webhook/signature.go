package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
)

// The Standard Webhooks headers Polar signs with.
const (
	headerID        = "webhook-id"
	headerTimestamp = "webhook-timestamp"
	headerSignature = "webhook-signature"
)

// Bounds on what a request's headers may hold, so that a hostile request
// costs little: an ID is a store key, and every signature costs a compare.
const (
	maxIDLength         = 256
	maxTimestampDigits  = 18 // Unix seconds until the year 31 billion; more would overflow int64 arithmetic
	maxSignatures       = 32
	maxSignatureHeader  = 8 << 10
	standardSecretStart = "whsec_"
)

// secretKeys returns the HMAC keys a secret may sign with: the UTF-8 bytes
// of the whole secret (Polar's scheme for secrets made before 2026-09-08:
// it hands base64(secret) to a Standard Webhooks signer, which decodes it
// back), then, when the part after "whsec_" (or a secret without the
// prefix) is valid base64, its bytes (the standard scheme).
func secretKeys(secret string) [][]byte {
	keys := [][]byte{[]byte(secret)}
	if k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, standardSecretStart)); err == nil && len(k) > 0 {
		keys = append(keys, k)
	}
	return keys
}

// signedHeaders are the Standard Webhooks headers of a request, read.
type signedHeaders struct {
	id         string
	rawTime    string // webhook-timestamp as sent, which is what was signed
	timestamp  int64
	signatures [][]byte // the decoded v1 signatures
}

// header returns the values of the header named name, matched whatever its
// case: http.Header canonicalises the names of a request it parsed, but a
// header map built by hand may not.
func header(h http.Header, name string) []string {
	if v := h.Values(name); len(v) > 0 {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// oneHeader returns the one non-empty value of the header named name: a
// missing, empty or repeated one is ErrMalformed.
func oneHeader(h http.Header, name string) (string, error) {
	switch v := header(h, name); {
	case len(v) == 0 || v[0] == "":
		return "", failure(ErrMalformed, "no %s header", name)
	case len(v) > 1:
		return "", failure(ErrMalformed, "%d %s headers", len(v), name)
	default:
		return v[0], nil
	}
}

func readSignedHeaders(h http.Header) (*signedHeaders, error) {
	sh := &signedHeaders{}
	id, err := oneHeader(h, headerID)
	switch {
	case err != nil:
		return nil, err
	case len(id) > maxIDLength:
		return nil, failure(ErrMalformed, "%s is %d bytes, more than %d", headerID, len(id), maxIDLength)
	case !printableASCII(id):
		return nil, failure(ErrMalformed, "%s holds a space or a byte that is not printable ASCII", headerID)
	}
	sh.id = id

	ts, err := oneHeader(h, headerTimestamp)
	switch {
	case err != nil:
		return nil, err
	case len(ts) > maxTimestampDigits || !digits(ts):
		return nil, failure(ErrMalformed, "%s is not Unix seconds", headerTimestamp)
	}
	sh.rawTime = ts
	sh.timestamp, _ = strconv.ParseInt(ts, 10, 64) // digits, at most 18: it fits

	sigs := header(h, headerSignature)
	if len(sigs) == 0 {
		return nil, failure(ErrInvalidSignature, "no %s header", headerSignature)
	}
	// Several signatures are separated by spaces (Standard Webhooks); a
	// header sent twice is read as one list.
	all := strings.Join(sigs, " ")
	if len(all) > maxSignatureHeader {
		return nil, failure(ErrMalformed, "%s is %d bytes, more than %d", headerSignature, len(all), maxSignatureHeader)
	}
	fields := strings.Fields(all)
	if len(fields) > maxSignatures {
		return nil, failure(ErrMalformed, "%s holds %d signatures, more than %d", headerSignature, len(fields), maxSignatures)
	}
	for _, f := range fields {
		version, sig, ok := strings.Cut(f, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a is asymmetric): not ours to check
		}
		if b, err := base64.StdEncoding.DecodeString(sig); err == nil && len(b) == sha256.Size {
			sh.signatures = append(sh.signatures, b)
		}
	}
	if len(sh.signatures) == 0 {
		return nil, failure(ErrInvalidSignature, "%s holds no well-formed v1 signature", headerSignature)
	}
	return sh, nil
}

// signedByAny reports whether one of the request's signatures is the
// HMAC-SHA256 of "id.timestamp.body" under one of keys. Every comparison
// takes the same time whatever the bytes (hmac.Equal), and every key and
// signature is compared, so the time taken tells nothing of which matched.
func (sh *signedHeaders) signedByAny(keys [][]byte, body []byte) bool {
	matched := 0
	for _, k := range keys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(sh.id))
		m.Write([]byte{'.'})
		m.Write([]byte(sh.rawTime))
		m.Write([]byte{'.'})
		m.Write(body)
		want := m.Sum(nil)
		for _, got := range sh.signatures {
			if hmac.Equal(want, got) {
				matched++
			}
		}
	}
	return matched > 0
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
