package subkit_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/subkit-go/subkit"
)

// The validation every create makes before sending anything: each bad field
// of ChatDash's, Chargeflow's and Polar's params named in one
// ValidationError, nothing sent; and the edge values the APIs accept, sent.
// (The checks live beside each create: validateConnect in subscriptions.go,
// validateDispute in disputes.go, createPolar in customers.go; the rules they
// share in internal/validate.)

func polarExternal(edit func(p *subkit.ExternalCustomerSubscriptionParams)) call {
	return func(c *subkit.Client) error {
		p := &subkit.ExternalCustomerSubscriptionParams{ProductID: productID, ExternalCustomerID: "usr_1"}
		if edit != nil {
			edit(p)
		}
		_, err := c.Subscriptions.CreateForExternalCustomer(context.Background(), p)
		return err
	}
}

func withMetadata(md subkit.Metadata) call {
	return polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.Metadata = md })
}

func TestInvalidParamsAreRefusedBeforeSending(t *testing.T) {
	cases := []struct {
		name   string
		api    subkit.API
		call   call
		fields []string // every field the error must name
	}{
		// ChatDash
		{"chatdash: empty account", subkit.ChatDash, connect("", nil), []string{"accountId"}},
		{"chatdash: dot-dot account", subkit.ChatDash, connect("..", nil), []string{"accountId"}},
		{"chatdash: account with NUL", subkit.ChatDash, connect("acct_\x00", nil), []string{"accountId"}},
		{"chatdash: account with spaces", subkit.ChatDash, connect(" acct_1 ", nil), []string{"accountId"}},
		{"chatdash: nil params", subkit.ChatDash, func(c *subkit.Client) error {
			_, err := c.Subscriptions.CreateConnect(context.Background(), chatdashAccount, nil)
			return err
		}, []string{"data"}},
		{"chatdash: no client", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.ClientID = "" }), []string{"data.clientId"}},
		{"chatdash: no agents", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.AgentIDs = nil }), []string{"data.agentIds"}},
		{"chatdash: empty agent", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.AgentIDs = []string{"a", ""} }), []string{"data.agentIds[1]"}},
		{"chatdash: no product", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.SelectedProduct.ProductID = "" }), []string{"data.selectedProduct.productId"}},
		{"chatdash: no start date", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.SelectedProduct.StartDate = time.Time{} }), []string{"data.selectedProduct.startDate"}},
		{"chatdash: no metric", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.SelectedProduct.Pricing.Metrics = "" }), []string{"data.selectedProduct.pricing.metrics"}},
		{"chatdash: invalid UTF-8 coupon", subkit.ChatDash, connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.CouponID = "\xff" }), []string{"data.couponId"}},
		{"chatdash: every problem at once", subkit.ChatDash, connect("", func(p *subkit.ConnectSubscriptionParams) {
			*p = subkit.ConnectSubscriptionParams{}
		}), []string{"accountId", "data.clientId", "data.agentIds", "data.selectedProduct.productId",
			"data.selectedProduct.startDate", "data.selectedProduct.pricing.metrics"}},

		// Chargeflow
		{"chargeflow: empty dispute", subkit.Chargeflow, dispute("", nil), []string{"disputeId"}},
		{"chargeflow: 23-hex dispute", subkit.Chargeflow, dispute(disputeID[:23], nil), []string{"disputeId"}},
		{"chargeflow: 25-hex dispute", subkit.Chargeflow, dispute(disputeID+"0", nil), []string{"disputeId"}},
		{"chargeflow: non-hex dispute", subkit.Chargeflow, dispute("65f0c1d2e3a4b5c6d7e8f90g", nil), []string{"disputeId"}},
		{"chargeflow: nil params", subkit.Chargeflow, func(c *subkit.Client) error {
			_, err := c.Subscriptions.CreateForDispute(context.Background(), disputeID, nil)
			return err
		}, []string{""}},
		{"chargeflow: no source_id", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.SourceID = "" }), []string{"source_id"}},
		{"chargeflow: 129-character source_id", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.SourceID = strings.Repeat("é", 129) }), []string{"source_id"}},
		{"chargeflow: bad account_id", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.AccountID = "acct_1" }), []string{"account_id"}},
		{"chargeflow: no created_at", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.CreatedAt = time.Time{} }), []string{"created_at"}},
		{"chargeflow: no start_date", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.StartDate = time.Time{} }), []string{"start_date"}},
		{"chargeflow: year 10000", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.EndDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }), []string{"end_date"}},
		// Sent in UTC: a year in range only in its own zone is out of range on the wire.
		{"chargeflow: year 10000 in UTC", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) {
			p.EndDate = time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))
		}), []string{"end_date"}},
		{"chargeflow: year 0 in UTC", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) {
			p.CreatedAt = time.Date(1, 1, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 3600))
		}), []string{"created_at"}},
		{"chargeflow: no frequency", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.Frequency = "" }), []string{"frequency"}},
		{"chargeflow: unknown frequency", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.Frequency = "monthly" }), []string{"frequency"}},
		{"chargeflow: frequency_count 0", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.FrequencyCount = 0 }), []string{"frequency_count"}},
		{"chargeflow: negative frequency_count", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.FrequencyCount = -1 }), []string{"frequency_count"}},
		{"chargeflow: unknown collection method", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.CollectionMethod = "charge_automatically" }), []string{"collection_method"}},
		{"chargeflow: unknown cancellation reason", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.CancellationReason = "other" }), []string{"cancellation_reason"}},
		{"chargeflow: NUL in plan_name", subkit.Chargeflow, dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.PlanName = "Pro\x00" }), []string{"plan_name"}},
		{"chargeflow: every problem at once", subkit.Chargeflow, dispute("x", func(p *subkit.DisputeSubscriptionParams) {
			*p = subkit.DisputeSubscriptionParams{Frequency: "fortnight", CollectionMethod: "cash"}
		}), []string{"disputeId", "source_id", "created_at", "start_date", "frequency", "frequency_count", "collection_method"}},

		// Polar
		{"polar: nil params", subkit.Polar, func(c *subkit.Client) error {
			_, err := c.Subscriptions.CreateForCustomer(context.Background(), nil)
			return err
		}, []string{""}},
		{"polar: no product", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "" }), []string{"product_id"}},
		{"polar: product not a UUID", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "prod_1" }), []string{"product_id"}},
		{"polar: product UUID v1", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "6ba7b810-9dad-11d1-80b4-00c04fd430c8" }), []string{"product_id"}},
		{"polar: product UUID v7", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "01890a5d-ac96-774b-bcce-b302099a8057" }), []string{"product_id"}},
		{"polar: UUID v4 with a wrong variant", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "d8dd2de1-21b7-4a41-cbc3-ce909c0cfe23" }), []string{"product_id"}},
		{"polar: UUID with misplaced hyphens", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = "d8dd2de121b7-4a41-8bc3-ce909c0cfe23-" }), []string{"product_id"}},
		{"polar: no customer", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.CustomerID = "" }), []string{"customer_id"}},
		{"polar: customer nil UUID", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.CustomerID = "00000000-0000-0000-0000-000000000000" }), []string{"customer_id"}},
		{"polar: no external customer", subkit.Polar, polarExternal(func(p *subkit.ExternalCustomerSubscriptionParams) { p.ExternalCustomerID = "" }), []string{"external_customer_id"}},
		{"polar: external customer with NUL", subkit.Polar, polarExternal(func(p *subkit.ExternalCustomerSubscriptionParams) { p.ExternalCustomerID = "u\x00" }), []string{"external_customer_id"}},
		{"polar: external nil params", subkit.Polar, func(c *subkit.Client) error {
			_, err := c.Subscriptions.CreateForExternalCustomer(context.Background(), nil)
			return err
		}, []string{""}},
		{"polar: 51 pairs", subkit.Polar, withMetadata(pairs(51)), []string{"metadata"}},
		{"polar: empty key", subkit.Polar, withMetadata(subkit.Metadata{"": "v"}), []string{`metadata.""`}},
		{"polar: 41-character key", subkit.Polar, withMetadata(subkit.Metadata{strings.Repeat("ü", 41): "v"}), []string{"metadata." + strings.Repeat("ü", 41)}},
		{"polar: key with NUL", subkit.Polar, withMetadata(subkit.Metadata{"a\x00b": "v"}), []string{"metadata.a\x00b"}},
		{"polar: empty string value", subkit.Polar, withMetadata(subkit.Metadata{"k": ""}), []string{"metadata.k"}},
		{"polar: 501-character value", subkit.Polar, withMetadata(subkit.Metadata{"k": strings.Repeat("ß", 501)}), []string{"metadata.k"}},
		{"polar: value with NUL", subkit.Polar, withMetadata(subkit.Metadata{"k": "v\x00"}), []string{"metadata.k"}},
		{"polar: nil value", subkit.Polar, withMetadata(subkit.Metadata{"k": nil}), []string{"metadata.k"}},
		{"polar: NaN", subkit.Polar, withMetadata(subkit.Metadata{"k": math.NaN()}), []string{"metadata.k"}},
		{"polar: +Inf", subkit.Polar, withMetadata(subkit.Metadata{"k": math.Inf(1)}), []string{"metadata.k"}},
		{"polar: float32 -Inf", subkit.Polar, withMetadata(subkit.Metadata{"k": float32(math.Inf(-1))}), []string{"metadata.k"}},
		{"polar: slice value", subkit.Polar, withMetadata(subkit.Metadata{"k": []string{"a"}}), []string{"metadata.k"}},
		{"polar: map value", subkit.Polar, withMetadata(subkit.Metadata{"k": map[string]any{"a": 1}}), []string{"metadata.k"}},
		{"polar: time value", subkit.Polar, withMetadata(subkit.Metadata{"k": time.Now()}), []string{"metadata.k"}},
		{"polar: every problem at once", subkit.Polar, polarCustomer(func(p *subkit.CustomerSubscriptionParams) {
			*p = subkit.CustomerSubscriptionParams{ProductID: "x", Metadata: subkit.Metadata{"a": nil, "b": ""}}
		}), []string{"product_id", "customer_id", "metadata.a", "metadata.b"}},
	}
	require.GreaterOrEqual(t, len(cases), 35)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			err := tc.call(newClient(t, m))
			require.Error(t, err)
			assert.ErrorIs(t, err, subkit.ErrInvalidParams)
			var ve *subkit.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tc.api, ve.API)
			var got []string
			for _, f := range ve.Fields {
				got = append(got, f.Field)
				assert.NotEmpty(t, f.Message)
				assert.NotEmpty(t, f.Code)
			}
			assert.ElementsMatch(t, tc.fields, got, "fields named: %v", err)
			assert.Zero(t, m.GetTotalCallCount(), "nothing may be sent")
			assert.Empty(t, m.requests())
		})
	}
}

