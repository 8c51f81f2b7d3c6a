package subkit

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/subkit-go/subkit/internal/wire"
)

// Metadata is a set of key-value pairs attached to an object (Polar's metadata).
//
// Values a caller may send are string, bool, any Go integer kind, and float32/float64.
// Decoded metadata holds string, bool, int64 for JSON integers that fit in an int64, and
// float64 for every other number (a fraction or an exponent, as in 1.0 or 1e3, or an integer
// too large for int64). A JSON null becomes a nil value; a nested object or array, which
// Polar does not send today, becomes the map[string]any or []any encoding/json would give.
type Metadata map[string]any

// UnmarshalJSON decodes a JSON object, keeping integers exact: encoding/json's default would
// turn them into float64 and silently round IDs above 2^53. The result replaces the map
// rather than merging into it, and a null makes it nil. A number too large for a float64
// (1e400) is an error, as it is for encoding/json.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	v, err := wire.DecodeObject(data, "metadata")
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// CustomFieldData holds the values a customer entered in a product's custom fields, keyed by
// the field's slug. Values decode as for [Metadata]: string, int64 (float64 for numbers that
// are not integers), bool, or nil for a field left empty. Date-time fields stay RFC 3339
// strings, because nothing on the wire tells them apart from text fields.
type CustomFieldData map[string]any

