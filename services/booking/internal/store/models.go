package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// The gorm models mirror the tables; the domain types stay free of storage
// tags. Ids are UUIDs (native uuid on PostgreSQL, text on SQLite: both order
// them as their canonical text, which keyset pagination relies on). Times
// are written in UTC, truncated to microseconds as PostgreSQL keeps them,
// so that a value read back equals the value written and SQLite's text
// timestamps compare in time order.

type bookingModel struct {
	// UUIDv7: ordering by id is ordering by creation, which the list uses.
	ID            uuid.UUID  `gorm:"type:uuid;primaryKey;index:bookings_status_id,priority:2"`
	Status        string     `gorm:"size:20;not null;index:bookings_status_id,priority:1;check:bookings_status_check,status IN ('pending','awaiting_payment','confirmed','rejected','expired','cancelled')"`
	DepartureID   uuid.UUID  `gorm:"type:uuid;not null"`
	TourID        uuid.UUID  `gorm:"type:uuid;not null"`
	Seats         int        `gorm:"not null;check:bookings_seats_check,seats > 0"`
	CustomerName  string     `gorm:"size:100;not null"`
	CustomerEmail string     `gorm:"size:254;not null"`
	TotalAmount   int64      `gorm:"not null;default:0"`
	TotalCurrency string     `gorm:"size:3;not null;default:''"`
	HoldID        *uuid.UUID `gorm:"type:uuid"`
	// The expiry sweep's index: only bookings awaiting payment can expire,
	// so it indexes those alone.
	HoldExpiresAt   *time.Time `gorm:"index:bookings_awaiting_deadline,where:status = 'awaiting_payment'"`
	PaymentIntentID string     `gorm:"size:64;not null;default:''"`
	// History is a JSON array: it is only ever read and written with its
	// booking, and keeping it in the row makes every transition a single
	// conditional UPDATE.
	History         string `gorm:"type:text;not null"`
	HoldState       string `gorm:"size:16;not null;check:bookings_hold_state_check,hold_state IN ('none','requested','held','confirmed','released')"`
	PaymentAttempt  int    `gorm:"not null;default:0"`
	ChargeInFlight  bool   `gorm:"not null;default:false"`
	CancelRequested bool   `gorm:"not null;default:false"`
	// The lease: who is working on the booking, and until when. Empty owner
	// and NULL until mean nobody.
	LeaseOwner string     `gorm:"size:64;not null;default:''"`
	LeaseUntil *time.Time `gorm:""`
	CreatedAt  time.Time  `gorm:"not null;autoCreateTime:false"`
	UpdatedAt  time.Time  `gorm:"not null;autoUpdateTime:false"`
}

func (bookingModel) TableName() string { return "bookings" }

// processedEventModel remembers each webhook event applied, by the
// gateway's event id: the primary key is what makes a redelivery a no-op.
type processedEventModel struct {
	ID          string    `gorm:"size:255;primaryKey"`
	Type        string    `gorm:"size:64;not null"`
	ProcessedAt time.Time `gorm:"not null;autoCreateTime:false"`
}

func (processedEventModel) TableName() string { return "processed_webhook_events" }

type historyJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// dbTime is how every time is written: UTC, microsecond precision.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

func toModel(b booking.Booking) (bookingModel, error) {
	h := make([]historyJSON, 0, len(b.History))
	for _, e := range b.History {
		h = append(h, historyJSON{Status: string(e.Status), At: dbTime(e.At), Reason: e.Reason})
	}
	history, err := json.Marshal(h)
	if err != nil {
		return bookingModel{}, fmt.Errorf("encode history: %w", err)
	}
	var holdID *uuid.UUID
	if b.HoldID != uuid.Nil {
		id := b.HoldID
		holdID = &id
	}
	return bookingModel{
		ID:              b.ID,
		Status:          string(b.Status),
		DepartureID:     b.DepartureID,
		TourID:          b.TourID,
		Seats:           b.Seats,
		CustomerName:    b.Customer.Name,
		CustomerEmail:   b.Customer.Email,
		TotalAmount:     b.Total.Amount,
		TotalCurrency:   b.Total.Currency,
		HoldID:          holdID,
		HoldExpiresAt:   dbTimePtr(b.HoldExpiresAt),
		PaymentIntentID: b.PaymentIntentID,
		History:         string(history),
		HoldState:       string(b.Hold),
		PaymentAttempt:  b.PaymentAttempt,
		ChargeInFlight:  b.ChargeInFlight,
		CancelRequested: b.CancelRequested,
		CreatedAt:       dbTime(b.CreatedAt),
		UpdatedAt:       dbTime(b.UpdatedAt),
	}, nil
}

func fromModel(m bookingModel) (booking.Booking, error) {
	var h []historyJSON
	if err := json.Unmarshal([]byte(m.History), &h); err != nil {
		return booking.Booking{}, fmt.Errorf("decode history of booking %s: %w", m.ID, err)
	}
	history := make([]booking.HistoryEntry, 0, len(h))
	for _, e := range h {
		history = append(history, booking.HistoryEntry{Status: booking.Status(e.Status), At: dbTime(e.At), Reason: e.Reason})
	}
	b := booking.Booking{
		ID:              m.ID,
		Status:          booking.Status(m.Status),
		DepartureID:     m.DepartureID,
		TourID:          m.TourID,
		Seats:           m.Seats,
		Customer:        booking.Customer{Name: m.CustomerName, Email: m.CustomerEmail},
		Total:           booking.Money{Amount: m.TotalAmount, Currency: m.TotalCurrency},
		HoldExpiresAt:   dbTimePtr(m.HoldExpiresAt),
		PaymentIntentID: m.PaymentIntentID,
		History:         history,
		CreatedAt:       dbTime(m.CreatedAt),
		UpdatedAt:       dbTime(m.UpdatedAt),
		Hold:            booking.HoldState(m.HoldState),
		PaymentAttempt:  m.PaymentAttempt,
		ChargeInFlight:  m.ChargeInFlight,
		CancelRequested: m.CancelRequested,
	}
	if m.HoldID != nil {
		b.HoldID = *m.HoldID
	}
	return b, nil
}
