package booking

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Money is an amount in minor units of an ISO 4217 currency.
type Money struct {
	Amount   int64
	Currency string
}

// IsZero reports whether m is unset (a booking has no total before its
// seats are held).
func (m Money) IsZero() bool { return m.Amount == 0 && m.Currency == "" }

// Times is m for n units.
func (m Money) Times(n int) Money { return Money{Amount: m.Amount * int64(n), Currency: m.Currency} }

// HistoryEntry records one status a booking entered: when and why.
type HistoryEntry struct {
	Status Status
	At     time.Time
	Reason string
}

// HoldState is what the booking knows about its hold at the catalog. It is
// bookkeeping, not part of the API: it tells the reconciler which final
// bookings may still have seats held at the catalog.
type HoldState string

const (
	// HoldNone: no hold exists for the booking (never asked, or the
	// catalog refused it).
	HoldNone HoldState = "none"
	// HoldRequested: a hold was (or was about to be) asked for and the
	// answer is unknown, so one may exist.
	HoldRequested HoldState = "requested"
	// HoldHeld: the catalog holds the seats until the hold expires.
	HoldHeld HoldState = "held"
	// HoldConfirmed: the seats are the booking's for good.
	HoldConfirmed HoldState = "confirmed"
	// HoldReleased: the seats were given back.
	HoldReleased HoldState = "released"
)

// Booking is a customer's request for seats on one departure, from the
// first request to a final status.
type Booking struct {
	ID          uuid.UUID
	Status      Status
	DepartureID uuid.UUID
	TourID      uuid.UUID
	Seats       int
	Customer    Customer
	// Total is the hold's unit price times Seats; zero until seats are held.
	Total Money
	// HoldID is uuid.Nil until the catalog placed a hold.
	HoldID uuid.UUID
	// HoldExpiresAt is the booking's own payment deadline, earlier than the
	// catalog's hold expiry so that a payment arriving at the last moment
	// can still confirm the hold.
	HoldExpiresAt   *time.Time
	PaymentIntentID string
	History         []HistoryEntry
	CreatedAt       time.Time
	UpdatedAt       time.Time

	// Hold is what the booking knows of its hold at the catalog.
	Hold HoldState
	// PaymentAttempt numbers the card confirmations: retries of one attempt
	// reuse its idempotency key at the gateway, and a decline moves to the
	// next number so that another card (or the same one) is charged anew.
	PaymentAttempt int
	// ChargeInFlight is set before a confirmation is sent to the gateway and
	// cleared once its outcome is recorded; a booking left with it set (a
	// crash, a lost answer) is checked against the gateway by the
	// reconciler.
	ChargeInFlight bool
	// CancelRequested is set when a cancellation starts, so that one
	// interrupted half-way is finished by the reconciler and no payment is
	// taken meanwhile.
	CancelRequested bool
}

// New returns a pending booking for r, as Request.Validate accepted it.
// The hold is HoldRequested from the start: the booking is stored before the
// catalog is asked, so a crash in between leaves a record that one may
// exist.
func New(id, departureID, tourID uuid.UUID, seats int, c Customer, now time.Time) Booking {
	now = now.UTC()
	return Booking{
		ID:          id,
		Status:      StatusPending,
		DepartureID: departureID,
		TourID:      tourID,
		Seats:       seats,
		Customer:    c,
		History:     []HistoryEntry{{Status: StatusPending, At: now, Reason: "booking requested"}},
		CreatedAt:   now,
		UpdatedAt:   now,
		Hold:        HoldRequested,
	}
}

// Transition moves b to status to, recording why, or returns
// ErrInvalidTransition (wrapped) when the state machine forbids it.
func (b *Booking) Transition(to Status, reason string, now time.Time) error {
	if !CanTransition(b.Status, to) {
		return fmt.Errorf("%s to %s: %w", b.Status, to, ErrInvalidTransition)
	}
	now = now.UTC()
	b.Status = to
	b.History = append(b.History, HistoryEntry{Status: to, At: now, Reason: reason})
	b.UpdatedAt = now
	return nil
}

// SeatsHeld records the catalog's hold and moves b to awaiting_payment with
// its total and payment deadline.
func (b *Booking) SeatsHeld(holdID uuid.UUID, unitPrice Money, payBy, now time.Time) error {
	if err := b.Transition(StatusAwaitingPayment, "seats held", now); err != nil {
		return err
	}
	payBy = payBy.UTC()
	b.HoldID = holdID
	b.Total = unitPrice.Times(b.Seats)
	b.HoldExpiresAt = &payBy
	b.Hold = HoldHeld
	return nil
}

// Overdue reports whether b is still awaiting payment at or after its
// deadline.
func (b Booking) Overdue(now time.Time) bool {
	return b.Status == StatusAwaitingPayment && b.HoldExpiresAt != nil && !now.Before(*b.HoldExpiresAt)
}

// CheckPayable says whether a payment may start now: ErrNotPayable unless b
// is awaiting payment and not being cancelled, ErrHoldExpired once its
// deadline has passed.
func (b Booking) CheckPayable(now time.Time) error {
	switch {
	case b.Status != StatusAwaitingPayment || b.CancelRequested:
		return fmt.Errorf("booking is %s: %w", b.Status, ErrNotPayable)
	case b.Overdue(now):
		return ErrHoldExpired
	}
	return nil
}

// MayHoldSeats reports whether b is final yet seats may still be held for it
// at the catalog: the reconciler releases those.
func (b Booking) MayHoldSeats() bool {
	return b.Status.Final() && (b.Hold == HoldRequested || b.Hold == HoldHeld || b.Hold == HoldConfirmed)
}
