package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// A declined card leaves the booking payable, and the next card is charged
// under a new attempt key rather than answered with the stored decline.
func TestDeclineThenPay(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		dep := s.NewDeparture(t, 6, 9900)
		bk := s.Book(t, dep.ID, 2)

		r, err := s.Pay(t.Context(), bk.ID, CardDeclined, "")
		if err != nil {
			t.Fatal(err)
		}
		if p := r.Problem(); r.Status != http.StatusPaymentRequired || p.Code != "card_declined" || p.DeclineCode != "generic_decline" {
			t.Fatalf("declined card: %s, want 402 card_declined with decline_code generic_decline", r)
		}
		after := s.GetBooking(t, bk.ID)
		if after.Status != "awaiting_payment" || after.PaymentIntentID == nil {
			t.Fatalf("after a decline the booking is %s (intent %v), want awaiting_payment with its intent", after.Status, after.PaymentIntentID)
		}
		intent := s.Intent(t, *after.PaymentIntentID)
		if intent.Status != "requires_payment_method" || intent.LastPaymentError == nil || intent.LastPaymentError.DeclineCode != "generic_decline" {
			t.Fatalf("intent after a decline: %+v", intent)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 2 {
			t.Fatalf("a decline changed the hold: %d reserved", d.SeatsReserved)
		}

		paid := s.PayOK(t, bk.ID)
		if *paid.PaymentIntentID != intent.ID {
			t.Fatalf("second attempt used intent %s, want the booking's one intent %s", *paid.PaymentIntentID, intent.ID)
		}
		if in := s.Intent(t, intent.ID); in.Status != "succeeded" || in.Amount != 2*9900 {
			t.Fatalf("intent %+v, want succeeded for %d", in, 2*9900)
		}
		if n := len(s.EventsOf(t, "payment_intent.succeeded", bk.ID)); n != 1 {
			t.Fatalf("%d successful charges, want 1", n)
		}
		if n := len(s.EventsOf(t, "payment_intent.payment_failed", bk.ID)); n != 1 {
			t.Fatalf("%d failed payment events, want 1", n)
		}
		// The gateway saw two confirms, each with its own key.
		var keys []string
		for _, seen := range s.GatewayProxy.Seen() {
			if seen.Method == "POST" && strings.HasSuffix(seen.Path, "/confirm") {
				keys = append(keys, seen.IdempotencyKey)
			}
		}
		if len(keys) != 2 || keys[0] == "" || keys[0] == keys[1] {
			t.Fatalf("confirm keys %q, want two different ones", keys)
		}
		s.CheckInvariants(t, dep.ID)
	})
}

// Cancelling a paid booking refunds it in full and gives the seats back,
// once, however often it is asked.
func TestCancelRefunds(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		dep := s.NewDeparture(t, 6, 15000)
		bk := s.Book(t, dep.ID, 2)
		paid := s.PayOK(t, bk.ID)
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 2 {
			t.Fatalf("confirmed: %d reserved", d.SeatsReserved)
		}

		var cancelled Booking
		expect(t, "cancel", s.Cancel(t, bk.ID), http.StatusOK, &cancelled)
		if cancelled.Status != "cancelled" {
			t.Fatalf("cancel: booking is %s", cancelled.Status)
		}
		intent := s.Intent(t, *paid.PaymentIntentID)
		if intent.AmountRefunded != intent.Amount || intent.Amount != 2*15000 {
			t.Fatalf("intent refunded %d of %d, want all of %d", intent.AmountRefunded, intent.Amount, 2*15000)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 0 {
			t.Fatalf("cancelled: %d still reserved", d.SeatsReserved)
		}

		var again Booking
		expect(t, "cancel again", s.Cancel(t, bk.ID), http.StatusOK, &again)
		if again.Status != "cancelled" || again.Entered("cancelled") != 1 {
			t.Fatalf("second cancel: %+v", again)
		}
		if n := len(s.EventsOf(t, "refund.succeeded", bk.ID)); n != 1 {
			t.Fatalf("%d refunds, want 1", n)
		}
		if in := s.Intent(t, intent.ID); in.AmountRefunded != in.Amount {
			t.Fatalf("after the second cancel the intent refunded %d of %d", in.AmountRefunded, in.Amount)
		}
		s.CheckInvariants(t, dep.ID)
	})
}

// Cancelling an unpaid booking gives its seats back without touching the
// gateway, and a cancelled booking can no longer be paid.
func TestCancelUnpaid(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		dep := s.NewDeparture(t, 6, 15000)
		bk := s.Book(t, dep.ID, 4)

		var cancelled Booking
		expect(t, "cancel", s.Cancel(t, bk.ID), http.StatusOK, &cancelled)
		if cancelled.Status != "cancelled" || cancelled.PaymentIntentID != nil {
			t.Fatalf("cancel: %+v", cancelled)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 0 {
			t.Fatalf("cancelled: %d still reserved", d.SeatsReserved)
		}
		r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusConflict {
			t.Fatalf("paying a cancelled booking: %s, want 409", r)
		}
		if evs := s.Events(t); len(evs) != 0 {
			t.Fatalf("the gateway recorded %d events for an unpaid cancellation", len(evs))
		}
		s.CheckInvariants(t, dep.ID)
	})
}
