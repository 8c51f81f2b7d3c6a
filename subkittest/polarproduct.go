package subkittest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// PolarProduct is a product to register with AddPolarProduct. Zero fields
// take the defaults of a free monthly product.
type PolarProduct struct {
	// ID is the product's UUID; "" draws a version 4 UUID.
	ID string
	// Name defaults to "Free".
	Name string
	// RecurringInterval is day, week, month (the default) or year;
	// RecurringIntervalCount defaults to 1. A subscription's period ends
	// this far after it starts.
	RecurringInterval      string
	RecurringIntervalCount int
	// PriceAmount and Currency ("usd" by default) make the product's one
	// fixed price when Prices is empty: 0 (the default) makes it free.
	PriceAmount int
	Currency    string
	// Prices are the product's prices, in place of PriceAmount and
	// Currency. Polar subscribes a customer through the API only when the
	// product's default price in the organization's currency (see
	// WithPolarCurrency) is free: the first fixed, custom or seat-based
	// price in that currency, else the first price in it. A product without
	// a price in that currency makes the create fail with Polar's 500
	// NoPricesForCurrencies.
	Prices []PolarPrice
	// NotRecurring makes a one-time product, which creates are refused for
	// ("Product is not a recurring product.").
	NotRecurring bool
	// Legacy makes a legacy recurring product (its interval set on its
	// prices, as Polar's products were before it moved it to the product),
	// which creates are refused for ("Legacy recurring products are not
	// supported.").
	Legacy bool
}

// The amount types of a PolarPrice (Polar's ProductPriceAmountType).
// unit_based is not modelled.
const (
	PolarPriceFixed       = "fixed"
	PolarPriceCustom      = "custom"
	PolarPriceSeatBased   = "seat_based"
	PolarPriceMeteredUnit = "metered_unit"
)

// PolarPrice is one price of a PolarProduct.
type PolarPrice struct {
	// AmountType is PolarPriceFixed (the default), PolarPriceCustom,
	// PolarPriceSeatBased or PolarPriceMeteredUnit.
	AmountType string
	// Currency defaults to "usd".
	Currency string
	// Amount is in the smallest currency unit: a fixed price's amount (0 is
	// free), a custom (pay what you want) price's minimum (never free), the
	// price per seat of a seat-based price's one tier (0 is free), a metered
	// price's unit amount (never free).
	Amount int
	// MinimumSeats is a seat-based price's minimum, 1 when 0: a
	// subscription to the product starts with that many seats.
	MinimumSeats int
}

