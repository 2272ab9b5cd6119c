package booking

import (
	"errors"
	"fmt"
)

// Domain outcomes. The comment on each gives the HTTP status and problem
// code the API maps it to (DESIGN §2, §4); the mapping itself lives in one
// place, package api.
var (
	// ErrNotFound: no booking with that id. 404 not_found.
	ErrNotFound = errors.New("booking not found")

	// ErrInvalidTransition: the state machine forbids the move. 409 conflict.
	ErrInvalidTransition = errors.New("booking cannot move to that status")

	// ErrNotPayable: payment asked for a booking that is not awaiting
	// payment (already confirmed, cancelled, being cancelled...).
	// 409 booking_not_payable.
	ErrNotPayable = errors.New("booking is not awaiting payment")

	// ErrHoldExpired: the seats are no longer held for the booking, so it
	// cannot be paid (any money taken was refunded). 409 hold_expired.
	ErrHoldExpired = errors.New("the hold on the seats has expired")

	// ErrNotCancellable: cancel of a booking that was rejected or expired.
	// 409 conflict.
	ErrNotCancellable = errors.New("booking cannot be cancelled in its current status")

	// ErrBusy: another request or worker is working on the booking right
	// now. 409 conflict; retrying shortly succeeds.
	ErrBusy = errors.New("booking is being updated by another request")

	// ErrStale: the booking changed under an operation (its claim lapsed
	// and someone else moved it). 409 conflict.
	ErrStale = errors.New("booking changed while it was being updated")

	// ErrSeatsUnavailable: the catalog has fewer seats left than asked.
	// 409 seats_unavailable.
	ErrSeatsUnavailable = errors.New("not enough seats available")

	// ErrDepartureNotFound: the catalog knows no such departure.
	// 422 departure_not_found.
	ErrDepartureNotFound = errors.New("departure not found")

	// ErrDepartureClosed: the departure takes no new bookings (it has
	// started, or its tour is archived). 409 departure_closed.
	ErrDepartureClosed = errors.New("departure takes no new bookings")

	// ErrCardDeclined: the issuer declined the card; the booking stays
	// payable. 402 card_declined, with decline_code from a *DeclineError.
	ErrCardDeclined = errors.New("card declined")

	// ErrUpstreamUnavailable: a peer is down or answered with a server
	// error. 503 upstream_unavailable.
	ErrUpstreamUnavailable = errors.New("a service this request depends on is unavailable")

	// ErrUpstreamTimeout: a peer did not answer in time. 504
	// upstream_unavailable.
	ErrUpstreamTimeout = errors.New("a service this request depends on did not answer in time")
)

// DeclineError is a card decline with the issuer's reason
// (insufficient_funds, expired_card...). It matches ErrCardDeclined.
type DeclineError struct {
	DeclineCode string
	Message     string
}

func (e *DeclineError) Error() string {
	return fmt.Sprintf("card declined (%s)", e.DeclineCode)
}

// Is makes errors.Is(err, ErrCardDeclined) true for every decline.
func (e *DeclineError) Is(target error) bool { return target == ErrCardDeclined }
