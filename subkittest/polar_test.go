package subkittest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/subkit-go/subkit"
)

func TestPolarCreateThroughSDK(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 31, 10, 15, 30, 123456789, time.UTC)
	s := newServer(t, WithClock(func() time.Time { return start }))
	c := newClient(t, s)
	var info subkit.ResponseInfo
	got, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams(), subkit.WithResponseInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	held := s.PolarSubscriptions()
	if len(held) != 1 {
		t.Fatalf("the server holds %d subscriptions", len(held))
	}
	h := held[0]
	if got.ID != h.ID || h.ProductID != productID || h.CustomerID != customerID || h.ExternalCustomerID != "" {
		t.Errorf("caller got %q; server holds %+v", got.ID, h)
	}
	wantMD := map[string]any{"plan": "pro", "seats": json.Number("3"), "ratio": json.Number("0.75"), "vip": true}
	if len(h.Metadata) != len(wantMD) {
		t.Errorf("metadata %v", h.Metadata)
	}
	for k, v := range wantMD {
		if h.Metadata[k] != v {
			t.Errorf("metadata[%s] = %#v, want %#v", k, h.Metadata[k], v)
		}
	}
	if info.StatusCode != 201 || info.Outcome != subkit.OutcomeCreated || info.Attempts != 1 || info.RequestID != h.RequestID {
		t.Errorf("response info %+v; request ID held %s", info, h.RequestID)
	}
	if reqs := s.Requests(subkit.Polar); len(reqs) != 1 || reqs[0].ID != info.RequestID || len(reqs[0].Created) != 1 || reqs[0].Created[0] != got.ID {
		t.Errorf("requests %+v", reqs)
	}

	body := decodeObject(t, h.Body)
	for k, want := range map[string]any{
		"id": got.ID, "status": "active", "amount": 0.0, "currency": "usd", "recurring_interval": "month",
		"product_id": productID, "customer_id": customerID,
		"created_at": "2026-01-31T10:15:30.123456Z", "started_at": "2026-01-31T10:15:30.123456Z",
		"current_period_start": "2026-01-31T10:15:30.123456Z",
		// A month after January 31st is the last day of February.
		"current_period_end": "2026-02-28T10:15:30.123456Z",
	} {
		if body[k] != want {
			t.Errorf("%s = %#v, want %#v", k, body[k], want)
		}
	}
	// Echoed in the order sent (encoding/json sorts a map's keys).
	if !strings.Contains(string(h.Body), `"metadata":{"plan":"pro","ratio":0.75,"seats":3,"vip":true}`) {
		t.Errorf("metadata not echoed as sent: %s", h.Body)
	}
	customer := body["customer"].(map[string]any)
	product := body["product"].(map[string]any)
	if customer["id"] != customerID || product["id"] != productID || customer["organization_id"] != s.polar.orgID {
		t.Errorf("customer %v product %v", customer, product)
	}
}

func TestPolarCreateForExternalCustomerThroughSDK(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := newClient(t, s)
	ctx := context.Background()
	p := &subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: externalID}
	first, err := c.Subscriptions.CreateForExternalCustomer(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Subscriptions.CreateForExternalCustomer(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	held := s.PolarSubscriptions()
	if len(held) != 2 || held[0].ID != first.ID || held[1].ID != second.ID {
		t.Fatalf("held %+v", held)
	}
	// No idempotency: two subscriptions, for the same customer.
	if held[0].CustomerID != customerID || held[1].CustomerID != customerID || held[0].ExternalCustomerID != externalID {
		t.Errorf("customers %q and %q", held[0].CustomerID, held[1].CustomerID)
	}
	customer := decodeObject(t, held[0].Body)["customer"].(map[string]any)
	if customer["external_id"] != externalID {
		t.Errorf("customer %v", customer)
	}
}

func TestPolarCreateRaw(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+rc.path, rc.header, rc.body)
	if got.status != 201 || got.header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	body := decodeObject(t, []byte(got.body))
	sameKeys(t, "polar-subscription.json", body, "customer", "product", "user")
	held := mustHold(t, s, subkit.Polar, 1)
	if held[0].ID != body["id"] || string(held[0].Body) != got.body || held[0].RequestID != got.header.Get("CF-Ray") {
		t.Errorf("held %+v, answered %s", held[0], got.body)
	}
	// The SDK's decoder reads the answer.
	var sub subkit.Subscription
	if err := json.Unmarshal(held[0].Body, &sub); err != nil || sub.ID != body["id"] {
		t.Errorf("decoding Body: %v, %+v", err, sub)
	}
}