func TestBoundaryParamsAreAccepted(t *testing.T) {
	key40 := strings.Repeat("日", 40) // 40 characters, 120 bytes
	fifty := pairs(49)
	fifty[key40] = strings.Repeat("é", 500)
	cases := []struct {
		name string
		call call
		url  string
		body string
	}{
		{"polar: 40-character multi-byte key, 500-character value, 50 pairs", withMetadata(fifty), polarCreateURL, "polar-subscription.json"},
		{"polar: integer extremes, zero, false", withMetadata(subkit.Metadata{"min": int64(math.MinInt64), "max": uint64(math.MaxUint64),
			"zero": 0, "f": false, "tiny": math.SmallestNonzeroFloat64, "huge": math.MaxFloat64}), polarCreateURL, "polar-subscription.json"},
		{"polar: UUID upper case", polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.ProductID = strings.ToUpper(productID) }), polarCreateURL, "polar-subscription.json"},
		{"polar: UUID without hyphens, braced, urn", polarCustomer(func(p *subkit.CustomerSubscriptionParams) {
			p.ProductID = strings.ReplaceAll(productID, "-", "")
			p.CustomerID = "urn:uuid:" + customerID
		}), polarCreateURL, "polar-subscription.json"},
		{"polar: braced UUID", polarCustomer(func(p *subkit.CustomerSubscriptionParams) { p.CustomerID = "{" + customerID + "}" }), polarCreateURL, "polar-subscription.json"},
		{"polar: 1-character external ID", polarExternal(func(p *subkit.ExternalCustomerSubscriptionParams) { p.ExternalCustomerID = "x" }), polarCreateURL, "polar-subscription.json"},
		{"chargeflow: 128-character source_id", dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) { p.SourceID = strings.Repeat("€", 128) }), chargeflowCreateURL, "chargeflow-create-subscription.json"},
		{"chargeflow: 1-character source_id, upper-case hex", dispute(strings.ToUpper(disputeID), func(p *subkit.DisputeSubscriptionParams) {
			p.SourceID = "s"
			p.AccountID = "ABCDEF0123456789abcdef01"
		}), "https://api.chargeflow.io/public/2025-04-01/disputes/" + strings.ToUpper(disputeID) + "/subscription", "chargeflow-create-subscription.json"},
		{"chargeflow: open enums take any value", dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) {
			p.PricingModel, p.Status = "usage_based", "trialing"
		}), chargeflowCreateURL, "chargeflow-create-subscription.json"},
		{"chargeflow: the first and last instants RFC 3339 can write", dispute(disputeID, func(p *subkit.DisputeSubscriptionParams) {
			p.CreatedAt = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) // the zero time is "not set"
			p.EndDate = time.Date(10000, 1, 1, 4, 59, 59, 0, time.FixedZone("UTC+5", 5*3600))
		}), chargeflowCreateURL, "chargeflow-create-subscription.json"},
		{"chatdash: open metric takes any value", connect(chatdashAccount, func(p *subkit.ConnectSubscriptionParams) { p.SelectedProduct.Pricing.Metrics = "interactions" }), chatdashCreateURL, "chatdash-create-subscription.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMock(t)
			m.on(http.MethodPost, tc.url, answer(201, fixture(t, tc.body)))
			require.NoError(t, tc.call(newClient(t, m)))
			assert.Len(t, m.requests(), 1)
		})
	}
}
