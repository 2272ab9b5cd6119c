package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// eachBackend runs fn once per available database backend, the backends
// side by side: a stack spends most of its start and stop waiting for
// PostgreSQL to create and drop databases, not on the CPU.
func eachBackend(t *testing.T, fn func(t *testing.T, b dbtest.Backend)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// A customer browses the catalog, books, pays with a good card and is
// confirmed; the gateway's webhook for that payment arrives afterwards and
// changes nothing.
func TestHappyPath(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		const price, seats = 12900, 3
		tour := s.CreateTour(t, "Douro Valley by Rail and River", price)
		dep := s.CreateDeparture(t, tour.ID, 8)

		// Browse: search finds the tour, its page lists the departure.
		var found struct{ Data []Tour }
		expect(t, "search", s.must(t, "GET", s.Catalog.URL+"/v1/tours?q="+url.QueryEscape("Douro"), nil), http.StatusOK, &found)
		if !slices.ContainsFunc(found.Data, func(x Tour) bool { return x.ID == tour.ID }) {
			t.Fatalf("search for Douro: %+v, want tour %s", found.Data, tour.ID)
		}
		var page Tour
		expect(t, "tour page", s.must(t, "GET", s.Catalog.URL+"/v1/tours/"+tour.Slug, nil), http.StatusOK, &page)
		i := slices.IndexFunc(page.Departures, func(d Departure) bool { return d.ID == dep.ID })
		if i < 0 || page.Departures[i].SeatsAvailable != 8 || page.Departures[i].Price != (Money{price, "EUR"}) {
			t.Fatalf("tour page departures %+v, want %s with 8 seats at %d EUR", page.Departures, dep.ID, price)
		}

		// Book.
		before := time.Now()
		r, err := s.CreateBooking(t.Context(), dep.ID, seats, "")
		if err != nil {
			t.Fatal(err)
		}
		var bk Booking
		expect(t, "create booking", r, http.StatusCreated, &bk)
		if r.Header.Get("Location") != "/v1/bookings/"+bk.ID {
			t.Errorf("Location %q", r.Header.Get("Location"))
		}
		switch {
		case bk.Status != "awaiting_payment":
			t.Fatalf("status %s, want awaiting_payment", bk.Status)
		case bk.Total == nil || *bk.Total != (Money{seats * price, "EUR"}):
			t.Fatalf("total %+v, want %d EUR (unit price × seats)", bk.Total, seats*price)
		case bk.HoldExpiresAt == nil || bk.HoldExpiresAt.Before(before.Add(14*time.Minute)) || bk.HoldExpiresAt.After(time.Now().Add(15*time.Minute)):
			t.Fatalf("hold_expires_at %v, want about 15 minutes from now", bk.HoldExpiresAt)
		case bk.DepartureID != dep.ID || bk.TourID != tour.ID || bk.Seats != seats || bk.HoldID == nil:
			t.Fatalf("booking %+v", bk)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != seats || d.SeatsAvailable != 8-seats {
			t.Fatalf("after the hold the departure has %d reserved, %d available", d.SeatsReserved, d.SeatsAvailable)
		}

		// Pay.
		paid := s.PayOK(t, bk.ID)
		if paid.PaymentIntentID == nil {
			t.Fatal("a paid booking has no payment_intent_id")
		}
		intent := s.Intent(t, *paid.PaymentIntentID)
		if intent.Status != "succeeded" || intent.Amount != seats*price || intent.Currency != "EUR" ||
			intent.Metadata["booking_id"] != bk.ID || intent.AmountRefunded != 0 || intent.Card == nil || intent.Card.Last4 != "4242" {
			t.Fatalf("intent %+v, want succeeded for %d EUR with metadata booking_id %s", intent, seats*price, bk.ID)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != seats {
			t.Fatalf("confirmed booking: departure has %d reserved, want %d", d.SeatsReserved, seats)
		}

		// The gateway's webhook reaches booking, which answers it, and the
		// booking stays as the payment left it.
		Eventually(t, settleTimeout, "payment_intent.succeeded delivered", func() (bool, string) {
			evs := s.EventsOf(t, "payment_intent.succeeded", bk.ID)
			if len(evs) != 1 {
				return false, fmt.Sprintf("%d events", len(evs))
			}
			return evs[0].Delivery.State == "delivered", evs[0].Delivery.State
		})
		// Unchanged means the very document the payment answered with.
		after := s.GetBooking(t, bk.ID)
		if got, want := mustJSON(t, after), mustJSON(t, paid); got != want {
			t.Fatalf("after the webhook the booking reads\n%s\nwant it as the payment answered it:\n%s", got, want)
		}
		if n := len(s.EventsOf(t, "payment_intent.succeeded", bk.ID)); n != 1 {
			t.Fatalf("%d succeeded events, want 1", n)
		}
		s.CheckInvariants(t, dep.ID)
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
