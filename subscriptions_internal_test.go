package subkit

import (
	"math"
	"math/rand/v2"
	"testing"
)

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
