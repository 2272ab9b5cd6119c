package integration

import (
	"context"
	"net/http"
	"testing"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// A client retrying one create or one payment with its Idempotency-Key,
// even many times at once, books once, holds once and charges once.
func TestIdempotentCreateAndPay(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		const seats = 2
		dep := s.NewDeparture(t, 10, 7000)

		answers := parallel(t, 20, func(ctx context.Context, _ int) (Response, error) {
			return s.CreateBooking(ctx, dep.ID, seats, "create-key-1")
		})
		bookingID, fresh := "", 0
		for _, r := range answers {
			switch {
			case r.Status == http.StatusCreated:
				var bk Booking
				if err := r.Decode(&bk); err != nil {
					t.Fatal(err)
				}
				if bookingID != "" && bk.ID != bookingID {
					t.Fatalf("two bookings for one key: %s and %s", bookingID, bk.ID)
				}
				bookingID = bk.ID
				if !r.Replayed() {
					fresh++
				}
			case r.Status == http.StatusConflict && r.Problem().Code == "idempotency_key_in_use":
			default:
				t.Errorf("unexpected answer %s", r)
			}
		}
		if bookingID == "" || fresh != 1 {
			t.Fatalf("booking %q answered fresh %d times, want one booking answered fresh once", bookingID, fresh)
		}
		if all := s.Bookings(t); len(all) != 1 {
			t.Fatalf("%d bookings exist, want 1", len(all))
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != seats {
			t.Fatalf("departure has %d reserved, want %d (one hold)", d.SeatsReserved, seats)
		}

		// The same key again: the same body is the first answer replayed,
		// another body is refused.
		r, err := s.CreateBooking(t.Context(), dep.ID, seats, "create-key-1")
		if err != nil {
			t.Fatal(err)
		}
		var replay Booking
		if expect(t, "replayed create", r, http.StatusCreated, &replay); !r.Replayed() || replay.ID != bookingID {
			t.Fatalf("replay: %s (Idempotent-Replayed %q)", r, r.Header.Get("Idempotent-Replayed"))
		}
		r, err = s.CreateBooking(t.Context(), dep.ID, seats+1, "create-key-1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusUnprocessableEntity || r.Problem().Code != "idempotency_key_reused" {
			t.Fatalf("same key, other body: %s, want 422 idempotency_key_reused", r)
		}

		// Ten payments at once under one key: one charge.
		paid := parallel(t, 10, func(ctx context.Context, _ int) (Response, error) {
			return s.Pay(ctx, bookingID, CardOK, "pay-key-1")
		})
		confirmed := 0
		for _, r := range paid {
			var bk Booking
			switch {
			case r.Status == http.StatusOK && r.Decode(&bk) == nil && bk.Status == "confirmed" && bk.ID == bookingID:
				confirmed++
			case r.Status == http.StatusConflict && r.Problem().Code == "idempotency_key_in_use":
			default:
				t.Errorf("unexpected answer %s", r)
			}
		}
		if confirmed == 0 {
			t.Fatal("no payment answered 200 confirmed")
		}
		if bk := s.GetBooking(t, bookingID); bk.Status != "confirmed" {
			t.Fatalf("booking is %s, want confirmed", bk.Status)
		}
		if n := len(s.EventsOf(t, "payment_intent.succeeded", bookingID)); n != 1 {
			t.Fatalf("%d successful charges for the booking, want 1", n)
		}
		r, err = s.Pay(t.Context(), bookingID, CardOK, "pay-key-1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != http.StatusOK || !r.Replayed() {
			t.Fatalf("payment retried after the fact: %s (replayed %v), want the 200 replayed", r, r.Replayed())
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != seats {
			t.Fatalf("departure has %d reserved, want %d", d.SeatsReserved, seats)
		}
		s.CheckInvariants(t, dep.ID)
	})
}
