package subkit

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// disputeWire is the Chargeflow create body's wire form as a tagged
// struct: the reference disputeBody's own encoder is checked against, byte
// for byte, as json.Marshal writes it.
type disputeWire struct {
	SourceID           string                    `json:"source_id"`
	AccountID          string                    `json:"account_id,omitempty"`
	CreatedAt          string                    `json:"created_at"`
	StartDate          string                    `json:"start_date"`
	Frequency          Frequency                 `json:"frequency"`
	FrequencyCount     int                       `json:"frequency_count"`
	CollectionMethod   CollectionMethod          `json:"collection_method,omitempty"`
	UpdatedAt          string                    `json:"updated_at,omitempty"`
	EndDate            string                    `json:"end_date,omitempty"`
	CancellationDate   string                    `json:"cancellation_date,omitempty"`
	CancellationReason CancellationReason        `json:"cancellation_reason,omitempty"`
	TrialStart         string                    `json:"trial_start,omitempty"`
	TrialEnd           string                    `json:"trial_end,omitempty"`
	RenewsAt           string                    `json:"renews_at,omitempty"`
	PlanName           string                    `json:"plan_name,omitempty"`
	PricingModel       PricingModel              `json:"pricing_model,omitempty"`
	Status             DisputeSubscriptionStatus `json:"status,omitempty"`
}

func disputeWireOf(p *DisputeSubscriptionParams) *disputeWire {
	return &disputeWire{SourceID: p.SourceID, AccountID: p.AccountID,
		CreatedAt: rfc3339(p.CreatedAt), StartDate: rfc3339(p.StartDate),
		Frequency: p.Frequency, FrequencyCount: p.FrequencyCount, CollectionMethod: p.CollectionMethod,
		UpdatedAt: rfc3339(p.UpdatedAt), EndDate: rfc3339(p.EndDate), CancellationDate: rfc3339(p.CancellationDate),
		CancellationReason: p.CancellationReason, TrialStart: rfc3339(p.TrialStart), TrialEnd: rfc3339(p.TrialEnd),
		RenewsAt: rfc3339(p.RenewsAt), PlanName: p.PlanName, PricingModel: p.PricingModel, Status: p.Status}
}

// bodyTimes are times whose RFC 3339 forms differ in every way that
// matters: zero (left out), whole seconds, nanoseconds, another zone.
var bodyTimes = []time.Time{{}, time.Date(2024, 5, 1, 9, 30, 0, 0, time.UTC),
	time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC), time.Date(2025, 1, 2, 3, 4, 5, 6000, time.FixedZone("", -5*3600))}

func pickTime(r *rand.Rand) time.Time { return bodyTimes[r.IntN(len(bodyTimes))] }

func TestDisputeBodyEncodesAsMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	ints := []int{0, 1, -1, 12, math.MaxInt, math.MinInt}
	for range 3000 {
		p := DisputeSubscriptionParams{
			SourceID: pick(r), AccountID: pick(r), CreatedAt: pickTime(r), StartDate: pickTime(r),
			Frequency: Frequency(pick(r)), FrequencyCount: ints[r.IntN(len(ints))],
			CollectionMethod: CollectionMethod(pick(r)), UpdatedAt: pickTime(r), EndDate: pickTime(r),
			CancellationDate: pickTime(r), CancellationReason: CancellationReason(pick(r)),
			TrialStart: pickTime(r), TrialEnd: pickTime(r), RenewsAt: pickTime(r), PlanName: pick(r),
			PricingModel: PricingModel(pick(r)), Status: DisputeSubscriptionStatus(pick(r)),
		}
		assertEncodesAs(t, &disputeBody{p: p}, disputeWireOf(&p))
	}
	assertEncodesAs(t, &disputeBody{}, disputeWireOf(&DisputeSubscriptionParams{}))
}

func FuzzDisputeBodyEncodesAsMarshal(f *testing.F) {
	f.Add("sub_1", "65f0c1d2e3a4b5c6d7e8f901", int64(1714555800), "month", 1, "Pro <Monthly>")
	f.Add("", "", int64(0), "", -7, "\xff\u2028")
	f.Fuzz(func(t *testing.T, source, account string, unix int64, freq string, count int, plan string) {
		at := time.Unix(unix%(1<<35), unix%1e9).UTC()
		p := DisputeSubscriptionParams{SourceID: source, AccountID: account, CreatedAt: at,
			StartDate: at, Frequency: Frequency(freq), FrequencyCount: count, UpdatedAt: at, PlanName: plan,
			Status: DisputeSubscriptionStatus(plan), CancellationReason: CancellationReason(freq)}
		assertEncodesAs(t, &disputeBody{p: p}, disputeWireOf(&p))
	})
}
