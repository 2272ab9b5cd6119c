package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// settleTimeout bounds how long the system may take to converge after a
// scenario: a webhook redelivery, a reconcile pass.
const settleTimeout = 20 * time.Second

// CheckInvariants asserts, once the system has settled (polling up to
// settleTimeout), DESIGN §4's promise for the departures given:
//
//	A: the catalog's seats_reserved equals the seats of the bookings that
//	   are awaiting_payment or confirmed on it: no seat held without a live
//	   booking, no live booking without its seats;
//	B: every intent that succeeded at the gateway belongs to a confirmed
//	   booking (the one its metadata names, which recorded that intent) or
//	   is fully refunded: no charge without a confirmed or refunded booking.
func (s *Stack) CheckInvariants(t testing.TB, departureIDs ...string) {
	t.Helper()
	Eventually(t, settleTimeout, "invariants A and B", func() (bool, string) {
		var broken []string
		bookings := s.Bookings(t)
		for _, dep := range departureIDs {
			live := 0
			for _, b := range bookings {
				if b.DepartureID == dep && (b.Status == "awaiting_payment" || b.Status == "confirmed") {
					live += b.Seats
				}
			}
			if d := s.Departure(t, dep); d.SeatsReserved != live {
				broken = append(broken, fmt.Sprintf("A: departure %s has seats_reserved %d, live bookings hold %d", dep, d.SeatsReserved, live))
			}
		}
		byID := map[string]Booking{}
		for _, b := range bookings {
			byID[b.ID] = b
		}
		checked := map[string]bool{}
		for _, e := range s.Events(t) {
			if e.Type != "payment_intent.succeeded" {
				continue
			}
			_, intentID, _, _, _ := e.Object()
			if checked[intentID] {
				continue
			}
			checked[intentID] = true
			in := s.Intent(t, intentID)
			if in.Status != "succeeded" || in.AmountRefunded == in.Amount {
				continue
			}
			b, ok := byID[in.Metadata["booking_id"]]
			switch {
			case !ok:
				broken = append(broken, fmt.Sprintf("B: intent %s holds %d of %d for unknown booking %q", in.ID, in.Amount-in.AmountRefunded, in.Amount, in.Metadata["booking_id"]))
			case b.Status != "confirmed" || b.PaymentIntentID == nil || *b.PaymentIntentID != in.ID:
				broken = append(broken, fmt.Sprintf("B: intent %s holds %d of %d but booking %s is %s", in.ID, in.Amount-in.AmountRefunded, in.Amount, b.ID, b.Status))
			}
		}
		return len(broken) == 0, strings.Join(broken, "; ")
	})
}
