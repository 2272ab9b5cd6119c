package catalog

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Capacity bounds of one departure, in seats.
const (
	MinCapacity = 1
	MaxCapacity = 500
	// MaxYearsAhead bounds how far ahead a departure may be scheduled; a
	// start in 2207 is a typo, not a plan.
	MaxYearsAhead = 5
)

// Departure is one dated run of a tour with a fixed number of seats.
//
// Invariant (kept by the store, checked by the database):
// 0 <= SeatsReserved <= Capacity, and SeatsReserved equals the seats of
// the departure's held and confirmed holds.
type Departure struct {
	ID            uuid.UUID
	TourID        uuid.UUID
	StartsOn      Date
	Capacity      int
	SeatsReserved int
	// PriceOverride is this departure's own price per seat; nil means the
	// tour's price applies.
	PriceOverride *Money
	// Price is the effective price per seat: PriceOverride when set, else
	// the tour's price as read together with the departure.
	Price     Money
	CreatedAt time.Time
	UpdatedAt time.Time
}

// SeatsAvailable is how many seats a new hold may still take.
func (d Departure) SeatsAvailable() int { return d.Capacity - d.SeatsReserved }

// EffectivePrice is the price per seat of a departure: its override when it
// has one, else its tour's price.
func EffectivePrice(tourPrice Money, override *Money) Money {
	if override != nil {
		return *override
	}
	return tourPrice
}

// NewDeparture is a request to schedule a departure. StartsOn stays a
// string so that a malformed date is a validation problem of "starts_on".
type NewDeparture struct {
	StartsOn string
	Capacity int
	// Price overrides the tour's price for this departure; it must be in
	// the tour's currency (checked by the store, which knows the tour).
	Price *Money
}

// Validate checks n against today's date: the departure must start today or
// later, and at most MaxYearsAhead years ahead.
func (n NewDeparture) Validate(today Date) error {
	var c validate.Collector
	if d, err := ParseDate(strings.TrimSpace(n.StartsOn)); err != nil {
		if strings.TrimSpace(n.StartsOn) == "" {
			c.Add("starts_on", "is required")
		} else {
			c.Add("starts_on", "must be a date as YYYY-MM-DD")
		}
	} else {
		c.Check(!d.Before(today), "starts_on", "must not be in the past")
		c.Check(!d.After(today.AddYears(MaxYearsAhead)), "starts_on", "must be at most 5 years ahead")
	}
	checkRange(&c, "capacity", n.Capacity, MinCapacity, MaxCapacity)
	if n.Price != nil {
		c.Merge("price", n.Price.Validate())
	}
	return c.Err()
}

// StartDate returns the parsed start date of a validated NewDeparture.
func (n NewDeparture) StartDate() (Date, error) {
	return ParseDate(strings.TrimSpace(n.StartsOn))
}

// DeparturePatch changes a departure's capacity or price override; nil
// fields stay. A capacity below the seats already reserved is refused with
// ErrCapacityBelowReserved rather than stranding confirmed travellers.
type DeparturePatch struct {
	Capacity *int
	Price    *Money
}

// Validate checks the given fields.
func (p DeparturePatch) Validate() error {
	var c validate.Collector
	if p.Capacity != nil {
		checkRange(&c, "capacity", *p.Capacity, MinCapacity, MaxCapacity)
	}
	if p.Price != nil {
		c.Merge("price", p.Price.Validate())
	}
	return c.Err()
}