// UnmarshalJSON decodes a JSON object the same way as [Metadata.UnmarshalJSON].
func (c *CustomFieldData) UnmarshalJSON(data []byte) error {
	v, err := wire.DecodeObject(data, "custom_field_data")
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// SubscriptionStatus is the state of a Polar subscription. Polar adds states over time
// (paused arrived in 2026-07), so the type is open: an unknown value decodes as itself.
type SubscriptionStatus string

// Known values of [SubscriptionStatus].
const (
	SubscriptionStatusIncomplete        SubscriptionStatus = "incomplete"
	SubscriptionStatusIncompleteExpired SubscriptionStatus = "incomplete_expired"
	SubscriptionStatusTrialing          SubscriptionStatus = "trialing"
	SubscriptionStatusActive            SubscriptionStatus = "active"
	SubscriptionStatusPastDue           SubscriptionStatus = "past_due"
	SubscriptionStatusCanceled          SubscriptionStatus = "canceled"
	SubscriptionStatusUnpaid            SubscriptionStatus = "unpaid"
	SubscriptionStatusPaused            SubscriptionStatus = "paused"
)

// RecurringInterval is the unit of a billing or trial period. The type is open: an unknown
// value decodes as itself.
type RecurringInterval string

// Known values of [RecurringInterval].
const (
	RecurringIntervalDay   RecurringInterval = "day"
	RecurringIntervalWeek  RecurringInterval = "week"
	RecurringIntervalMonth RecurringInterval = "month"
	RecurringIntervalYear  RecurringInterval = "year"
)

// CustomerCancellationReason is the reason a customer gave when canceling a Polar
// subscription. The type is open: an unknown value decodes as itself.
type CustomerCancellationReason string

// Known values of [CustomerCancellationReason].
const (
	CustomerCancellationCustomerService CustomerCancellationReason = "customer_service"
	CustomerCancellationLowQuality      CustomerCancellationReason = "low_quality"
	CustomerCancellationMissingFeatures CustomerCancellationReason = "missing_features"
	CustomerCancellationSwitchedService CustomerCancellationReason = "switched_service"
	CustomerCancellationTooComplex      CustomerCancellationReason = "too_complex"
	CustomerCancellationTooExpensive    CustomerCancellationReason = "too_expensive"
	CustomerCancellationUnused          CustomerCancellationReason = "unused"
	CustomerCancellationOther           CustomerCancellationReason = "other"
)

// CustomerType says whether a Polar customer is a person or a team. The type is open: an
// unknown value decodes as itself.
type CustomerType string

// Known values of [CustomerType].
const (
	CustomerTypeIndividual CustomerType = "individual"
	CustomerTypeTeam       CustomerType = "team"
)

// AmountType is the discriminator of a Polar [Price]: it says which of the price's amount
// fields are meaningful. The type is open: an unknown value decodes as itself.
type AmountType string

// Known values of [AmountType].
const (
	AmountTypeFixed       AmountType = "fixed"        // PriceAmount
	AmountTypeCustom      AmountType = "custom"       // MinimumAmount, MaximumAmount, PresetAmount
	AmountTypeSeatBased   AmountType = "seat_based"   // SeatTiers
	AmountTypeMeteredUnit AmountType = "metered_unit" // UnitAmount, CapAmount, MeterID, Meter
	AmountTypeFree        AmountType = "free"         // no amount; found in older data
)

// DiscountType is the discriminator of a Polar [Discount]'s value: a fixed amount off or a
// percentage off. The type is open: an unknown value decodes as itself.
type DiscountType string

// Known values of [DiscountType].
const (
	DiscountTypeFixed      DiscountType = "fixed"      // Amount, Currency, Amounts
	DiscountTypePercentage DiscountType = "percentage" // BasisPoints
)

// DiscountDuration says for how many billing periods a Polar [Discount] applies. The type is
// open: an unknown value decodes as itself.
type DiscountDuration string

// Known values of [DiscountDuration].
const (
	DiscountDurationOnce      DiscountDuration = "once"      // the first period only
	DiscountDurationForever   DiscountDuration = "forever"   // every period
	DiscountDurationRepeating DiscountDuration = "repeating" // DurationInMonths months
)

// The Polar Subscription object graph. (subkittest answers with structs of
// its own of the same shapes, on purpose: the fake checks the SDK
// independently instead of agreeing with it by construction.) Everything decodes with plain encoding/json struct
// tags (fast, one pass); only Metadata, CustomFieldData and TaxID have their own decoders.
// Unions (Price, Discount) are single structs holding every variant's fields, told apart by
// their discriminator, so decoding never has to guess a variant. Unknown keys are ignored
// and unknown enum values are kept. Amounts are integers in the smallest currency unit
// (cents for usd).

// Subscription is a Polar subscription as the API returns it.
type Subscription struct {
	// ID is the subscription's UUID.
	ID string `json:"id"`
	// CreatedAt is when the subscription was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when it last changed; nil if it never has.
	ModifiedAt *time.Time `json:"modified_at"`

	// Amount is what each period costs, in the smallest currency unit (0 for free products).
	Amount int64 `json:"amount"`
	// Currency is the lowercase ISO 4217 code of Amount, e.g. "usd".
	Currency string `json:"currency"`
	// RecurringInterval is the unit of a billing period.
	RecurringInterval RecurringInterval `json:"recurring_interval"`
	// RecurringIntervalCount is how many RecurringIntervals make one billing period.
	RecurringIntervalCount int64 `json:"recurring_interval_count"`
	// Status is the subscription's state; unknown states are kept as sent.
	Status SubscriptionStatus `json:"status"`

	// CurrentPeriodStart is when the current billing period began.
	CurrentPeriodStart time.Time `json:"current_period_start"`
	// CurrentPeriodEnd is when the current billing period ends; nil in some older data.
	CurrentPeriodEnd *time.Time `json:"current_period_end"`
	// CurrentMeterPeriodStart is when the current metering period began; nil without meters.
	CurrentMeterPeriodStart *time.Time `json:"current_meter_period_start"`
	// CurrentMeterPeriodEnd is when the current metering period ends; nil without meters.
	CurrentMeterPeriodEnd *time.Time `json:"current_meter_period_end"`
	// TrialStart is when the trial began; nil without a trial.
	TrialStart *time.Time `json:"trial_start"`
	// TrialEnd is when the trial ends or ended; nil without a trial.
	TrialEnd *time.Time `json:"trial_end"`
	// CancelAtPeriodEnd reports whether the subscription will be canceled when the current
	// period ends.
	CancelAtPeriodEnd bool `json:"cancel_at_period_end"`
	// CanceledAt is when cancellation was requested; nil if it was not.
	CanceledAt *time.Time `json:"canceled_at"`
	// StartedAt is when the subscription started; nil if it has not.
	StartedAt *time.Time `json:"started_at"`
	// EndsAt is when the subscription is scheduled to end; nil if it is not.
	EndsAt *time.Time `json:"ends_at"`
	// EndedAt is when the subscription ended; nil if it has not.
	EndedAt *time.Time `json:"ended_at"`
	// PastDueAt is when a payment first failed in the current dunning; nil if none did.
	PastDueAt *time.Time `json:"past_due_at"`
	// PauseAtPeriodEnd reports whether the subscription will pause when the current period ends.
	PauseAtPeriodEnd bool `json:"pause_at_period_end"`
	// PausedAt is when the subscription was paused; nil if it is not paused.
	PausedAt *time.Time `json:"paused_at"`
	// ResumesAt is when a paused subscription resumes; nil if it is not paused or resumes
	// only on request.
	ResumesAt *time.Time `json:"resumes_at"`

	// CustomerID is the Polar UUID of the customer.
	CustomerID string `json:"customer_id"`
	// ProductID is the UUID of the subscribed product.
	ProductID string `json:"product_id"`
	// DiscountID is the UUID of the applied discount; nil without one.
	DiscountID *string `json:"discount_id"`
	// CheckoutID is the UUID of the checkout that created the subscription; nil if none did
	// (as for subscriptions created through the API).
	CheckoutID *string `json:"checkout_id"`
	// Seats is the number of seats of a seat-based subscription; nil otherwise.
	Seats *int64 `json:"seats"`
	// CustomerCancellationReason is the reason the customer gave when canceling; nil if none.
	CustomerCancellationReason *CustomerCancellationReason `json:"customer_cancellation_reason"`
	// CustomerCancellationComment is the customer's comment when canceling; nil if none.
	CustomerCancellationComment *string `json:"customer_cancellation_comment"`

	// Metadata is the subscription's metadata; integers decode as int64.
	// A subscription made by a keyed create (WithIdempotencyKey,
	// RetryPolicy.Reconcile) holds its key here under
	// "subkit_idempotency_key" (see IdempotencyKey). It is left in on
	// purpose: Polar's metadata update replaces the whole object, so code
	// that updates the metadata from this map keeps the key, and the create
	// stays findable.
	Metadata Metadata `json:"metadata"`
	// CustomFieldData holds the customer's answers to the product's custom fields; nil if
	// the server sent none.
	CustomFieldData CustomFieldData `json:"custom_field_data"`

	// Customer is the subscribing customer.
	Customer Customer `json:"customer"`
	// Product is the subscribed product.
	Product Product `json:"product"`
	// Prices are the product prices this subscription is billed with.
	Prices []Price `json:"prices"`
	// Discount is the applied discount; nil without one.
	Discount *Discount `json:"discount"`
	// Meters are the usage meters of the subscription's metered prices, with usage so far
	// in the current meter period.
	Meters []SubscriptionMeter `json:"meters"`
	// PendingUpdate is a change scheduled for a later date (a product or seat change);
	// nil if none is pending.
	PendingUpdate *PendingUpdate `json:"pending_update"`
}

// Customer is a Polar customer.
type Customer struct {
	// ID is the customer's Polar UUID.
	ID string `json:"id"`
	// CreatedAt is when the customer was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the customer last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Metadata is the customer's metadata.
	Metadata Metadata `json:"metadata"`
	// ExternalID is your system's ID for the customer; nil if none was set.
	ExternalID *string `json:"external_id"`
	// Email is the customer's e-mail address; nil if unknown.
	Email *string `json:"email"`
	// EmailVerified reports whether the customer confirmed Email.
	EmailVerified bool `json:"email_verified"`
	// Type says whether the customer is a person or a team.
	Type CustomerType `json:"type"`
	// Name is the customer's name; nil if unknown.
	Name *string `json:"name"`
	// BillingName is the name to print on invoices; nil to use Name.
	BillingName *string `json:"billing_name"`
	// BillingAddress is the customer's billing address; nil if unknown.
	BillingAddress *Address `json:"billing_address"`
	// TaxID is the customer's tax number; nil if none.
	TaxID *TaxID `json:"tax_id"`
	// Locale is the customer's preferred locale, e.g. "en"; nil if unknown.
	Locale *string `json:"locale"`
	// OrganizationID is the UUID of the Polar organization that owns the customer.
	OrganizationID string `json:"organization_id"`
	// DeletedAt is when the customer was deleted; nil if it was not.
	DeletedAt *time.Time `json:"deleted_at"`
	// AvatarURL is the URL of the customer's avatar image; nil if none.
	AvatarURL *string `json:"avatar_url"`
}

// Address is a postal address. Only Country is always present; a nil field was not given.
type Address struct {
	// Country is the ISO 3166-1 alpha-2 country code, e.g. "US".
	Country string `json:"country"`
	// Line1 is the first street line; nil if not given.
	Line1 *string `json:"line1"`
	// Line2 is the second street line; nil if not given.
	Line2 *string `json:"line2"`
	// PostalCode is the postal or ZIP code; nil if not given.
	PostalCode *string `json:"postal_code"`
	// City is the city; nil if not given.
	City *string `json:"city"`
	// State is the state or region, as an ISO 3166-2 code such as "US-CA"; nil if not given.
	State *string `json:"state"`
}

// missingID reports a response without the subscription's ID: see decodeSuccess.
func (s *Subscription) missingID() bool { return s.ID == "" }

// reservedMetadataKey is where a keyed Polar create keeps its key, so that a
// look-up can find the create again (IdempotencyKey reads it).
const reservedMetadataKey = "subkit_idempotency_key"

// IdempotencyKey returns the idempotency key the subscription was created
// under by a keyed create of this SDK, or "" if it has none.
func (s *Subscription) IdempotencyKey() string {
	k, _ := s.Metadata[reservedMetadataKey].(string)
	return k
}

// TaxID is a customer's tax number. Polar sends it as the two-element array
// [value, format], e.g. ["911144442", "us_ein"].
type TaxID struct {
	// Value is the tax number as the customer entered it.
	Value string
	// Format is Polar's code for the kind of number, e.g. "us_ein" or "eu_vat"; "" if the
	// server sent none.
	Format string
}

// UnmarshalJSON decodes the [value, format] array leniently: a null or non-string element,
// a missing element or extra elements never fail; only a value that is not an array (or
// null) does.
func (t *TaxID) UnmarshalJSON(data []byte) error {
	value, format, err := wire.DecodePair(data)
	if err != nil {
		return fmt.Errorf("subkit: tax_id: %w", err)
	}
	*t = TaxID{Value: value, Format: format}
	return nil
}

// MarshalJSON writes the wire's [value, format] array, so that a Subscription encoded with
// encoding/json decodes again.
func (t TaxID) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]string{t.Value, t.Format})
}

