package subkit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

func minimalDisputeParams() *subkit.DisputeSubscriptionParams {
	return &subkit.DisputeSubscriptionParams{
		SourceID:       "sub_1PqRsTuVwXyZ",
		CreatedAt:      time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		StartDate:      time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		Frequency:      subkit.FrequencyMonth,
		FrequencyCount: 1,
	}
}

func TestCreateForDisputeSendsTheDocumentedRequest(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	full := &subkit.DisputeSubscriptionParams{
		SourceID:           "sub_1PqRsTuVwXyZ",
		AccountID:          "65f0c1d2e3a4b5c6d7e8f901",
		CreatedAt:          time.Date(2024, 5, 1, 11, 30, 0, 0, paris),
		StartDate:          time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		Frequency:          subkit.FrequencyMonth,
		FrequencyCount:     3,
		CollectionMethod:   subkit.CollectionAutomaticallyWithReminders,
		UpdatedAt:          time.Date(2024, 8, 1, 9, 30, 0, 500_000_000, time.UTC),
		EndDate:            time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC),
		CancellationDate:   time.Date(2024, 7, 28, 16, 2, 11, 0, time.UTC),
		CancellationReason: subkit.ReasonTooExpensive,
		TrialStart:         time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
		TrialEnd:           time.Date(2024, 5, 15, 9, 30, 0, 0, time.UTC),
		RenewsAt:           time.Date(2024, 8, 1, 9, 30, 0, 0, time.UTC),
		PlanName:           "Pro Monthly",
		PricingModel:       subkit.PricingFixedPrice,
		Status:             subkit.DisputeSubscriptionActive,
	}
	cases := []struct {
		name   string
		params *subkit.DisputeSubscriptionParams
		body   string
	}{
		{"full", full, `{"source_id":"sub_1PqRsTuVwXyZ","account_id":"65f0c1d2e3a4b5c6d7e8f901",
			"created_at":"2024-05-01T09:30:00Z","start_date":"2024-05-01T09:30:00Z","frequency":"month","frequency_count":3,
			"collection_method":"automatically_with_reminders","updated_at":"2024-08-01T09:30:00.5Z",
			"end_date":"2025-05-01T00:00:00Z","cancellation_date":"2024-07-28T16:02:11Z","cancellation_reason":"too_expensive",
			"trial_start":"2024-05-01T09:30:00Z","trial_end":"2024-05-15T09:30:00Z","renews_at":"2024-08-01T09:30:00Z",
			"plan_name":"Pro Monthly","pricing_model":"fixed_price","status":"active"}`},
		{"minimal: optional keys omitted, never null", minimalDisputeParams(), `{"source_id":"sub_1PqRsTuVwXyZ",
			"created_at":"2024-05-01T09:30:00Z","start_date":"2024-05-01T09:30:00Z","frequency":"month","frequency_count":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chargeflowCreateURL, answer(201, fixture(t, "chargeflow-create-subscription.json")))
			_, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, tc.params)
			require.NoError(t, err)
			reqs := m.requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			assert.Equal(t, http.MethodPost, r.Method)
			assert.Equal(t, chargeflowCreateURL, r.URL)
			assert.Equal(t, testCFKey, r.Header.Get("x-api-key"))
			assert.Empty(t, r.Header.Get("Authorization"), "no other API's credential")
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "subkit-go/"+subkit.Version, r.Header.Get("User-Agent"))
			requireJSON(t, tc.body, r.Body)
		})
	}
}

func TestCreateForDisputeDecodesTheFixture(t *testing.T) {
	for _, status := range []int{200, 201} {
		m := newMock(t)
		m.on(http.MethodPost, chargeflowCreateURL, answer(status, fixture(t, "chargeflow-create-subscription.json")))
		s, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams())
		require.NoError(t, err)
		at := func(v string) *time.Time {
			tm, err := time.Parse(time.RFC3339, v)
			require.NoError(t, err)
			return &tm
		}
		want := &subkit.DisputeSubscription{
			ID: "66e6ea9ecd94925a9f8060d9", SourceID: "sub_1PqRsTuVwXyZ", AccountID: "65f0c1d2e3a4b5c6d7e8f901",
			ExtAccountID: "merchant-4411", CreatedAt: at("2024-05-01T09:30:00Z"), UpdatedAt: at("2024-08-01T09:30:00Z"),
			StartDate: at("2024-05-01T09:30:00Z"), EndDate: nil, CancellationDate: at("2024-07-28T16:02:11Z"),
			Frequency: subkit.FrequencyMonth, FrequencyCount: 1, CancellationReason: subkit.ReasonTooExpensive,
			CollectionMethod: subkit.CollectionAutomatically, TrialStart: at("2024-05-01T09:30:00Z"),
			TrialEnd: at("2024-05-15T09:30:00Z"), RenewsAt: nil, PlanName: "Pro Monthly",
			PricingModel: subkit.PricingFixedPrice, Status: subkit.DisputeSubscriptionActive,
		}
		assert.Equal(t, want, s, "status %d", status)
	}
}

func TestDisputeSubscriptionDecodesEveryShape(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, s *subkit.DisputeSubscription)
	}{
		{"every date null", `{"id":"x","created_at":null,"updated_at":null,"start_date":null,"end_date":null,
			"cancellation_date":null,"trial_start":null,"trial_end":null,"renews_at":null,"cancellation_reason":null,"plan_name":null}`,
			func(t *testing.T, s *subkit.DisputeSubscription) {
				assert.Nil(t, s.CreatedAt)
				assert.Nil(t, s.StartDate)
				assert.Empty(t, s.CancellationReason)
				assert.Empty(t, s.PlanName)
			}},
		{"unknown enum values and keys", `{"id":"x","status":"trialing","pricing_model":"tiered","frequency":"quarter",
			"collection_method":"manual","cancellation_reason":"moved_away","extra":{"a":1}}`,
			func(t *testing.T, s *subkit.DisputeSubscription) {
				assert.Equal(t, subkit.DisputeSubscriptionStatus("trialing"), s.Status)
				assert.Equal(t, subkit.PricingModel("tiered"), s.PricingModel)
				assert.Equal(t, subkit.Frequency("quarter"), s.Frequency)
				assert.Equal(t, subkit.CollectionMethod("manual"), s.CollectionMethod)
				assert.Equal(t, subkit.CancellationReason("moved_away"), s.CancellationReason)
			}},
		{"fractional seconds and offsets", `{"id":"x","created_at":"2024-05-01T11:30:00.123+02:00"}`,
			func(t *testing.T, s *subkit.DisputeSubscription) {
				require.NotNil(t, s.CreatedAt)
				assert.True(t, s.CreatedAt.Equal(time.Date(2024, 5, 1, 9, 30, 0, 123_000_000, time.UTC)))
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, chargeflowCreateURL, answer(201, tc.body))
			s, err := newClient(t, m).Subscriptions.CreateForDispute(context.Background(), disputeID, minimalDisputeParams())
			require.NoError(t, err)
			tc.check(t, s)
		})
	}
}

func TestGetForDispute(t *testing.T) {
	sub := fixture(t, "chargeflow-create-subscription.json")
	cases := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, s *subkit.DisputeSubscription, err error)
	}{
		{"expanded object", 200, `{"id":"` + disputeID + `","status":"needs_response","subscription":` + sub + `}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sub_1PqRsTuVwXyZ", s.SourceID)
				assert.Equal(t, "66e6ea9ecd94925a9f8060d9", s.ID)
			}},
		{"array shape", 200, `{"id":"x","subscriptions":[null,` + sub + `]}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				require.NoError(t, err)
				assert.Equal(t, "sub_1PqRsTuVwXyZ", s.SourceID)
			}},
		{"null", 200, `{"id":"x","subscription":null}`, func(t *testing.T, s *subkit.DisputeSubscription, err error) {
			assert.Nil(t, s)
			assertSentinels(t, err, "ErrNotFound")
			var ae *subkit.APIError
			assert.False(t, errors.As(err, &ae), "no HTTP error happened")
		}},
		{"absent", 200, `{"id":"x"}`, func(t *testing.T, s *subkit.DisputeSubscription, err error) {
			assertSentinels(t, err, "ErrNotFound")
		}},
		{"not expanded: an ID", 200, `{"id":"x","subscription":"66e6ea9ecd94925a9f8060d9"}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				var ae *subkit.APIError
				require.ErrorAs(t, err, &ae, "cannot tell is not the same as none")
				assertSentinels(t, err)
				assert.Contains(t, err.Error(), "not expanded")
			}},
		{"unknown dispute", 404, `{"message":"Dispute not found","requestId":"r9"}`,
			func(t *testing.T, s *subkit.DisputeSubscription, err error) {
				var ae *subkit.APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, "r9", ae.RequestID)
				assertSentinels(t, err, "ErrNotFound")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodGet, disputeGetURL, answer(tc.status, tc.body))
			s, err := newClient(t, m).Subscriptions.GetForDispute(context.Background(), disputeID)
			tc.check(t, s, err)
			reqs := m.requests()
			require.Len(t, reqs, 1)
			assert.Equal(t, disputeGetURL+"?expand=subscription", reqs[0].URL)
			assert.Equal(t, testCFKey, reqs[0].Header.Get("x-api-key"))
		})
	}
}

