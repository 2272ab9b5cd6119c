package store

import (
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// The gorm models mirror the tables; the domain types stay free of storage
// tags. Ids are UUIDs (native uuid on PostgreSQL, text on SQLite: both order
// them as their canonical text, which keyset pagination relies on). Times
// are written in UTC, truncated to microseconds as PostgreSQL keeps them,
// so that a value read back equals the value written and SQLite's text
// timestamps compare in time order.

type tourModel struct {
	// The id also ends each sort index: it is every sort's tie-breaker.
	ID            uuid.UUID  `gorm:"type:uuid;primaryKey;index:tours_title_id,priority:2;index:tours_price_id,priority:2;index:tours_created_at_id,priority:2"`
	Slug          string     `gorm:"size:80;not null;uniqueIndex:tours_slug_key"`
	Title         string     `gorm:"size:120;not null;index:tours_title_id,priority:1"`
	Summary       string     `gorm:"size:300;not null"`
	Description   string     `gorm:"type:text;not null"`
	Destination   string     `gorm:"size:80;not null"`
	DurationDays  int        `gorm:"not null;check:tours_duration_days_check,duration_days > 0"`
	Difficulty    string     `gorm:"size:16;not null;check:tours_difficulty_check,difficulty IN ('easy','moderate','hard')"`
	PriceAmount   int64      `gorm:"not null;index:tours_price_id,priority:1;check:tours_price_amount_check,price_amount > 0"`
	PriceCurrency string     `gorm:"size:3;not null"`
	MaxGroupSize  int        `gorm:"not null;check:tours_max_group_size_check,max_group_size > 0"`
	ArchivedAt    *time.Time `gorm:""`
	CreatedAt     time.Time  `gorm:"not null;autoCreateTime:false;index:tours_created_at_id,priority:1"`
	UpdatedAt     time.Time  `gorm:"not null;autoUpdateTime:false"`
}

func (tourModel) TableName() string { return "tours" }

type departureModel struct {
	ID     uuid.UUID  `gorm:"type:uuid;primaryKey"`
	TourID uuid.UUID  `gorm:"type:uuid;not null;index:departures_tour_starts,priority:1"`
	Tour   *tourModel `gorm:"foreignKey:TourID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	// StartsOn is "YYYY-MM-DD" text on both engines: one representation
	// that both compare the same way, whose string order is date order.
	StartsOn string `gorm:"type:varchar(10);not null;index:departures_tour_starts,priority:2"`
	Capacity int    `gorm:"not null;check:departures_capacity_check,capacity > 0"`
	// The capacity invariant, enforced by the database itself as the last
	// line of defence behind the conditional updates.
	SeatsReserved int `gorm:"not null;default:0;check:departures_seats_reserved_check,seats_reserved >= 0 AND seats_reserved <= capacity"`
	// The price override is both columns or neither.
	PriceAmount   *int64    `gorm:"check:departures_price_check,(price_amount IS NULL) = (price_currency IS NULL)"`
	PriceCurrency *string   `gorm:"size:3"`
	CreatedAt     time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt     time.Time `gorm:"not null;autoUpdateTime:false"`
}

func (departureModel) TableName() string { return "departures" }

// departureRow is a departure read with its tour's price and archive date,
// which give its effective price and whether it can take new holds.
type departureRow struct {
	// A named field: gorm does not see into an embedded unexported type.
	Departure         departureModel `gorm:"embedded"`
	TourPriceAmount   int64
	TourPriceCurrency string
	TourArchivedAt    *time.Time
}

type holdModel struct {
	ID          uuid.UUID       `gorm:"type:uuid;primaryKey"`
	DepartureID uuid.UUID       `gorm:"type:uuid;not null;index:holds_departure_status,priority:1"`
	Departure   *departureModel `gorm:"foreignKey:DepartureID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	// One hold per booking: this unique index is what makes placing a
	// hold idempotent, even for two requests racing.
	BookingID         uuid.UUID `gorm:"type:uuid;not null;uniqueIndex:holds_booking_id_key"`
	Seats             int       `gorm:"not null;check:holds_seats_check,seats > 0"`
	UnitPriceAmount   int64     `gorm:"not null"`
	UnitPriceCurrency string    `gorm:"size:3;not null"`
	Status            string    `gorm:"size:16;not null;index:holds_departure_status,priority:2;check:holds_status_check,status IN ('held','confirmed','released')"`
	// The sweeper's index: only held holds can expire, so it indexes
	// those alone and stays small however many holds accumulate.
	ExpiresAt     time.Time  `gorm:"not null;index:holds_held_expires_at,where:status = 'held'"`
	ReleaseReason string     `gorm:"size:16;not null;default:''"`
	ReleasedAt    *time.Time `gorm:""`
	CreatedAt     time.Time  `gorm:"not null;autoCreateTime:false"`
	UpdatedAt     time.Time  `gorm:"not null;autoUpdateTime:false"`
}

func (holdModel) TableName() string { return "holds" }

// dbTime is how every time is written: UTC, microsecond precision.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

func tourFromModel(m tourModel) catalog.Tour {
	return catalog.Tour{
		ID:           m.ID,
		Slug:         m.Slug,
		Title:        m.Title,
		Summary:      m.Summary,
		Description:  m.Description,
		Destination:  m.Destination,
		DurationDays: m.DurationDays,
		Difficulty:   catalog.Difficulty(m.Difficulty),
		Price:        catalog.Money{Amount: m.PriceAmount, Currency: m.PriceCurrency},
		MaxGroupSize: m.MaxGroupSize,
		ArchivedAt:   dbTimePtr(m.ArchivedAt),
		CreatedAt:    dbTime(m.CreatedAt),
		UpdatedAt:    dbTime(m.UpdatedAt),
	}
}

func tourToModel(t catalog.Tour) tourModel {
	return tourModel{
		ID:            t.ID,
		Slug:          t.Slug,
		Title:         t.Title,
		Summary:       t.Summary,
		Description:   t.Description,
		Destination:   t.Destination,
		DurationDays:  t.DurationDays,
		Difficulty:    string(t.Difficulty),
		PriceAmount:   t.Price.Amount,
		PriceCurrency: t.Price.Currency,
		MaxGroupSize:  t.MaxGroupSize,
		ArchivedAt:    dbTimePtr(t.ArchivedAt),
		CreatedAt:     dbTime(t.CreatedAt),
		UpdatedAt:     dbTime(t.UpdatedAt),
	}
}

func departureFromRow(r departureRow) (catalog.Departure, error) {
	m := r.Departure
	starts, err := catalog.ParseDate(m.StartsOn)
	if err != nil {
		return catalog.Departure{}, err
	}
	var override *catalog.Money
	if m.PriceAmount != nil && m.PriceCurrency != nil {
		override = &catalog.Money{Amount: *m.PriceAmount, Currency: *m.PriceCurrency}
	}
	return catalog.Departure{
		ID:            m.ID,
		TourID:        m.TourID,
		StartsOn:      starts,
		Capacity:      m.Capacity,
		SeatsReserved: m.SeatsReserved,
		PriceOverride: override,
		Price:         catalog.EffectivePrice(catalog.Money{Amount: r.TourPriceAmount, Currency: r.TourPriceCurrency}, override),
		CreatedAt:     dbTime(m.CreatedAt),
		UpdatedAt:     dbTime(m.UpdatedAt),
	}, nil
}

func holdFromModel(m holdModel) catalog.Hold {
	return catalog.Hold{
		ID:            m.ID,
		DepartureID:   m.DepartureID,
		BookingID:     m.BookingID,
		Seats:         m.Seats,
		UnitPrice:     catalog.Money{Amount: m.UnitPriceAmount, Currency: m.UnitPriceCurrency},
		Status:        catalog.HoldStatus(m.Status),
		ExpiresAt:     dbTime(m.ExpiresAt),
		ReleaseReason: catalog.ReleaseReason(m.ReleaseReason),
		ReleasedAt:    dbTimePtr(m.ReleasedAt),
		CreatedAt:     dbTime(m.CreatedAt),
		UpdatedAt:     dbTime(m.UpdatedAt),
	}
}
