//go:build chaos

package chaos

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCheck shows that the invariant check finds each kind of broken
// promise, so that a green chaos run means something. It needs no Docker:
// go test -tags chaos -run TestCheck ./chaos/
func TestCheck(t *testing.T) {
	now := time.Now().UTC()
	dep := "dep-1"
	intent := func(id, status string, amount, refunded int64, booking string) intentDoc {
		return intentDoc{ID: id, Status: status, Amount: amount, AmountRefunded: refunded, Metadata: map[string]string{"booking_id": booking}}
	}
	ptr := func(s string) *string { return &s }
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	succeeded := func(i intentDoc, state string) eventDoc {
		e := eventDoc{ID: "evt-" + i.ID, Type: "payment_intent.succeeded", Created: now}
		e.Data.Object, _ = json.Marshal(i)
		e.Delivery.State = state
		return e
	}
	confirmed := bookingDoc{ID: "b-confirmed", Status: "confirmed", DepartureID: dep, Seats: 2, PaymentIntentID: ptr("pi-1"), CreatedAt: now}
	paid := intent("pi-1", "succeeded", 100, 0, "b-confirmed")
	base := func() snapshot {
		return snapshot{
			at:         now,
			bookings:   []bookingDoc{confirmed},
			others:     map[string]bookingDoc{},
			departures: map[string]departureDoc{dep: {ID: dep, Capacity: 10, SeatsReserved: 2}},
			intents:    map[string]intentDoc{"pi-1": paid},
			events:     []eventDoc{succeeded(paid, "delivered")},
		}
	}
	cases := []struct {
		name    string
		edit    func(s *snapshot)
		want    string // a violation containing this; "" for none
		waiting bool
	}{
		{"consistent", func(*snapshot) {}, "", false},
		{"A: a seat held for no live booking", func(s *snapshot) {
			s.departures[dep] = departureDoc{ID: dep, Capacity: 10, SeatsReserved: 3}
		}, "A: departure", false},
		{"A: over capacity", func(s *snapshot) {
			s.departures[dep] = departureDoc{ID: dep, Capacity: 1, SeatsReserved: 2}
		}, "seats reserved of 1", false},
		{"B: confirmed but refunded", func(s *snapshot) {
			s.intents["pi-1"] = intent("pi-1", "succeeded", 100, 100, "b-confirmed")
		}, "B: booking", false},
		{"B: expired but charged", func(s *snapshot) {
			s.bookings[0].Status = "expired"
			s.departures[dep] = departureDoc{ID: dep, Capacity: 10}
		}, "holds 100", false},
		{"B: a charge of a booking that never recorded it", func(s *snapshot) {
			other := intent("pi-2", "succeeded", 50, 0, "b-other")
			s.intents["pi-2"] = other
			s.events = append(s.events, succeeded(other, "delivered"))
			s.others["b-other"] = bookingDoc{ID: "b-other", Status: "rejected"}
		}, "belongs to no confirmed booking", false},
		{"C: awaiting payment long past its deadline", func(s *snapshot) {
			s.bookings = append(s.bookings, bookingDoc{ID: "b-late", Status: "awaiting_payment", DepartureID: dep, Seats: 1,
				HoldExpiresAt: at(-settleMargin - time.Second), CreatedAt: now.Add(-time.Hour)})
			s.departures[dep] = departureDoc{ID: dep, Capacity: 10, SeatsReserved: 3}
		}, "C: booking", false},
		{"C: pending long past its creation", func(s *snapshot) {
			s.bookings = append(s.bookings, bookingDoc{ID: "b-stuck", Status: "pending", DepartureID: dep, Seats: 1, CreatedAt: now.Add(-time.Hour)})
		}, "still pending", false},
		{"awaiting payment before its deadline is not a violation yet", func(s *snapshot) {
			s.bookings = append(s.bookings, bookingDoc{ID: "b-fresh", Status: "awaiting_payment", DepartureID: dep, Seats: 1,
				HoldExpiresAt: at(10 * time.Second), CreatedAt: now})
			s.departures[dep] = departureDoc{ID: dep, Capacity: 10, SeatsReserved: 3}
		}, "", true},
		{"a webhook given up", func(s *snapshot) { s.events[0].Delivery.State = "failed" }, "failed after", false},
		{"a webhook still being retried", func(s *snapshot) { s.events[0].Delivery.State = "pending" }, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			tc.edit(&s)
			v := s.check()
			got := strings.Join(v.violations, "; ")
			switch {
			case tc.want == "" && len(v.violations) > 0:
				t.Errorf("violations %q, want none", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("violations %q, want one containing %q", got, tc.want)
			}
			if (len(v.waiting) > 0) != tc.waiting {
				t.Errorf("waiting %q, want waiting=%v", v.waiting, tc.waiting)
			}
		})
	}
}