func TestPolarEmptyExternalIDIsAnUnknownCustomer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+productID+`","external_customer_id":""}`)
	expectAnswer(t, got, 422, `{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","external_customer_id"],"msg":"Customer does not exist.","input":""}]}`)
}

func TestPolarMetadataIsStoredAsPydanticReadsIt(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	digits := strings.Repeat("7", 501) // only the int member accepts it
	got := post(t, s.URL()+rc.path, rc.header,
		`{"product_id":"`+productID+`","customer_id":"`+customerID+`","metadata":{"a":1.0,"b":1e16,"c":1.5e-5,"d":-0,"e":"`+digits+`","a":2.50}}`)
	if got.status != 201 {
		t.Fatalf("answer %d %s", got.status, got.body)
	}
	if !strings.Contains(got.body, `"metadata":{"a":2.5,"b":1e+16,"c":1.5e-05,"d":0,"e":`+digits+`}`) {
		t.Errorf("metadata answered as %s", got.body)
	}
	// A float Python reads as infinity cannot be stored: a 500, nothing created.
	got = post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+productID+`","customer_id":"`+customerID+`","metadata":{"x":1e999}}`)
	if got.status != 500 {
		t.Errorf("infinite float: %d %s", got.status, got.body)
	}
	mustHold(t, s, subkit.Polar, 1)
}

func TestPolarRefusesCredentials(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	url := s.URL() + rc.path
	unauthorized := `{"error":"Unauthorized","detail":"Unauthorized"}`
	// Authlib's error, written by json.dumps (with spaces).
	invalid := `{"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed, or invalid for other reasons."}`
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", ""), rc.body), 401, unauthorized)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", PolarToken), rc.body), 401, unauthorized)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", "Basic "+PolarToken), rc.body), 401, unauthorized)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", "Bearer polar_oat_unknown"), rc.body), 401, invalid)
	// The middleware refuses an unknown token on every path, before routing.
	expectAnswer(t, post(t, s.URL()+"/v1/nowhere", headers(rc.header, "Authorization", "Bearer polar_oat_unknown"), rc.body), 401, invalid)
	expectAnswer(t, post(t, url, headers(rc.header, "Authorization", "bearer "+PolarToken), `{}`), 422,
		`{"error":"RequestValidationError","detail":[{"type":"missing","loc":["body","SubscriptionCreateCustomer","product_id"],"msg":"Field required","input":{}},{"type":"missing","loc":["body","SubscriptionCreateCustomer","customer_id"],"msg":"Field required","input":{}},{"type":"missing","loc":["body","SubscriptionCreateExternalCustomer","product_id"],"msg":"Field required","input":{}},{"type":"missing","loc":["body","SubscriptionCreateExternalCustomer","external_customer_id"],"msg":"Field required","input":{}}]}`)

	c := newClient(t, s, subkit.WithOrganizationToken("polar_oat_wrong"))
	_, err := c.Subscriptions.CreateForCustomer(context.Background(), polarParams())
	if !errors.Is(err, subkit.ErrUnauthorized) {
		t.Fatalf("error %v", err)
	}
	if ae := apiError(t, err); ae.Code != "invalid_token" || ae.StatusCode != 401 || ae.RequestID == "" {
		t.Errorf("APIError %+v", ae)
	}
	mustHold(t, s, subkit.Polar, 0)
}

func TestPolarRoutes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	got := post(t, s.URL()+"/v1/subscriptions?x=1", rc.header, rc.body)
	if got.status != 307 || got.header.Get("Location") != s.URL()+"/v1/subscriptions/?x=1" || got.body != "" {
		t.Errorf("without the slash: %d %v %q", got.status, got.header.Get("Location"), got.body)
	}
	expectAnswer(t, post(t, s.URL()+"/v1/nowhere", rc.header, rc.body), 404, `{"detail":"Not Found"}`)
	expectAnswer(t, post(t, s.URL()+rc.path, headers(rc.header, "Polar-Version", "1999-01"), rc.body), 404, `{"detail":"Not Found"}`)
	mustHold(t, s, subkit.Polar, 0)

	// net/http follows the 307 with the body, and the create happens once.
	req := strings.NewReader(rc.body)
	resp, err := httpPost(s.URL()+"/v1/subscriptions", rc.header, req)
	if err != nil || resp != 201 {
		t.Fatalf("following the redirect: %d %v", resp, err)
	}
	mustHold(t, s, subkit.Polar, 1)
	if n := len(s.Requests(subkit.Polar)); n != 5 {
		t.Errorf("%d requests recorded", n)
	}
}

