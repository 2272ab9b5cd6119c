package peers

import (
	"context"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// Unconfigured stands in for a peer whose credential is not set: every call
// fails with Off without reaching the network. The flow treats the error as
// a peer that gave no answer, which every step already survives unchanged
// (so no booking moves on a guess), and its workers skip such bookings
// quietly until the variable is set.
type Unconfigured struct {
	Off *features.Off
}

// err is Off as an error. A zero Unconfigured refuses too: a nil *Off
// inside an error would panic when printed.
func (u Unconfigured) err() error {
	if u.Off == nil {
		return features.ErrNotConfigured
	}
	return u.Off
}

var (
	_ flow.Catalog  = Unconfigured{}
	_ flow.Payments = Unconfigured{}
)

// Departure implements flow.Catalog.
func (u Unconfigured) Departure(context.Context, uuid.UUID) (flow.Departure, error) {
	return flow.Departure{}, u.err()
}

// PlaceHold implements flow.Catalog.
func (u Unconfigured) PlaceHold(context.Context, uuid.UUID, flow.HoldRequest) (flow.Hold, error) {
	return flow.Hold{}, u.err()
}

// ConfirmHold implements flow.Catalog.
func (u Unconfigured) ConfirmHold(context.Context, uuid.UUID) error { return u.err() }

// ReleaseHold implements flow.Catalog.
func (u Unconfigured) ReleaseHold(context.Context, uuid.UUID) error { return u.err() }

// CreateIntent implements flow.Payments.
func (u Unconfigured) CreateIntent(context.Context, flow.IntentRequest, string) (flow.Intent, error) {
	return flow.Intent{}, u.err()
}

// Intent implements flow.Payments.
func (u Unconfigured) Intent(context.Context, string) (flow.Intent, error) {
	return flow.Intent{}, u.err()
}

// ConfirmIntent implements flow.Payments.
func (u Unconfigured) ConfirmIntent(context.Context, string, booking.Card, string) (flow.Intent, error) {
	return flow.Intent{}, u.err()
}

// Refund implements flow.Payments.
func (u Unconfigured) Refund(context.Context, string, string) error { return u.err() }
