package subkittest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"testing"
)

// TestPolarValidationMatchesPydantic replays bodies that Polar's schema
// refuses and compares the fake's answers, byte for byte, with Pydantic's
// own (testdata/gen_polar_validation.py wrote them).
func TestPolarValidationMatchesPydantic(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/polar_validation.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name         string  `json:"name"`
		ContentType  *string `json:"content_type"`
		Body         string  `json:"body"`
		BodyIsLatin1 bool    `json:"body_is_latin1"`
		Status       int     `json:"status"`
		Want         string  `json:"want"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	s := NewServer()
	defer s.Close()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			body := []byte(c.Body)
			if c.BodyIsLatin1 {
				body = body[:0]
				for _, r := range c.Body {
					body = append(body, byte(r))
				}
			}
			req, _ := http.NewRequest(http.MethodPost, s.URL()+"/v1/subscriptions/", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+PolarToken)
			if c.ContentType != nil {
				req.Header.Set("Content-Type", *c.ContentType)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.Status || string(got) != c.Want {
				t.Errorf("answer %d %s\nwant   %d %s", resp.StatusCode, got, c.Status, c.Want)
			}
		})
	}
	if n := len(s.PolarSubscriptions()); n != 0 {
		t.Errorf("the server holds %d subscriptions after refusals", n)
	}
}
