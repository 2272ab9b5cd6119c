package integration

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// An unpaid booking expires after BOOKING_HOLD_TTL: booking's expiry worker
// gives its seats back (well before the catalog's own, longer, hold would
// lapse), and it can no longer be paid. A booking paid in time is left
// alone.
func TestUnpaidBookingExpires(t *testing.T) {
	const ttl = 10 * time.Second // the shortest BOOKING_HOLD_TTL booking accepts
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{HoldTTL: ttl, HoldMargin: 10 * time.Second, SweepInterval: time.Second})
		dep := s.NewDeparture(t, 6, 3000)
		paid := s.Book(t, dep.ID, 1)
		s.PayOK(t, paid.ID)

		before := time.Now()
		bk := s.Book(t, dep.ID, 2)
		if bk.HoldExpiresAt == nil || bk.HoldExpiresAt.Before(before.Add(ttl-time.Second)) || bk.HoldExpiresAt.After(time.Now().Add(ttl)) {
			t.Fatalf("hold_expires_at %v, want about %s from now", bk.HoldExpiresAt, ttl)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 3 {
			t.Fatalf("%d reserved, want 3", d.SeatsReserved)
		}

		var expired Booking
		Eventually(t, ttl+settleTimeout, "booking expired", func() (bool, string) {
			expired = s.GetBooking(t, bk.ID)
			return expired.Status == "expired", expired.Status
		})
		if expired.Entered("expired") != 1 || expired.History[len(expired.History)-1].Reason != "not paid in time" {
			t.Fatalf("history %+v", expired.History)
		}
		if at := expired.History[len(expired.History)-1].At; at.Before(*bk.HoldExpiresAt) {
			t.Fatalf("expired at %v, before its deadline %v", at, bk.HoldExpiresAt)
		}
		// Booking released the seats itself, before the catalog's hold
		// (placed for the TTL plus the 10s margin) could lapse.
		Eventually(t, time.Until(bk.HoldExpiresAt.Add(10*time.Second)), "seats released by booking", func() (bool, string) {
			d := s.Departure(t, dep.ID)
			return d.SeatsReserved == 1, fmt.Sprintf("%d reserved", d.SeatsReserved)
		})

		r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusConflict {
			t.Fatalf("paying an expired booking: %s, want 409", r)
		}
		if n := len(s.EventsOf(t, "payment_intent.succeeded", bk.ID)); n != 0 {
			t.Fatalf("an expired booking was charged %d times", n)
		}
		if got := s.GetBooking(t, paid.ID); got.Status != "confirmed" {
			t.Fatalf("the paid booking is %s, want confirmed", got.Status)
		}
		s.CheckInvariants(t, dep.ID)
	})
}