// Product is a Polar product.
type Product struct {
	// ID is the product's UUID.
	ID string `json:"id"`
	// CreatedAt is when the product was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the product last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Name is the product's name.
	Name string `json:"name"`
	// Description is the product's description (Markdown); nil if none.
	Description *string `json:"description"`
	// Visibility says where the product is shown, e.g. "public", "private", "draft".
	Visibility string `json:"visibility"`
	// RecurringInterval is the unit of a billing period; nil for a one-time product.
	RecurringInterval *RecurringInterval `json:"recurring_interval"`
	// RecurringIntervalCount is how many RecurringIntervals make one billing period; nil for
	// a one-time product.
	RecurringIntervalCount *int64 `json:"recurring_interval_count"`
	// TrialInterval is the unit of the trial period; nil without a trial.
	TrialInterval *RecurringInterval `json:"trial_interval"`
	// TrialIntervalCount is how many TrialIntervals the trial lasts; nil without a trial.
	TrialIntervalCount *int64 `json:"trial_interval_count"`
	// IsRecurring reports whether the product is a subscription product.
	IsRecurring bool `json:"is_recurring"`
	// IsArchived reports whether the product is archived (no longer sold).
	IsArchived bool `json:"is_archived"`
	// OrganizationID is the UUID of the Polar organization that sells the product.
	OrganizationID string `json:"organization_id"`
	// Metadata is the product's metadata.
	Metadata Metadata `json:"metadata"`
	// Prices are the product's prices.
	Prices []Price `json:"prices"`
	// Benefits are what a customer of the product is granted.
	Benefits []Benefit `json:"benefits"`
	// Medias are the product's images.
	Medias []ProductMedia `json:"medias"`
	// AttachedCustomFields are the custom fields asked at checkout.
	AttachedCustomFields []AttachedCustomField `json:"attached_custom_fields"`
}

