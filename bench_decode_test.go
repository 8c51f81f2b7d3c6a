package subkit_test

// Benchmarks of the parts of a call that do not need the network: decoding
// each fixture, validating metadata, and how decoding (and a whole create)
// grows with the size of a Polar answer.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/subkit-go/subkit"
)

// BenchmarkDecodeFixture decodes each API's fixture into its result type, as
// the SDK does after reading a 2xx body. (Polar's typed decode against
// map[string]any is BenchmarkDecodeSubscriptionTyped/Map.)
func BenchmarkDecodeFixture(b *testing.B) {
	b.Run("chatdash-connect", func(b *testing.B) {
		benchDecode[subkit.ConnectSubscription](b, benchReadFixture(b, "chatdash-create-subscription.json"), 0)
	})
	b.Run("chargeflow-dispute", func(b *testing.B) {
		benchDecode[subkit.DisputeSubscription](b, benchReadFixture(b, "chargeflow-create-subscription.json"), 0)
	})
	b.Run("polar-subscription", func(b *testing.B) {
		benchDecode[subkit.Subscription](b, benchReadFixture(b, "polar-subscription.json"), 0)
	})
}

func benchDecode[T any](b *testing.B, data []byte, elems int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var v T
		if err := json.Unmarshal(data, &v); err != nil {
			b.Fatal(err)
		}
	}
	if elems > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(elems), "ns/elem")
	}
}

// BenchmarkValidateMetadata measures the SDK's client-side validation of a
// metadata map on its own. Through the public API validation runs only inside
// a create, so the create is given an empty ProductID: it fails with
// ErrInvalidParams after validating everything (validation reports every
// problem, so all pairs are still checked) and before any I/O, which the
// benchmark verifies. pairs=0 is the same failing call without metadata, so
// (pairs=50 − pairs=0) / 50 is the cost of one pair; ns/pair divides the whole
// call by 50 and is an upper bound. The cost of validation within a real call
// is BenchmarkCreate/polar-customer-md50 (sdk against baseline).
func BenchmarkValidateMetadata(b *testing.B) {
	for _, pairs := range []int{0, 50} {
		b.Run(fmt.Sprintf("pairs=%d", pairs), func(b *testing.B) {
			srv := benchStartServer(b)
			client, err := subkit.New(subkit.WithOrganizationToken(benchPolarToken), subkit.WithBaseURL(subkit.Polar, srv.URL))
			if err != nil {
				b.Fatal(err)
			}
			defer client.CloseIdleConnections()
			ctx := context.Background()
			var md subkit.Metadata
			if pairs > 0 {
				md = benchMetadata(pairs)
			}
			p := &subkit.CustomerSubscriptionParams{ProductID: "", CustomerID: benchCustomerID, Metadata: md}

			_, err = client.Subscriptions.CreateForCustomer(ctx, p)
			ve, ok := benchIsValidation(err)
			if !ok {
				b.Fatalf("want a ValidationError, got %v", err)
			}
			for _, f := range ve.Fields {
				if f.Field != "product_id" {
					b.Fatalf("the metadata should be valid, so that every pair is checked; got a problem with %s: %s", f.Field, f.Message)
				}
			}

			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.Subscriptions.CreateForCustomer(ctx, p); err == nil {
					b.Fatal("the invalid create succeeded")
				}
			}
			if n := srv.requests.Load(); n != 0 {
				b.Fatalf("validation failures sent %d requests", n)
			}
			if pairs > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(pairs), "ns/pair")
			}
		})
	}
}

// BenchmarkGrowth shows how cost grows with the answer: a Polar subscription
// with n prices and n meters (generated from the fixture), decoded alone and
// through a whole CreateForCustomer (SDK and baseline). ns/elem is the time
// per op divided by n; scripts/bench derives the marginal cost of one price
// plus one meter from the slopes 1→10 and 10→100, which must agree for the
// growth to be linear.
func BenchmarkGrowth(b *testing.B) {
	srv := benchStartServer(b)
	for _, n := range benchGrowth {
		body := srv.routes[benchGrowthPrefix(n)+benchPolarPath].body
		b.Run(fmt.Sprintf("decode/n=%d", n), func(b *testing.B) { benchDecode[subkit.Subscription](b, body, n) })
	}
	var call benchCall
	for _, c := range benchCalls() {
		if c.name == "polar-customer" {
			call = c
		}
	}
	for _, n := range benchGrowth {
		ep := benchAt(srv)
		ep.polar = srv.URL + benchGrowthPrefix(n)
		b.Run(fmt.Sprintf("create/n=%d", n), func(b *testing.B) {
			for _, impl := range benchImpls() {
				b.Run(impl, func(b *testing.B) { benchSerial(b, srv, call, impl, ep, n) })
			}
		})
	}
}

// benchGrowthBody is the Polar fixture with n prices and n meters, made by
// repeating the fixture's own (a fixed and a metered price, one meter) with
// distinct IDs.
func benchGrowthBody(tb testing.TB, fixture []byte, n int) []byte {
	tb.Helper()
	var doc map[string]json.RawMessage
	must := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	must(json.Unmarshal(fixture, &doc))
	repeat := func(key string, idPrefix string) json.RawMessage {
		var items []map[string]json.RawMessage
		must(json.Unmarshal(doc[key], &items))
		if len(items) == 0 {
			tb.Fatalf("the fixture has no %s", key)
		}
		out := make([]map[string]json.RawMessage, n)
		for i := range out {
			item := make(map[string]json.RawMessage, len(items[i%len(items)]))
			for k, v := range items[i%len(items)] {
				item[k] = v
			}
			id := fmt.Sprintf("%s-0000-4000-8000-%012d", idPrefix, i)
			item["id"] = json.RawMessage(`"` + id + `"`)
			out[i] = item
		}
		raw, err := json.Marshal(out)
		must(err)
		return raw
	}
	doc["prices"] = repeat("prices", "5d0c1c3e")
	doc["meters"] = repeat("meters", "b4a0d3e2")
	raw, err := json.Marshal(doc)
	must(err)
	if c := strings.Count(string(raw), `"consumed_units"`); c != n {
		tb.Fatalf("generated %d meters, want %d", c, n)
	}
	return raw
}