func TestPolarContentType(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	url := s.URL() + rc.path
	// FastAPI reads a body without Content-Type as JSON.
	if got := post(t, url, headers(rc.header, "Content-Type", ""), rc.body); got.status != 201 {
		t.Errorf("no Content-Type: %d %s", got.status, got.body)
	}
	got := post(t, url, headers(rc.header, "Content-Type", "text/plain"), `{}`)
	expectAnswer(t, got, 422, `{"error":"RequestValidationError","detail":[`+
		`{"type":"model_attributes_type","loc":["body","SubscriptionCreateCustomer"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"{}"},`+
		`{"type":"model_attributes_type","loc":["body","SubscriptionCreateExternalCustomer"],"msg":"Input should be a valid dictionary or object to extract fields from","input":"{}"}]}`)
	expectAnswer(t, post(t, url, rc.header, `{"product_id":`), 422,
		`{"error":"RequestValidationError","detail":[{"type":"json_invalid","loc":["body",14],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]}`)
	mustHold(t, s, subkit.Polar, 1)
}

// Polar's middleware in its order (server/polar/app.py): the version
// first (an unknown one is 404, not echoed), then the body's length, then
// the routes, whose answers echo the version and carry Cache-Control.
func TestPolarVersionsAndBodyLength(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	url := s.URL() + rc.path
	for version, want := range map[string]string{"": "2026-04", "2026-04": "2026-04", "2026-10": "2026-10"} {
		got := post(t, url, headers(rc.header, "Polar-Version", version), rc.body)
		if got.status != 201 || got.header.Get("Polar-Version") != want || got.header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("Polar-Version %q: %d %v", version, got.status, got.header)
		}
	}
	for _, version := range []string{"2026-07", "2026-4", "latest"} {
		// Before everything: even a missing token and a bad body.
		got := post(t, url, headers(rc.header, "Polar-Version", version, "Authorization", ""), `{`)
		expectAnswer(t, got, 404, `{"detail":"Not Found"}`)
		if got.header.Get("Polar-Version") != "" || got.header.Get("Content-Type") != "application/json" {
			t.Errorf("Polar-Version %q: %v", version, got.header)
		}
	}
	// A POST without Content-Length is 411, before the token is read.
	got := chunkedPost(t, url, headers(rc.header, "Authorization", "Bearer polar_oat_unknown"), rc.body)
	expectAnswer(t, got, 411, `{"error": "LengthRequired", "detail": "A Content-Length header is required."}`)
	if got.header.Get("Polar-Version") != "2026-04" {
		t.Errorf("411: %v", got.header)
	}
	// A body declared larger than 10 MiB is 413, unread.
	status, body := rawHTTP(t, s.URL(), "POST "+rc.path+" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+PolarToken+
		"\r\nContent-Type: application/json\r\nContent-Length: 10485761\r\nConnection: close\r\n\r\n")
	if status != 413 || body != `{"error": "RequestBodyTooLarge", "detail": "Request body exceeded the maximum allowed size of 10485760 bytes."}` {
		t.Errorf("413: %d %s", status, body)
	}
	// A missing token on the endpoint: Polar's Unauthorized, with its realm.
	got = post(t, url, headers(rc.header, "Authorization", ""), rc.body)
	if got.header.Get("WWW-Authenticate") != `Bearer realm="polar"` {
		t.Errorf("401: %v", got.header)
	}
	mustHold(t, s, subkit.Polar, 3)
}

// Polar sends no request-ID header; the Cloudflare in front of it sends a
// CF-Ray, which is the request's ID in Requests and in the SDK's
// ResponseInfo and APIError.
func TestPolarAnswersCarryACFRay(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	rc := rawCreates[subkit.Polar]
	ray := regexp.MustCompile(`^[0-9a-f]{16}-[A-Z]{3}$`)
	for _, got := range []rawAnswer{
		post(t, s.URL()+rc.path, rc.header, rc.body),
		post(t, s.URL()+rc.path, headers(rc.header, "Polar-Version", "1999-01"), rc.body),
		get(t, s.URL()+"/v1/subscriptions/", lookupHeaders[subkit.Polar]),
	} {
		if !ray.MatchString(got.header.Get("CF-Ray")) || got.header.Get("X-Request-Id") != "" {
			t.Errorf("%d answer's headers %v", got.status, got.header)
		}
	}
	for i, r := range s.Requests(subkit.Polar) {
		if !ray.MatchString(r.ID) {
			t.Errorf("request %d recorded as %q", i, r.ID)
		}
	}
}

// rawHTTP writes a request by hand (for what net/http will not send) and
// returns the answer's status and body.
func rawHTTP(t *testing.T, base, request string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