// Price is a Polar product price. The wire has one shape per AmountType; Price holds the
// fields of all of them, and AmountType says which are meaningful. Fields of other variants
// are zero or nil. An unknown AmountType is kept as sent, with the common fields filled.
type Price struct {
	// ID is the price's UUID.
	ID string `json:"id"`
	// CreatedAt is when the price was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the price last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Source says where the price comes from, e.g. "catalog" or "ad_hoc".
	Source string `json:"source"`
	// AmountType is the discriminator: which variant this price is.
	AmountType AmountType `json:"amount_type"`
	// PriceCurrency is the lowercase ISO 4217 code of the price's amounts, e.g. "usd".
	PriceCurrency string `json:"price_currency"`
	// TaxBehavior says whether amounts include tax ("inclusive", "exclusive"); nil for the
	// organization's default.
	TaxBehavior *string `json:"tax_behavior"`
	// IsArchived reports whether the price is archived.
	IsArchived bool `json:"is_archived"`
	// ProductID is the UUID of the price's product.
	ProductID string `json:"product_id"`

	// Legacy reports a price from Polar's older price model, which also sets Type and
	// RecurringInterval.
	Legacy bool `json:"legacy"`
	// Type is the older price model's kind, "recurring" or "one_time"; "" if not sent.
	Type string `json:"type"`
	// RecurringInterval is the older price model's billing period unit; nil if not sent.
	RecurringInterval *RecurringInterval `json:"recurring_interval"`

	// PriceAmount is the fixed price in the smallest currency unit (fixed); nil for other
	// variants.
	PriceAmount *int64 `json:"price_amount"`

	// MinimumAmount is the least a customer may pay, in the smallest currency unit (custom);
	// nil for other variants.
	MinimumAmount *int64 `json:"minimum_amount"`
	// MaximumAmount is the most a customer may pay, in the smallest currency unit (custom);
	// nil if unlimited or another variant.
	MaximumAmount *int64 `json:"maximum_amount"`
	// PresetAmount is the amount suggested at checkout, in the smallest currency unit
	// (custom); nil if none or another variant.
	PresetAmount *int64 `json:"preset_amount"`

	// SeatTiers is the per-seat pricing (seat_based); nil for other variants.
	SeatTiers *SeatTiers `json:"seat_tiers"`

	// UnitAmount is the price of one unit in the smallest currency unit, as the exact decimal
	// string the server sent (it may be fractional, e.g. "0.0125" cents), so no precision is
	// lost (metered_unit); "" for other variants.
	UnitAmount string `json:"unit_amount"`
	// CapAmount is the most a period's usage may cost, in the smallest currency unit
	// (metered_unit); nil if uncapped or another variant.
	CapAmount *int64 `json:"cap_amount"`
	// MeterID is the UUID of the meter that counts the units (metered_unit); "" for other
	// variants.
	MeterID string `json:"meter_id"`
	// Meter is the meter that counts the units (metered_unit); nil for other variants.
	Meter *Meter `json:"meter"`
}

