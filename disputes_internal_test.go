package subkit

import (
	"math"
	"math/rand/v2"
	"testing"
)

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

func FuzzDisputeBodyEncodesAsMarshal(f *testing.F) {
	f.Add("sub_1", "65f0c1d2e3a4b5c6d7e8f901", "2024-05-01T09:30:00Z", "month", 1, "Pro <Monthly>")
	f.Add("", "", "", "", -7, "\xff\u2028")
	f.Fuzz(func(t *testing.T, source, account, date, freq string, count int, plan string) {
		assertEncodesAsMarshal(t, &disputeCreateBody{SourceID: source, AccountID: account, CreatedAt: date,
			StartDate: date, Frequency: Frequency(freq), FrequencyCount: count, UpdatedAt: date, PlanName: plan,
			Status: DisputeSubscriptionStatus(plan), CancellationReason: CancellationReason(freq)})
	})
}
