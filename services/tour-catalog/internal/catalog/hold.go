package catalog

import (
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
)

// HoldStatus is where a hold is in its life: held → confirmed → released,
// or held → released. No status is ever re-entered.
type HoldStatus string

const (
	HoldHeld      HoldStatus = "held"
	HoldConfirmed HoldStatus = "confirmed"
	HoldReleased  HoldStatus = "released"
)

// ReleaseReason says why a released hold let its seats go; empty while the
// hold is not released.
type ReleaseReason string

const (
	// ReleasedByRequest: the booking service released it (cancellation,
	// payment failure).
	ReleasedByRequest ReleaseReason = "released"
	// ReleasedOnExpiry: it was still held at ExpiresAt and the sweeper or a
	// late confirm released it. Confirming it reports ErrHoldExpired.
	ReleasedOnExpiry ReleaseReason = "expired"
)

// Hold bounds.
const (
	MinHoldSeats   = 1
	MaxHoldSeats   = 20
	MinHoldTTL     = 30 * time.Second
	MaxHoldTTL     = time.Hour
	DefaultHoldTTL = 15 * time.Minute

	minTTLSeconds = int(MinHoldTTL / time.Second)
	maxTTLSeconds = int(MaxHoldTTL / time.Second)
)

// Hold reserves seats of a departure for one booking until ExpiresAt. A
// booking has at most one hold (BookingID is unique), which is what makes
// placing a hold idempotent.
type Hold struct {
	ID          uuid.UUID
	DepartureID uuid.UUID
	BookingID   uuid.UUID
	Seats       int
	// UnitPrice is the departure's effective price when the hold was
	// placed; later price changes do not touch it.
	UnitPrice     Money
	Status        HoldStatus
	ExpiresAt     time.Time
	ReleaseReason ReleaseReason
	ReleasedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Total is what the held seats cost.
func (h Hold) Total() Money { return h.UnitPrice.Times(h.Seats) }

// Expired reports whether a held hold is past its expiry at now. A hold
// expires at ExpiresAt exactly: it can be confirmed strictly before it.
func (h Hold) Expired(now time.Time) bool {
	return h.Status == HoldHeld && !now.Before(h.ExpiresAt)
}

// HoldRequest is the body of a request to place a hold. BookingID stays a
// string and TTLSeconds a pointer (nil → DefaultHoldTTL) so that bad values
// are validation problems of their fields.
type HoldRequest struct {
	BookingID  string
	Seats      int
	TTLSeconds *int
}

// Validate checks r and returns the booking id and TTL it carries.
func (r HoldRequest) Validate() (bookingID uuid.UUID, ttl time.Duration, err error) {
	var c validate.Collector
	id, perr := uuid.Parse(r.BookingID)
	switch {
	case r.BookingID == "":
		c.Add("booking_id", "is required")
	case perr != nil || len(r.BookingID) != 36 || id == uuid.Nil:
		c.Add("booking_id", "must be a UUID")
	}
	checkRange(&c, "seats", r.Seats, MinHoldSeats, MaxHoldSeats)
	ttl = DefaultHoldTTL
	if r.TTLSeconds != nil {
		// Check the seconds before making a Duration: a huge value would
		// overflow the multiplication back into range.
		checkRange(&c, "ttl_seconds", *r.TTLSeconds, minTTLSeconds, maxTTLSeconds)
		ttl = time.Duration(*r.TTLSeconds) * time.Second
	}
	if err := c.Err(); err != nil {
		return uuid.Nil, 0, err
	}
	return id, ttl, nil
}

// ValidateHold checks the seats and TTL of a hold; the store calls it so
// that no caller can bypass the bounds.
func ValidateHold(seats int, ttl time.Duration) error {
	var c validate.Collector
	checkRange(&c, "seats", seats, MinHoldSeats, MaxHoldSeats)
	c.Check(ttl >= MinHoldTTL && ttl <= MaxHoldTTL, "ttl_seconds",
		"must be between "+strconv.Itoa(minTTLSeconds)+" and "+strconv.Itoa(maxTTLSeconds))
	return c.Err()
}
