package booking

import (
	"fmt"
	"slices"
)

// Status is where a booking is in its life.
type Status string

// The statuses of DESIGN §4.
const (
	// StatusPending: stored, seats not held yet. A booking stays here only
	// while the create request talks to the catalog.
	StatusPending Status = "pending"
	// StatusAwaitingPayment: seats held until HoldExpiresAt, total known.
	StatusAwaitingPayment Status = "awaiting_payment"
	// StatusConfirmed: paid and the hold confirmed at the catalog.
	StatusConfirmed Status = "confirmed"
	// StatusRejected: the seats could not be held (sold out, departure
	// closed, or the catalog did not answer).
	StatusRejected Status = "rejected"
	// StatusExpired: not paid in time, or paid after the hold lapsed (and
	// refunded).
	StatusExpired Status = "expired"
	// StatusCancelled: cancelled by the customer; refunded if it was paid.
	StatusCancelled Status = "cancelled"
)

// Statuses lists every status, in life-cycle order.
var statuses = []Status{
	StatusPending, StatusAwaitingPayment, StatusConfirmed,
	StatusRejected, StatusExpired, StatusCancelled,
}

// Statuses returns every status, in life-cycle order.
func Statuses() []Status { return slices.Clone(statuses) }

// ParseStatus accepts the wire name of a status.
func ParseStatus(s string) (Status, error) {
	if slices.Contains(statuses, Status(s)) {
		return Status(s), nil
	}
	return "", fmt.Errorf("unknown status %q", s)
}

// transitions is the whole state machine: a move not listed here is refused
// with ErrInvalidTransition, whoever asks for it.
var transitions = map[Status][]Status{
	StatusPending:         {StatusAwaitingPayment, StatusRejected},
	StatusAwaitingPayment: {StatusConfirmed, StatusExpired, StatusCancelled},
	StatusConfirmed:       {StatusCancelled},
}

// CanTransition reports whether a booking may move from one status to
// another. Staying in the same status is not a transition.
func CanTransition(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool { return len(transitions[s]) == 0 }
