package subkittest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/subkit-go/subkit/subkittest/internal/pyjson"
)

// The Subscription object, keys in the order Polar writes them.
type polarSubscriptionJSON struct {
	CreatedAt                   string            `json:"created_at"`
	ModifiedAt                  *string           `json:"modified_at"`
	ID                          string            `json:"id"`
	Amount                      int               `json:"amount"`
	Currency                    string            `json:"currency"`
	RecurringInterval           string            `json:"recurring_interval"`
	RecurringIntervalCount      int               `json:"recurring_interval_count"`
	Status                      string            `json:"status"`
	CurrentPeriodStart          string            `json:"current_period_start"`
	CurrentPeriodEnd            string            `json:"current_period_end"`
	CurrentMeterPeriodStart     *string           `json:"current_meter_period_start"`
	CurrentMeterPeriodEnd       *string           `json:"current_meter_period_end"`
	TrialStart                  *string           `json:"trial_start"`
	TrialEnd                    *string           `json:"trial_end"`
	CancelAtPeriodEnd           bool              `json:"cancel_at_period_end"`
	CanceledAt                  *string           `json:"canceled_at"`
	StartedAt                   string            `json:"started_at"`
	EndsAt                      *string           `json:"ends_at"`
	EndedAt                     *string           `json:"ended_at"`
	PastDueAt                   *string           `json:"past_due_at"`
	PauseAtPeriodEnd            bool              `json:"pause_at_period_end"`
	PausedAt                    *string           `json:"paused_at"`
	ResumesAt                   *string           `json:"resumes_at"`
	CustomerID                  string            `json:"customer_id"`
	ProductID                   string            `json:"product_id"`
	DiscountID                  *string           `json:"discount_id"`
	CheckoutID                  *string           `json:"checkout_id"`
	Seats                       *int              `json:"seats"`
	CustomerCancellationReason  *string           `json:"customer_cancellation_reason"`
	CustomerCancellationComment *string           `json:"customer_cancellation_comment"`
	Metadata                    *pyjson.Object    `json:"metadata"`
	CustomFieldData             struct{}          `json:"custom_field_data"`
	Customer                    polarCustomerJSON `json:"customer"`
	Product                     polarProductJSON  `json:"product"`
	Discount                    *struct{}         `json:"discount"`
	Prices                      []*pyjson.Object  `json:"prices"`
	Meters                      []struct{}        `json:"meters"`
	PendingUpdate               *struct{}         `json:"pending_update"`
	UserID                      string            `json:"user_id"`
	User                        polarUserJSON     `json:"user"`
	PriceID                     string            `json:"price_id"`
	Units                       *int              `json:"units"`
}

type polarCustomerJSON struct {
	ID                     string    `json:"id"`
	CreatedAt              string    `json:"created_at"`
	ModifiedAt             *string   `json:"modified_at"`
	Metadata               struct{}  `json:"metadata"`
	ExternalID             *string   `json:"external_id"`
	Email                  string    `json:"email"`
	EmailVerified          bool      `json:"email_verified"`
	Type                   string    `json:"type"`
	Name                   *string   `json:"name"`
	BillingName            *string   `json:"billing_name"`
	BillingAddress         *struct{} `json:"billing_address"`
	TaxID                  *[]string `json:"tax_id"`
	Locale                 *string   `json:"locale"`
	OrganizationID         string    `json:"organization_id"`
	DefaultPaymentMethodID *string   `json:"default_payment_method_id"`
	DeletedAt              *string   `json:"deleted_at"`
	FirstUserEventAt       *string   `json:"first_user_event_at"`
	AvatarURL              string    `json:"avatar_url"`
}

type polarProductJSON struct {
	ID                     string           `json:"id"`
	CreatedAt              string           `json:"created_at"`
	ModifiedAt             *string          `json:"modified_at"`
	TrialInterval          *string          `json:"trial_interval"`
	TrialIntervalCount     *int             `json:"trial_interval_count"`
	Name                   string           `json:"name"`
	Description            *string          `json:"description"`
	Visibility             string           `json:"visibility"`
	RecurringInterval      string           `json:"recurring_interval"`
	RecurringIntervalCount int              `json:"recurring_interval_count"`
	MeterInterval          *string          `json:"meter_interval"`
	MeterIntervalCount     *int             `json:"meter_interval_count"`
	IsRecurring            bool             `json:"is_recurring"`
	IsArchived             bool             `json:"is_archived"`
	OrganizationID         string           `json:"organization_id"`
	Metadata               struct{}         `json:"metadata"`
	Prices                 []*pyjson.Object `json:"prices"`
	Benefits               []struct{}       `json:"benefits"`
	Medias                 []struct{}       `json:"medias"`
	AttachedCustomFields   []struct{}       `json:"attached_custom_fields"`
}

type polarUserJSON struct {
	ID             string  `json:"id"`
	Email          string  `json:"email"`
	PublicName     string  `json:"public_name"`
	AvatarURL      *string `json:"avatar_url"`
	GithubUsername *string `json:"github_username"`
}

func (h polarHandler) subscription(pc *polarCreate, res polarResolved, now time.Time) *polarSubscriptionJSON {
	org := h.s.polar.orgID
	p, c := res.product, res.customer
	var subPrices, productPrices []*pyjson.Object
	for _, pp := range res.prices {
		subPrices = append(subPrices, pp.json(p))
	}
	for _, pp := range p.prices {
		productPrices = append(productPrices, pp.json(p))
	}
	seats := seatsOf(res.prices)
	customerType := c.typ
	if seats != nil {
		customerType = "team"
	}
	var ext, name *string
	if c.externalID != "" {
		ext = &c.externalID
	}
	if c.name != "" {
		name = &c.name
	}
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(c.email))))
	publicName := c.name
	if publicName == "" {
		publicName = c.email
	}
	return &polarSubscriptionJSON{
		CreatedAt: pyTime(now), ID: newUUID4(), Amount: 0, Currency: h.s.polar.currency,
		RecurringInterval: p.interval, RecurringIntervalCount: p.count, Status: "active",
		CurrentPeriodStart: pyTime(now), CurrentPeriodEnd: pyTime(nextPeriod(now, p.interval, p.count)),
		StartedAt: pyTime(now), CustomerID: c.id, ProductID: p.id, Seats: seats, Metadata: pc.metadata,
		Customer: polarCustomerJSON{ID: c.id, CreatedAt: pyTime(c.createdAt), ExternalID: ext, Email: c.email,
			Type: customerType, Name: name, OrganizationID: org,
			AvatarURL: "https://www.gravatar.com/avatar/" + hex.EncodeToString(sum[:]) + "?d=404"},
		Product: polarProductJSON{ID: p.id, CreatedAt: pyTime(p.createdAt), Name: p.name, Visibility: "public",
			RecurringInterval: p.interval, RecurringIntervalCount: p.count, IsRecurring: !p.notRecurring,
			OrganizationID: org, Prices: productPrices, Benefits: []struct{}{}, Medias: []struct{}{},
			AttachedCustomFields: []struct{}{}},
		Prices: subPrices, Meters: []struct{}{},
		UserID: c.id, User: polarUserJSON{ID: c.id, Email: c.email, PublicName: publicName},
		PriceID: res.prices[0].id,
	}
}
