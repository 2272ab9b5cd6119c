package testutil

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// Catalog call names, for Faults.
const (
	CallDeparture   = "departure"
	CallPlaceHold   = "place_hold"
	CallConfirmHold = "confirm_hold"
	CallReleaseHold = "release_hold"
)

// Catalog is an in-memory tour-catalog implementing flow.Catalog.
type Catalog struct {
	Faults
	now func() time.Time

	mu         sync.Mutex
	departures map[uuid.UUID]*departure
	holds      map[uuid.UUID]*hold
	byBooking  map[uuid.UUID]uuid.UUID
	calls      map[string]int
}

type departure struct {
	tourID   uuid.UUID
	capacity int
	reserved int
	price    booking.Money
	closed   bool
}

type hold struct {
	flow.Hold
	departureID uuid.UUID
	seats       int
}

// NewCatalog returns an empty catalog reading the time from now.
func NewCatalog(now func() time.Time) *Catalog {
	return &Catalog{
		now:        now,
		departures: map[uuid.UUID]*departure{},
		holds:      map[uuid.UUID]*hold{},
		byBooking:  map[uuid.UUID]uuid.UUID{},
		calls:      map[string]int{},
	}
}

// AddDeparture adds a departure with capacity seats at price each.
func (c *Catalog) AddDeparture(capacity int, price booking.Money) uuid.UUID {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := uuid.New()
	c.departures[id] = &departure{tourID: uuid.New(), capacity: capacity, price: price}
	return id
}

// CloseDeparture makes a departure refuse new holds.
func (c *Catalog) CloseDeparture(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.departures[id].closed = true
}

// Reserved is the seats held or confirmed on a departure.
func (c *Catalog) Reserved(id uuid.UUID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.departures[id].reserved
}

// HoldOf returns the hold of a booking and whether it has one.
func (c *Catalog) HoldOf(bookingID uuid.UUID) (flow.Hold, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.byBooking[bookingID]
	if !ok {
		return flow.Hold{}, false
	}
	return c.holds[id].Hold, true
}

// ExpireHold does what the catalog's sweeper does to a hold past its
// expiry: releases it.
func (c *Catalog) ExpireHold(bookingID uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h := c.holds[c.byBooking[bookingID]]; h != nil && h.Status == "held" {
		c.releaseLocked(h)
	}
}

// Calls counts the calls of one name, failed ones included.
func (c *Catalog) Calls(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[name]
}

func (c *Catalog) enter(ctx context.Context, call string) error {
	c.mu.Lock()
	c.calls[call]++
	c.mu.Unlock()
	return c.check(ctx, "before", call)
}

// Departure implements flow.Catalog.
func (c *Catalog) Departure(ctx context.Context, id uuid.UUID) (flow.Departure, error) {
	if err := c.enter(ctx, CallDeparture); err != nil {
		return flow.Departure{}, err
	}
	c.mu.Lock()
	d, ok := c.departures[id]
	c.mu.Unlock()
	if !ok {
		return flow.Departure{}, flow.ErrPeerNotFound
	}
	return flow.Departure{ID: id, TourID: d.tourID}, c.check(ctx, "after", CallDeparture)
}

// PlaceHold implements flow.Catalog.
func (c *Catalog) PlaceHold(ctx context.Context, departureID uuid.UUID, r flow.HoldRequest) (flow.Hold, error) {
	if err := c.enter(ctx, CallPlaceHold); err != nil {
		return flow.Hold{}, err
	}
	if r.TTL < flow.MinCatalogHoldTTL || r.TTL > flow.MaxCatalogHoldTTL {
		return flow.Hold{}, fmt.Errorf("fake catalog: ttl %s out of range: %w", r.TTL, errFake)
	}
	c.mu.Lock()
	h, err := c.placeLocked(departureID, r)
	c.mu.Unlock()
	if err != nil {
		return flow.Hold{}, err
	}
	return h, c.check(ctx, "after", CallPlaceHold)
}

func (c *Catalog) placeLocked(departureID uuid.UUID, r flow.HoldRequest) (flow.Hold, error) {
	if id, ok := c.byBooking[r.BookingID]; ok {
		h := c.holds[id]
		if h.departureID != departureID || h.seats != r.Seats {
			return flow.Hold{}, fmt.Errorf("fake catalog: booking holds other seats: %w", errFake)
		}
		return h.Hold, nil
	}
	d, ok := c.departures[departureID]
	switch {
	case !ok:
		return flow.Hold{}, flow.ErrPeerNotFound
	case d.closed:
		return flow.Hold{}, booking.ErrDepartureClosed
	case d.capacity-d.reserved < r.Seats:
		return flow.Hold{}, booking.ErrSeatsUnavailable
	}
	d.reserved += r.Seats
	h := &hold{
		Hold:        flow.Hold{ID: uuid.New(), UnitPrice: d.price, Status: "held", ExpiresAt: c.now().Add(r.TTL)},
		departureID: departureID,
		seats:       r.Seats,
	}
	c.holds[h.ID] = h
	c.byBooking[r.BookingID] = h.ID
	return h.Hold, nil
}

// ConfirmHold implements flow.Catalog.
func (c *Catalog) ConfirmHold(ctx context.Context, holdID uuid.UUID) error {
	if err := c.enter(ctx, CallConfirmHold); err != nil {
		return err
	}
	c.mu.Lock()
	h, ok := c.holds[holdID]
	var err error
	switch {
	case !ok:
		err = flow.ErrPeerNotFound
	case h.Status == "held" && !c.now().Before(h.ExpiresAt):
		c.releaseLocked(h)
		err = flow.ErrHoldGone
	case h.Status == "released":
		err = flow.ErrHoldGone
	default:
		h.Status = "confirmed"
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.check(ctx, "after", CallConfirmHold)
}

// ReleaseHold implements flow.Catalog.
func (c *Catalog) ReleaseHold(ctx context.Context, holdID uuid.UUID) error {
	if err := c.enter(ctx, CallReleaseHold); err != nil {
		return err
	}
	c.mu.Lock()
	h, ok := c.holds[holdID]
	if ok {
		c.releaseLocked(h)
	}
	c.mu.Unlock()
	if !ok {
		return flow.ErrPeerNotFound
	}
	return c.check(ctx, "after", CallReleaseHold)
}

// releaseLocked gives a hold's seats back exactly once.
func (c *Catalog) releaseLocked(h *hold) {
	if h.Status == "released" {
		return
	}
	h.Status = "released"
	c.departures[h.departureID].reserved -= h.seats
}
