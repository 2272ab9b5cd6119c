// Package booking is the domain of the booking service: a Booking, the
// states it moves through and the table of allowed transitions, the history
// each transition leaves, the checks on what a customer sends, and the
// errors the rest of the service reports. It knows nothing of HTTP, SQL or
// the peers; the flow package drives it and the store persists it.
//
//	pending ──▶ awaiting_payment ──▶ confirmed ──▶ cancelled
//	   │               │   │
//	   ▼               │   └──▶ cancelled
//	rejected           └──────▶ expired
//
// A decline leaves a booking awaiting_payment; rejected, expired and
// cancelled are final.
package booking
