package catalog

import "errors"

// Domain outcomes. The comment on each says the HTTP status and problem
// "code" it maps to under the service conventions (DESIGN §2).
var (
	// ErrNotFound: no tour, departure or hold with that id (or slug).
	// 404 not_found.
	ErrNotFound = errors.New("not found")

	// ErrSlugTaken: another tour, archived or not, already uses the slug.
	// Slugs stay reserved after archiving so that old links never point at
	// a different tour. 409 slug_taken.
	ErrSlugTaken = errors.New("slug already taken")

	// ErrTourArchived: the tour is archived, so it can no longer be edited,
	// get departures or take new holds. Existing holds keep working.
	// 409 tour_archived.
	ErrTourArchived = errors.New("tour is archived")

	// ErrDepartureClosed: the departure's start date has passed, so it takes
	// no new holds. 409 departure_closed.
	ErrDepartureClosed = errors.New("departure has already started")

	// ErrSeatsUnavailable: fewer seats are left than the hold asks for.
	// 409 seats_unavailable.
	ErrSeatsUnavailable = errors.New("not enough seats available")

	// ErrCapacityBelowReserved: a capacity change would leave fewer seats
	// than are already held or confirmed. 409 capacity_below_reserved.
	ErrCapacityBelowReserved = errors.New("capacity below seats already reserved")

	// ErrHoldExpired: the hold was not confirmed before it expired; its seats
	// are (or are being) given back. 409 hold_expired.
	ErrHoldExpired = errors.New("hold expired")

	// ErrHoldReleased: the hold was released before it could be confirmed.
	// 409 hold_released.
	ErrHoldReleased = errors.New("hold released")

	// ErrBookingMismatch: the booking already has a hold for another
	// departure or another number of seats; a replay must repeat the first
	// request exactly. 409 conflict.
	ErrBookingMismatch = errors.New("booking already holds different seats")
)
