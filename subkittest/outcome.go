package subkittest

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// outcome is what an API's handling of one request decided: the answer, and
// the change to apply to the server's state. Deciding and applying are apart
// so that faults can apply a create without answering, answer without
// applying, or apply it late.
type outcome struct {
	status int
	header http.Header
	body   []byte
	// apply commits the create and returns the IDs it created. It runs with
	// the server's lock held. nil: the request changes nothing.
	apply func() []string
}

func (o *outcome) success() bool { return o.status >= 200 && o.status <= 299 }

// answer makes an outcome with a body of the given content type ("" for none).
func answer(status int, contentType string, body []byte) *outcome {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &outcome{status: status, header: h, body: body}
}

// jsonAnswer encodes v without HTML escaping, as the three APIs do.
func jsonAnswer(status int, contentType string, v any) *outcome {
	return answer(status, contentType, mustJSON(v))
}

func mustJSON(v any) []byte {
	b, err := encodeJSON(v)
	if err != nil {
		panic("subkittest: encoding an answer: " + err.Error())
	}
	return b
}

func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
