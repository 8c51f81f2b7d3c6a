package subkittest

import (
	"testing"

	"github.com/subkit-go/subkit"
)

// Polar judges "free" by the product's default price in the organization's
// currency: the first fixed, custom or seat-based price in it, else the
// first (server/polar/product/price_set.py, subscription/service.py).
func TestPolarFreeIsTheDefaultPriceInTheOrganizationsCurrency(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	add := func(prices ...PolarPrice) string { return s.AddPolarProduct(PolarProduct{Prices: prices}) }
	free := []string{
		add(PolarPrice{AmountType: PolarPriceMeteredUnit, Amount: 5}, PolarPrice{Amount: 0}),             // a static price first
		add(PolarPrice{Amount: 900, Currency: "eur"}, PolarPrice{Amount: 0, Currency: "usd"}),            // the other currency ignored
		add(PolarPrice{AmountType: PolarPriceSeatBased, Amount: 0}, PolarPrice{Amount: 500}),             // the first static one
		add(PolarPrice{Amount: 0, Currency: "USD"}, PolarPrice{AmountType: PolarPriceCustom, Amount: 0}), // the first static one
	}
	paid := []string{
		add(PolarPrice{Amount: 0, Currency: "eur"}, PolarPrice{Amount: 900, Currency: "usd"}),
		add(PolarPrice{AmountType: PolarPriceCustom, Amount: 0}), // pay what you want is never free
		add(PolarPrice{AmountType: PolarPriceMeteredUnit, Amount: 0}),
		add(PolarPrice{AmountType: PolarPriceSeatBased, Amount: 100}),
	}
	rc := rawCreates[subkit.Polar]
	body := func(product string) string {
		return `{"product_id":"` + product + `","customer_id":"` + customerID + `"}`
	}
	for i, p := range free {
		if got := post(t, s.URL()+rc.path, rc.header, body(p)); got.status != 201 {
			t.Errorf("free product %d: %d %s", i, got.status, got.body)
		}
	}
	for _, p := range paid {
		expectAnswer(t, post(t, s.URL()+rc.path, rc.header, body(p)), 422,
			`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],`+
				`"msg":"Product is not free. The customer should go through a checkout to create a paid subscription.","input":"`+p+`"}]}`)
	}
	// A product without a price in the organization's currency: Polar's
	// PriceSet raises NoPricesForCurrencies, a 500.
	euro := add(PolarPrice{Amount: 0, Currency: "eur"})
	expectAnswer(t, post(t, s.URL()+rc.path, rc.header, body(euro)), 500,
		`{"error":"NoPricesForCurrencies","detail":"No prices found for currencies: ['usd']"}`)
	mustHold(t, s, subkit.Polar, len(free))

	// In a euro organization the euro price decides, and the subscription is
	// in euros with the euro prices only.
	e := newServer(t, WithPolarCurrency("EUR"))
	mixed := e.AddPolarProduct(PolarProduct{Prices: []PolarPrice{{Amount: 900, Currency: "usd"}, {Amount: 0, Currency: "eur"}}})
	created := decodeObject(t, []byte(createPolarRaw(t, e, body(mixed))))
	prices, _ := created["prices"].([]any)
	product, _ := created["product"].(map[string]any)
	productPrices, _ := product["prices"].([]any)
	if created["currency"] != "eur" || len(prices) != 1 || prices[0].(map[string]any)["price_currency"] != "eur" || len(productPrices) != 2 {
		t.Errorf("euro subscription: currency %v, prices %v, product prices %v", created["currency"], prices, productPrices)
	}
}

// The product is checked first, in Polar's order; the first problem ends
// the request.
func TestPolarProductRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	legacy := s.AddPolarProduct(PolarProduct{Legacy: true, PriceAmount: 500})
	once := s.AddPolarProduct(PolarProduct{NotRecurring: true, Legacy: true})
	rc := rawCreates[subkit.Polar]
	refused := func(product, msg string) {
		t.Helper()
		expectAnswer(t, post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+product+`","external_customer_id":"nobody"}`), 422,
			`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","product_id"],"msg":"`+msg+`","input":"`+product+`"}]}`)
	}
	refused(legacy, "Legacy recurring products are not supported.")
	refused(once, "Product is not a recurring product.")
	mustHold(t, s, subkit.Polar, 0)
}

// A seat-based product's subscription starts with its minimum seats and
// makes the customer a team; other subscriptions have seats null.
func TestPolarSeats(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	seated := s.AddPolarProduct(PolarProduct{Prices: []PolarPrice{{AmountType: PolarPriceSeatBased, MinimumSeats: 5}}})
	created := decodeObject(t, []byte(createPolarRaw(t, s, `{"product_id":"`+seated+`","customer_id":"`+customerID+`"}`)))
	customer, _ := created["customer"].(map[string]any)
	price, _ := created["prices"].([]any)[0].(map[string]any)
	tiers, _ := price["seat_tiers"].(map[string]any)
	if created["seats"] != 5.0 || customer["type"] != "team" || price["amount_type"] != "seat_based" || tiers["minimum_seats"] != 5.0 {
		t.Errorf("seat-based: seats %v, customer type %v, price %v", created["seats"], customer["type"], price)
	}
	created = decodeObject(t, []byte(createPolarRaw(t, s, rawCreates[subkit.Polar].body)))
	if seats, ok := created["seats"]; !ok || seats != nil {
		t.Errorf("fixed price: seats %v (present %v)", seats, ok)
	}
	// The customer stays a team.
	if customer, _ := created["customer"].(map[string]any); customer["type"] != "team" {
		t.Errorf("customer type %v", customer["type"])
	}
}

// A soft-deleted customer does not exist for Polar.
func TestPolarDeletedCustomer(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	gone := s.AddPolarCustomer(PolarCustomer{ExternalID: "usr_gone", Deleted: true})
	rc := rawCreates[subkit.Polar]
	for key, value := range map[string]string{"customer_id": gone, "external_customer_id": "usr_gone"} {
		expectAnswer(t, post(t, s.URL()+rc.path, rc.header, `{"product_id":"`+productID+`","`+key+`":"`+value+`"}`), 422,
			`{"error":"PolarRequestValidationError","detail":[{"type":"value_error","loc":["body","`+key+`"],"msg":"Customer does not exist.","input":"`+value+`"}]}`)
	}
	mustHold(t, s, subkit.Polar, 0)
}