// SeatTiers is the pricing of a seat-based price.
type SeatTiers struct {
	// SeatTierType says how tiers apply, e.g. "volume" or "graduated".
	SeatTierType string `json:"seat_tier_type"`
	// Tiers are the seat ranges and their per-seat prices.
	Tiers []SeatTier `json:"tiers"`
	// MinimumSeats is the fewest seats that may be bought.
	MinimumSeats int64 `json:"minimum_seats"`
	// MaximumSeats is the most seats that may be bought; nil if unlimited.
	MaximumSeats *int64 `json:"maximum_seats"`
}

// SeatTier is one seat range of a seat-based price.
type SeatTier struct {
	// MinSeats is the first seat count of the range.
	MinSeats int64 `json:"min_seats"`
	// MaxSeats is the last seat count of the range; nil if open-ended.
	MaxSeats *int64 `json:"max_seats"`
	// PricePerSeat is the price of one seat in this range, in the smallest currency unit.
	PricePerSeat int64 `json:"price_per_seat"`
}

// Meter is a Polar usage meter, as embedded in prices and subscription meters.
type Meter struct {
	// ID is the meter's UUID.
	ID string `json:"id"`
	// Name is the meter's name.
	Name string `json:"name"`
	// Unit is what the meter counts, e.g. "scalar" or "token".
	Unit string `json:"unit"`
	// CustomLabel is the label shown for the unit; nil for the default.
	CustomLabel *string `json:"custom_label"`
	// CustomMultiplier scales the counted units for display; nil for none (1).
	CustomMultiplier *float64 `json:"custom_multiplier"`
}