// FuzzDecodeDisputeSubscription checks that the Chargeflow decoder never
// panics and that what it decodes survives its own encoding unchanged.
func FuzzDecodeDisputeSubscription(f *testing.F) {
	f.Add(fuzzFixture(f, "chargeflow-create-subscription.json"))
	for _, s := range []string{
		`{"id":"x","created_at":"2024-05-01T09:30:00.123456789+14:00","frequency_count":-9223372036854775808}`,
		`{"created_at":"9999-12-31T23:59:59Z","end_date":null,"renews_at":"0000-01-01T00:00:00Z"}`,
		`{"status":"\u0000","pricing_model":"` + strings.Repeat("p", 300) + `"}`,
		`{"created_at":"2024-02-30T00:00:00Z"}`, `{"frequency_count":1e2}`, `null`, `{"id":{}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got subkit.DisputeSubscription
		if err := json.Unmarshal(data, &got); err != nil {
			return
		}
		enc, err := json.Marshal(&got)
		if err != nil {
			t.Fatalf("encoding what was decoded: %v", err)
		}
		var again subkit.DisputeSubscription
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("decoding its own encoding %s: %v", enc, err)
		}
		enc2, _ := json.Marshal(&again)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("round trip changed the value:\n%s\n%s", enc, enc2)
		}
	})
}
