package flow

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Catalog is what the flow needs from tour-catalog (DESIGN §3).
//
// Besides the errors listed per method, every method may return (wrapped)
// booking.ErrUpstreamUnavailable or booking.ErrUpstreamTimeout when the
// catalog gave no usable answer, features.ErrNotConfigured when booking
// holds no credential for it, or the caller's context error.
type Catalog interface {
	// Departure returns one departure; ErrPeerNotFound when unknown.
	Departure(ctx context.Context, id uuid.UUID) (Departure, error)
	// PlaceHold holds seats for a booking. Asking again with the same
	// booking id returns the booking's existing hold, whatever its status,
	// which makes the call safe to repeat. Errors: booking.ErrSeatsUnavailable,
	// booking.ErrDepartureClosed, ErrPeerNotFound.
	PlaceHold(ctx context.Context, departureID uuid.UUID, r HoldRequest) (Hold, error)
	// ConfirmHold makes held seats the booking's for good; confirming a
	// confirmed hold succeeds. ErrHoldGone when it expired or was released.
	ConfirmHold(ctx context.Context, holdID uuid.UUID) error
	// ReleaseHold gives the seats back; releasing twice is a no-op.
	ReleaseHold(ctx context.Context, holdID uuid.UUID) error
}

// Departure is the part of a catalog departure booking uses.
type Departure struct {
	ID     uuid.UUID
	TourID uuid.UUID
}

// HoldRequest asks for seats for one booking for TTL.
type HoldRequest struct {
	BookingID uuid.UUID
	Seats     int
	TTL       time.Duration
}

// Hold is a catalog hold.
type Hold struct {
	ID        uuid.UUID
	UnitPrice booking.Money
	Status    string // held, confirmed or released
	ExpiresAt time.Time
}

// Payments is what the flow needs from payment-gateway (DESIGN §5). Every
// call that changes something carries an idempotency key derived from the
// booking, so repeating it (a retry, a crash and a second try) never
// charges or refunds twice.
//
// Besides the errors listed per method, every method may return (wrapped)
// booking.ErrUpstreamUnavailable or booking.ErrUpstreamTimeout,
// features.ErrNotConfigured when booking holds no credential for the
// gateway, or the caller's context error.
type Payments interface {
	// CreateIntent creates (or, for a key used before, returns) an intent.
	CreateIntent(ctx context.Context, r IntentRequest, key string) (Intent, error)
	// Intent reads one intent; ErrPeerNotFound when unknown.
	Intent(ctx context.Context, id string) (Intent, error)
	// ConfirmIntent charges card. Errors: *booking.DeclineError;
	// *validate.Error (fields under "card") when the gateway refuses the
	// card's shape; ErrKeyReused when key was used with another card;
	// ErrIntentState when the intent succeeded or was canceled already.
	ConfirmIntent(ctx context.Context, id string, card booking.Card, key string) (Intent, error)
	// Refund refunds what is left of a succeeded intent. ErrIntentState
	// when there is nothing to refund (not succeeded, or refunded already).
	Refund(ctx context.Context, intentID, key string) error
}

// IntentRequest is a new payment intent.
type IntentRequest struct {
	Amount      booking.Money
	Description string
	Metadata    map[string]string
}

// Intent statuses (DESIGN §5).
const (
	IntentRequiresPaymentMethod = "requires_payment_method"
	IntentSucceeded             = "succeeded"
	IntentCanceled              = "canceled"
)

// Intent is a payment intent at the gateway.
type Intent struct {
	ID             string
	Status         string
	Amount         booking.Money
	AmountRefunded int64
	Metadata       map[string]string
}

// Paid reports whether the intent holds money that was neither confirmed
// into a booking nor given back: succeeded and not wholly refunded.
func (i Intent) Paid() bool {
	return i.Status == IntentSucceeded && i.AmountRefunded < i.Amount.Amount
}

// Errors a Catalog or Payments implementation returns (wrapped) for answers
// the flow acts on.
var (
	// ErrPeerNotFound: the peer knows no such departure, hold or intent.
	ErrPeerNotFound = errors.New("not found at the peer")
	// ErrHoldGone: the hold expired or was released; it cannot be confirmed.
	ErrHoldGone = errors.New("hold expired or released")
	// ErrKeyReused: the gateway saw the idempotency key with another body.
	ErrKeyReused = errors.New("idempotency key already used with another request")
	// ErrIntentState: the intent is not in a state that allows the call.
	ErrIntentState = errors.New("payment intent not in a state that allows this")
)
