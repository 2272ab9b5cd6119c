// Package features says which parts of booking are switched on. Four of
// booking's variables are secrets, and no image may carry a default for one
// (DESIGN §6). Rather than refuse to start without them, which would fail
// the course's bare `docker run`, booking switches off exactly what needs a
// missing one, and says so: a warning at start, a 503 not_configured naming
// the variable from each route that is off, and workers that leave the
// bookings needing it as they are, to be finished once it is set.
//
// package service computes the Set once from the configuration and hands it
// to the API and, as stand-in peers (package peers), to the flow.
package features

import "errors"

// ErrNotConfigured matches every *Off. Unlike an outage it does not pass by
// itself, and unlike a refusal no peer was asked: booking never called it.
var ErrNotConfigured = errors.New("not configured")

// Off is a part switched off because its variable is not set.
type Off struct {
	// Variable is the environment variable to set.
	Variable string
	// Effect says what is off, for the start-up warning and the detail of
	// the 503.
	Effect string
}

func (o *Off) Error() string { return o.Variable + " is not set: " + o.Effect }

// Is makes errors.Is(err, ErrNotConfigured) true for every *Off.
func (o *Off) Is(target error) bool { return target == ErrNotConfigured }

// Set is what booking's secrets switch on; a nil field is on.
type Set struct {
	// Catalog: the catalog's hold endpoints (new bookings, confirming and
	// releasing seats).
	Catalog *Off
	// Payments: the payment gateway (charges, refunds, payment checks).
	Payments *Off
	// Webhooks: receiving the gateway's signed events.
	Webhooks *Off
	// AdminList: the admin list, GET /v1/bookings.
	AdminList *Off
}

// Missing returns the parts switched off, in the order of Set's fields.
func (s Set) Missing() []*Off {
	var off []*Off
	for _, o := range []*Off{s.Catalog, s.Payments, s.Webhooks, s.AdminList} {
		if o != nil {
			off = append(off, o)
		}
	}
	return off
}