// Benefit is something a product grants its customers (a license key, a file, a Discord
// role, …).
type Benefit struct {
	// ID is the benefit's UUID.
	ID string `json:"id"`
	// CreatedAt is when the benefit was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the benefit last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Type is the kind of benefit, e.g. "custom", "license_keys", "meter_credit"; new kinds
	// are kept as sent.
	Type string `json:"type"`
	// Description is the benefit's description.
	Description string `json:"description"`
	// Selectable reports whether the benefit can be added to products.
	Selectable bool `json:"selectable"`
	// Deletable reports whether the benefit can be deleted.
	Deletable bool `json:"deletable"`
	// OrganizationID is the UUID of the organization that owns the benefit.
	OrganizationID string `json:"organization_id"`
	// Metadata is the benefit's metadata.
	Metadata Metadata `json:"metadata"`
	// Properties are the settings of the benefit's Type, as encoding/json decodes them
	// (numbers are float64); nil if not sent.
	Properties map[string]any `json:"properties"`
}

// ProductMedia is an image attached to a product.
type ProductMedia struct {
	// ID is the file's UUID.
	ID string `json:"id"`
	// CreatedAt is when the file was uploaded.
	CreatedAt time.Time `json:"created_at"`
	// OrganizationID is the UUID of the organization that owns the file.
	OrganizationID string `json:"organization_id"`
	// Name is the file's name.
	Name string `json:"name"`
	// Path is the file's path in Polar's storage.
	Path string `json:"path"`
	// MimeType is the file's media type, e.g. "image/png".
	MimeType string `json:"mime_type"`
	// Size is the file's size in bytes.
	Size int64 `json:"size"`
	// IsUploaded reports whether the upload has completed.
	IsUploaded bool `json:"is_uploaded"`
	// PublicURL is where the image can be fetched.
	PublicURL string `json:"public_url"`
}

