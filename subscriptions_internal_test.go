package subkit

// The request bodies that encode themselves (jsonBody, in disputes.go and
// subscriptions.go) must send byte for byte what json.Marshal of their tagged
// struct sends: the struct is the wire form's definition.

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// bodyStrings are values whose encoding differs from their bytes, and the
// ordinary ones.
var bodyStrings = []string{
	"", "", "x", "sub_1PqRsTuVwXyZ", "2024-05-01T09:30:00Z", `"q"`, `b\s`, "<a&b>", "\x00", "\x1f\t\n\r\b\f",
	"\u2028\u2029", "é中🙂", "\xff", "a\xc3", "\x7f", strings.Repeat("é<", 40),
}

func pick(r *rand.Rand) string { return bodyStrings[r.IntN(len(bodyStrings))] }

func assertEncodesAsMarshal(t *testing.T, b jsonBody) {
	t.Helper()
	want, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.encodeJSON(); string(got) != string(want) {
		t.Fatalf("encodeJSON wrote\n%s\njson.Marshal writes\n%s", got, want)
	}
}

func TestDisputeBodyEncodesAsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := []int{0, 1, -1, 12, math.MaxInt, math.MinInt}
	for range 3000 {
		assertEncodesAsMarshal(t, &disputeCreateBody{
			SourceID: pick(r), AccountID: pick(r), CreatedAt: pick(r), StartDate: pick(r),
			Frequency: Frequency(pick(r)), FrequencyCount: ints[r.IntN(len(ints))],
			CollectionMethod: CollectionMethod(pick(r)), UpdatedAt: pick(r), EndDate: pick(r),
			CancellationDate: pick(r), CancellationReason: CancellationReason(pick(r)),
			TrialStart: pick(r), TrialEnd: pick(r), RenewsAt: pick(r), PlanName: pick(r),
			PricingModel: PricingModel(pick(r)), Status: DisputeSubscriptionStatus(pick(r)),
		})
	}
	assertEncodesAsMarshal(t, &disputeCreateBody{})
}

func TestConnectBodyEncodesAsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dates := []int64{0, 1714555800, -1, math.MaxInt64, math.MinInt64}
	for range 3000 {
		var agents []string // nil, empty and longer lists
		if n := r.IntN(4); n > 0 {
			agents = make([]string, n-1)
			for i := range agents {
				agents[i] = pick(r)
			}
		}
		assertEncodesAsMarshal(t, &connectCreateBody{Data: connectCreateData{
			ClientID: pick(r), AgentIDs: agents, CouponID: pick(r),
			SelectedProduct: connectProduct{ProductID: pick(r), StartDate: dates[r.IntN(len(dates))],
				Pricing: connectPricingWire{Metrics: UsageMetric(pick(r))}},
			TaxSettings: connectTaxWire{Enabled: r.IntN(2) == 1, Country: pick(r), PostalCode: pick(r)},
		}})
	}
	assertEncodesAsMarshal(t, &connectCreateBody{})
}

func FuzzDisputeBodyEncodesAsMarshal(f *testing.F) {
	f.Add("sub_1", "65f0c1d2e3a4b5c6d7e8f901", "2024-05-01T09:30:00Z", "month", 1, "Pro <Monthly>")
	f.Add("", "", "", "", -7, "\xff\u2028")
	f.Fuzz(func(t *testing.T, source, account, date, freq string, count int, plan string) {
		assertEncodesAsMarshal(t, &disputeCreateBody{SourceID: source, AccountID: account, CreatedAt: date,
			StartDate: date, Frequency: Frequency(freq), FrequencyCount: count, UpdatedAt: date, PlanName: plan,
			Status: DisputeSubscriptionStatus(plan), CancellationReason: CancellationReason(freq)})
	})
}

func FuzzConnectBodyEncodesAsMarshal(f *testing.F) {
	f.Add("cl_1", "agent", "prod_1", int64(1714555800), "metric", true, "FR")
	f.Add("", "\x00", "", int64(-1), "", false, "\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, client, agent, product string, start int64, metric string, tax bool, country string) {
		assertEncodesAsMarshal(t, &connectCreateBody{Data: connectCreateData{
			ClientID: client, AgentIDs: []string{agent, client}, CouponID: agent,
			SelectedProduct: connectProduct{ProductID: product, StartDate: start, Pricing: connectPricingWire{Metrics: UsageMetric(metric)}},
			TaxSettings:     connectTaxWire{Enabled: tax, Country: country, PostalCode: client},
		}})
	})
}