// AddPolarProduct registers a Polar product and returns its ID in canonical
// form. A create for a product that was not registered is refused with 422
// "Product does not exist." (unless WithImplicitResources is on and no
// product is registered). It panics if the ID is not a UUID, or the
// interval or a price's amount type is unknown.
func (s *Server) AddPolarProduct(p PolarProduct) string {
	id := canonicalUUID(p.ID, "AddPolarProduct")
	prod := &polarProduct{id: id, name: p.Name, interval: p.RecurringInterval, count: p.RecurringIntervalCount,
		notRecurring: p.NotRecurring, legacy: p.Legacy, createdAt: s.now()}
	if prod.name == "" {
		prod.name = "Free"
	}
	if prod.interval == "" {
		prod.interval = "month"
	}
	if !slices.Contains([]string{"day", "week", "month", "year"}, prod.interval) {
		panic(fmt.Sprintf("subkittest: AddPolarProduct: unknown recurring interval %q", p.RecurringInterval))
	}
	if prod.count < 1 {
		prod.count = 1
	}
	prices := p.Prices
	if len(prices) == 0 {
		prices = []PolarPrice{{Amount: p.PriceAmount, Currency: p.Currency}}
	}
	for _, pp := range prices {
		if pp.AmountType == "" {
			pp.AmountType = PolarPriceFixed
		}
		if !slices.Contains([]string{PolarPriceFixed, PolarPriceCustom, PolarPriceSeatBased, PolarPriceMeteredUnit}, pp.AmountType) {
			panic(fmt.Sprintf("subkittest: AddPolarProduct: unknown price amount type %q", pp.AmountType))
		}
		if pp.Currency == "" {
			pp.Currency = "usd"
		}
		pp.Currency = strings.ToLower(pp.Currency)
		if pp.MinimumSeats < 1 {
			pp.MinimumSeats = 1
		}
		prod.prices = append(prod.prices, polarPrice{PolarPrice: pp, id: newUUID4(), meterID: newUUID4()})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.polar.products[id] = prod
	return id
}

// WithPolarCurrency sets the Polar organization's default presentment
// currency, "usd" by default: a create subscribes the customer to the
// product's prices in it, and is refused unless the default one is free.
func WithPolarCurrency(currency string) ServerOption {
	return func(s *Server) { s.polar.currency = strings.ToLower(currency) }
}

// polarProduct is what the fake knows of a Polar product.
type polarProduct struct {
	id, name, interval   string
	count                int
	notRecurring, legacy bool
	prices               []polarPrice
	createdAt            time.Time
}

type polarPrice struct {
	PolarPrice
	id, meterID string
}

// implicitPolarProduct is the product WithImplicitResources makes up for
// an ID: free and monthly.
func implicitPolarProduct(id string, now time.Time) *polarProduct {
	return &polarProduct{id: id, name: "Free", interval: "month", count: 1, createdAt: now,
		prices: []polarPrice{{PolarPrice: PolarPrice{AmountType: PolarPriceFixed, Currency: "usd", MinimumSeats: 1},
			id: newUUID4(), meterID: newUUID4()}}}
}

// pricesIn returns the product's prices in currency, as Polar's PriceSet
// does (server/polar/product/price_set.py).
func (p *polarProduct) pricesIn(currency string) []polarPrice {
	var out []polarPrice
	for _, pp := range p.prices {
		if pp.Currency == currency {
			out = append(out, pp)
		}
	}
	return out
}

// defaultPrice is PriceSet.get_default_price: the first static price
// (fixed, custom or seat-based), else the first.
func defaultPrice(prices []polarPrice) polarPrice {
	for _, pp := range prices {
		if pp.AmountType != PolarPriceMeteredUnit {
			return pp
		}
	}
	return prices[0]
}

// free is ProductPrice.is_free (server/polar/models/product_price.py).
func (pp polarPrice) free() bool {
	switch pp.AmountType {
	case PolarPriceFixed, PolarPriceSeatBased:
		return pp.Amount == 0
	}
	return false
}

// seats is the number of seats a subscription to prices starts with: the
// minimum of its seat-based price, nil without one.
func seatsOf(prices []polarPrice) *int {
	for _, pp := range prices {
		if pp.AmountType == PolarPriceSeatBased {
			n := pp.MinimumSeats
			return &n
		}
	}
	return nil
}

// json is the price as Polar answers it.
func (pp polarPrice) json(p *polarProduct) *pyjson.Object {
	o := pyjson.NewObject().Set("created_at", pyTime(p.createdAt)).Set("modified_at", nil).Set("id", pp.id).
		Set("source", "catalog").Set("amount_type", pp.AmountType).Set("price_currency", pp.Currency).
		Set("tax_behavior", nil).Set("is_archived", false).Set("product_id", p.id)
	switch pp.AmountType {
	case PolarPriceFixed:
		o.Set("price_amount", pp.Amount)
	case PolarPriceCustom:
		o.Set("minimum_amount", pp.Amount).Set("maximum_amount", nil).Set("preset_amount", nil)
	case PolarPriceSeatBased:
		tier := pyjson.NewObject().Set("min_seats", 1).Set("max_seats", nil).Set("price_per_seat", pp.Amount)
		o.Set("seat_tiers", pyjson.NewObject().Set("seat_tier_type", "volume").Set("tiers", []pyjson.Value{tier}).
			Set("minimum_seats", pp.MinimumSeats).Set("maximum_seats", nil))
	case PolarPriceMeteredUnit:
		o.Set("unit_amount", strconv.Itoa(pp.Amount)).Set("cap_amount", nil).Set("meter_id", pp.meterID).
			Set("meter", pyjson.NewObject().Set("id", pp.meterID).Set("name", "Usage").Set("unit", "scalar").
				Set("custom_label", nil).Set("custom_multiplier", nil))
	}
	o.Set("type", "recurring").Set("recurring_interval", p.interval)
	if pp.AmountType == PolarPriceSeatBased {
		o.Set("price_per_seat", pp.Amount)
	}
	return o
}
