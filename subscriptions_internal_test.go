package subkit

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// connectWire is the ChatDash create body's wire form as tagged structs:
// the reference connectBody's own encoder is checked against, byte for
// byte, as json.Marshal writes it.
type connectWire struct {
	Data struct {
		ClientID        string   `json:"clientId"`
		AgentIDs        []string `json:"agentIds"`
		SelectedProduct struct {
			ProductID string `json:"productId"`
			StartDate int64  `json:"startDate"`
			Pricing   struct {
				Metrics UsageMetric `json:"metrics"`
			} `json:"pricing"`
		} `json:"selectedProduct"`
		CouponID    string `json:"couponId"`
		TaxSettings struct {
			Enabled    bool   `json:"enabled"`
			Country    string `json:"country,omitempty"`
			PostalCode string `json:"postalCode,omitempty"`
		} `json:"taxSettings"`
	} `json:"data"`
}

func connectWireOf(p *ConnectSubscriptionParams) *connectWire {
	w := new(connectWire)
	d := &w.Data
	d.ClientID, d.AgentIDs, d.CouponID = p.ClientID, p.AgentIDs, p.CouponID
	d.SelectedProduct.ProductID, d.SelectedProduct.StartDate = p.SelectedProduct.ProductID, p.SelectedProduct.StartDate.Unix()
	d.SelectedProduct.Pricing.Metrics = p.SelectedProduct.Pricing.Metrics
	d.TaxSettings.Enabled, d.TaxSettings.Country, d.TaxSettings.PostalCode = p.TaxSettings.Enabled, p.TaxSettings.Country, p.TaxSettings.PostalCode
	return w
}

func TestConnectBodyEncodesAsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	dates := []time.Time{{}, time.Unix(1714555800, 0), time.Unix(-1, 0), time.Unix(math.MaxInt32, 999), time.Unix(1<<40, 0)}
	for range 3000 {
		var agents []string // nil, empty and longer lists
		if n := r.IntN(4); n > 0 {
			agents = make([]string, n-1)
			for i := range agents {
				agents[i] = pick(r)
			}
		}
		p := ConnectSubscriptionParams{ClientID: pick(r), AgentIDs: agents, CouponID: pick(r),
			SelectedProduct: ConnectProduct{ProductID: pick(r), StartDate: dates[r.IntN(len(dates))],
				Pricing: ConnectPricing{Metrics: UsageMetric(pick(r))}},
			TaxSettings: ConnectTaxSettings{Enabled: r.IntN(2) == 1, Country: pick(r), PostalCode: pick(r)},
		}
		assertEncodesAs(t, &connectBody{p: p}, connectWireOf(&p))
	}
	assertEncodesAs(t, &connectBody{}, connectWireOf(&ConnectSubscriptionParams{}))
}

func FuzzConnectBodyEncodesAsMarshal(f *testing.F) {
	f.Add("cl_1", "agent", "prod_1", int64(1714555800), "metric", true, "FR")
	f.Add("", "\x00", "", int64(-1), "", false, "\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, client, agent, product string, start int64, metric string, tax bool, country string) {
		p := ConnectSubscriptionParams{ClientID: client, AgentIDs: []string{agent, client}, CouponID: agent,
			SelectedProduct: ConnectProduct{ProductID: product, StartDate: time.Unix(start%(1<<40), 0), Pricing: ConnectPricing{Metrics: UsageMetric(metric)}},
			TaxSettings:     ConnectTaxSettings{Enabled: tax, Country: country, PostalCode: client},
		}
		assertEncodesAs(t, &connectBody{p: p}, connectWireOf(&p))
	})
}