// AttachedCustomField links a custom field to a product's checkout.
type AttachedCustomField struct {
	// CustomFieldID is the UUID of the custom field.
	CustomFieldID string `json:"custom_field_id"`
	// Order is the field's position in the checkout form.
	Order int64 `json:"order"`
	// Required reports whether the customer must fill the field.
	Required bool `json:"required"`
}

// Discount is a Polar discount. The wire has one shape per Type and Duration; Discount holds
// the fields of all of them. Type says which value fields are meaningful (fixed: Amount,
// Currency, Amounts; percentage: BasisPoints), Duration whether DurationInMonths is.
type Discount struct {
	// ID is the discount's UUID.
	ID string `json:"id"`
	// CreatedAt is when the discount was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when the discount last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// Name is the discount's name, shown to customers.
	Name string `json:"name"`
	// Code is the code customers enter at checkout; nil if the discount has none.
	Code *string `json:"code"`

	// Type is the discriminator of the discount's value: fixed or percentage.
	Type DiscountType `json:"type"`
	// Amount is the amount off, in the smallest currency unit of Currency (fixed); 0 for
	// other types.
	Amount int64 `json:"amount"`
	// Currency is the lowercase ISO 4217 code of Amount (fixed); "" for other types.
	Currency string `json:"currency"`
	// Amounts is the amount off per currency code, in each currency's smallest unit
	// (fixed); nil if not sent.
	Amounts map[string]int64 `json:"amounts"`
	// BasisPoints is the percentage off in hundredths of a percent, 1500 being 15%
	// (percentage); 0 for other types.
	BasisPoints int64 `json:"basis_points"`

	// Duration says for how many periods the discount applies.
	Duration DiscountDuration `json:"duration"`
	// DurationInMonths is how many months a repeating discount lasts; nil for other durations.
	DurationInMonths *int64 `json:"duration_in_months"`

	// StartsAt is when the discount becomes redeemable; nil if it always was.
	StartsAt *time.Time `json:"starts_at"`
	// EndsAt is when the discount stops being redeemable; nil if it never does.
	EndsAt *time.Time `json:"ends_at"`
	// MaxRedemptions is how many times the discount may be redeemed; nil if unlimited.
	MaxRedemptions *int64 `json:"max_redemptions"`
	// RedemptionsCount is how many times the discount has been redeemed.
	RedemptionsCount int64 `json:"redemptions_count"`
	// OrganizationID is the UUID of the organization that owns the discount.
	OrganizationID string `json:"organization_id"`
	// Metadata is the discount's metadata.
	Metadata Metadata `json:"metadata"`
}

// SubscriptionMeter is a subscription's usage of one meter in the current meter period.
type SubscriptionMeter struct {
	// ID is the UUID of this subscription meter.
	ID string `json:"id"`
	// CreatedAt is when it was created.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when it last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// ConsumedUnits is the usage counted so far; it may be fractional.
	ConsumedUnits float64 `json:"consumed_units"`
	// CreditedUnits is the units granted for free (by a meter-credit benefit).
	CreditedUnits int64 `json:"credited_units"`
	// Amount is what the usage costs so far, in the smallest currency unit.
	Amount int64 `json:"amount"`
	// MeterID is the meter's UUID.
	MeterID string `json:"meter_id"`
	// Meter is the meter; nil if not sent.
	Meter *Meter `json:"meter"`
}

// PendingUpdate is a change to a subscription scheduled for a later date.
type PendingUpdate struct {
	// ID is the update's UUID.
	ID string `json:"id"`
	// CreatedAt is when the update was scheduled.
	CreatedAt time.Time `json:"created_at"`
	// ModifiedAt is when it last changed; nil if never.
	ModifiedAt *time.Time `json:"modified_at"`
	// AppliesAt is when the update takes effect.
	AppliesAt time.Time `json:"applies_at"`
	// ProductID is the UUID of the product the subscription will move to; nil if the product
	// does not change.
	ProductID *string `json:"product_id"`
	// Seats is the seat count the subscription will have; nil if seats do not change.
	Seats *int64 `json:"seats"`
}
