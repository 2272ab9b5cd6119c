// Package catalog is the tour-catalog's domain: tours, their departures and
// the seat holds that the booking service places on them, with the rules that
// decide what is valid. It knows nothing of HTTP or of the database; the store
// package persists these types and the api package exposes them.
//
// # Inputs and validation
//
// Requests arrive as input types whose fields keep what the client sent
// (strings for ids and dates), so that a bad value becomes a per-field
// validation problem (422) rather than a decoding failure (400):
//
//   - NewTour and TourPatch (pointer fields: only given fields change);
//     Normalize trims them, Validate checks them. The store's CreateTour and
//     UpdateTour call both, so nothing invalid can be written.
//   - NewDeparture and DeparturePatch, checked against today's date.
//   - HoldRequest, whose Validate returns the parsed booking id and TTL.
//   - ParseSearch and ParsePage read query strings.
//
// Every validation failure is a *validate.Error naming the JSON fields at
// fault ("price.currency", "starts_on", "min_price").
//
// # Errors
//
// The outcomes a caller must tell apart are error values, to be matched with
// errors.Is: ErrNotFound, ErrSlugTaken, ErrTourArchived, ErrDepartureClosed,
// ErrSeatsUnavailable, ErrCapacityBelowReserved, ErrHoldExpired,
// ErrHoldReleased, ErrBookingMismatch. errors.go says which HTTP status and
// problem code each one stands for.
//
// # Seats
//
// A departure's SeatsReserved always equals the seats of its held and
// confirmed holds, and 0 <= SeatsReserved <= Capacity. A hold moves
// held → confirmed, held → released or confirmed → released, and never
// back; releasing is what gives seats back, so it happens at most once.
//
// # Money, dates, times
//
// Money is an integer amount of minor units with an ISO 4217 code from a
// small set (SupportedCurrencies). Date is a calendar date without time zone
// ("2027-06-01"). The service reckons "today" in UTC (Today).
package catalog
