package booking_test

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// TestTransitions lists every ordered pair of statuses: the allowed ones
// are exactly those of DESIGN §4, and every other one is refused.
func TestTransitions(t *testing.T) {
	allowed := map[[2]booking.Status]bool{
		{booking.StatusPending, booking.StatusAwaitingPayment}:   true,
		{booking.StatusPending, booking.StatusRejected}:          true,
		{booking.StatusAwaitingPayment, booking.StatusConfirmed}: true,
		{booking.StatusAwaitingPayment, booking.StatusExpired}:   true,
		{booking.StatusAwaitingPayment, booking.StatusCancelled}: true,
		{booking.StatusConfirmed, booking.StatusCancelled}:       true,
	}
	now := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, from := range booking.Statuses() {
		for _, to := range booking.Statuses() {
			want := allowed[[2]booking.Status{from, to}]
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				if got := booking.CanTransition(from, to); got != want {
					t.Fatalf("CanTransition = %v, want %v", got, want)
				}
				b := booking.Booking{Status: from}
				err := b.Transition(to, "test", now)
				if want {
					if err != nil {
						t.Fatalf("Transition: %v", err)
					}
					last := b.History[len(b.History)-1]
					if b.Status != to || last.Status != to || !last.At.Equal(now) || last.Reason != "test" || !b.UpdatedAt.Equal(now) {
						t.Fatalf("after transition: %+v", b)
					}
					return
				}
				if !errors.Is(err, booking.ErrInvalidTransition) {
					t.Fatalf("Transition error = %v, want ErrInvalidTransition", err)
				}
				if b.Status != from || len(b.History) != 0 {
					t.Fatalf("a refused transition changed the booking: %+v", b)
				}
			})
		}
	}
}

func TestFinalStatuses(t *testing.T) {
	for _, s := range booking.Statuses() {
		want := s == booking.StatusRejected || s == booking.StatusExpired || s == booking.StatusCancelled
		if s.Final() != want {
			t.Errorf("%s.Final() = %v, want %v", s, s.Final(), want)
		}
	}
	if _, err := booking.ParseStatus("paid"); err == nil {
		t.Error("ParseStatus accepted an unknown status")
	}
}

func TestSeatsHeldSetsTotalAndDeadline(t *testing.T) {
	now := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	b := booking.New(uuid.New(), uuid.New(), uuid.New(), 3, booking.Customer{Name: "Ana", Email: "ana@example.com"}, now)
	if b.Status != booking.StatusPending || b.Hold != booking.HoldRequested || len(b.History) != 1 {
		t.Fatalf("new booking: %+v", b)
	}
	hold := uuid.New()
	if err := b.SeatsHeld(hold, booking.Money{Amount: 12900, Currency: "EUR"}, now.Add(15*time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if b.Status != booking.StatusAwaitingPayment || b.HoldID != hold || b.Hold != booking.HoldHeld ||
		b.Total != (booking.Money{Amount: 38700, Currency: "EUR"}) || !b.HoldExpiresAt.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("after SeatsHeld: %+v", b)
	}
}

func TestCheckPayable(t *testing.T) {
	now := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	deadline := now.Add(time.Minute)
	tests := []struct {
		name    string
		b       booking.Booking
		at      time.Time
		want    error
		overdue bool
	}{
		{"awaiting, in time", booking.Booking{Status: booking.StatusAwaitingPayment, HoldExpiresAt: &deadline}, now, nil, false},
		{"awaiting, at the deadline", booking.Booking{Status: booking.StatusAwaitingPayment, HoldExpiresAt: &deadline}, deadline, booking.ErrHoldExpired, true},
		{"awaiting, being cancelled", booking.Booking{Status: booking.StatusAwaitingPayment, HoldExpiresAt: &deadline, CancelRequested: true}, now, booking.ErrNotPayable, false},
		{"confirmed", booking.Booking{Status: booking.StatusConfirmed, HoldExpiresAt: &deadline}, now, booking.ErrNotPayable, false},
		{"expired", booking.Booking{Status: booking.StatusExpired, HoldExpiresAt: &deadline}, deadline, booking.ErrNotPayable, false},
		{"pending", booking.Booking{Status: booking.StatusPending}, now, booking.ErrNotPayable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.b.CheckPayable(tt.at); !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CheckPayable = %v, want %v", err, tt.want)
			}
			if got := tt.b.Overdue(tt.at); got != tt.overdue {
				t.Fatalf("Overdue = %v, want %v", got, tt.overdue)
			}
		})
	}
}

func TestMayHoldSeats(t *testing.T) {
	tests := []struct {
		status booking.Status
		hold   booking.HoldState
		want   bool
	}{
		{booking.StatusRejected, booking.HoldRequested, true},
		{booking.StatusRejected, booking.HoldNone, false},
		{booking.StatusExpired, booking.HoldHeld, true},
		{booking.StatusCancelled, booking.HoldReleased, false},
		{booking.StatusAwaitingPayment, booking.HoldHeld, false}, // alive: its seats are meant to be held
		{booking.StatusPending, booking.HoldRequested, false},
	}
	for _, tt := range tests {
		b := booking.Booking{Status: tt.status, Hold: tt.hold}
		if got := b.MayHoldSeats(); got != tt.want {
			t.Errorf("%s/%s: MayHoldSeats = %v, want %v", tt.status, tt.hold, got, tt.want)
		}
	}
}

func TestRequestValidate(t *testing.T) {
	dep := uuid.NewString()
	good := booking.Request{DepartureID: dep, Seats: 2, Customer: booking.Customer{Name: "  Ana Lima ", Email: " ana@example.com "}}
	id, c, err := good.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if id.String() != dep || c.Name != "Ana Lima" || c.Email != "ana@example.com" {
		t.Fatalf("normalized: %v %+v", id, c)
	}

	tests := []struct {
		name   string
		mutate func(r *booking.Request)
		fields []string
	}{
		{"missing departure", func(r *booking.Request) { r.DepartureID = "" }, []string{"departure_id"}},
		{"bad departure", func(r *booking.Request) { r.DepartureID = "abc" }, []string{"departure_id"}},
		{"nil departure", func(r *booking.Request) { r.DepartureID = uuid.Nil.String() }, []string{"departure_id"}},
		{"zero seats", func(r *booking.Request) { r.Seats = 0 }, []string{"seats"}},
		{"too many seats", func(r *booking.Request) { r.Seats = 21 }, []string{"seats"}},
		{"blank name", func(r *booking.Request) { r.Customer.Name = "   " }, []string{"customer.name"}},
		{"long name", func(r *booking.Request) { r.Customer.Name = strings.Repeat("é", 101) }, []string{"customer.name"}},
		{"control in name", func(r *booking.Request) { r.Customer.Name = "Ana\x00" }, []string{"customer.name"}},
		{"missing email", func(r *booking.Request) { r.Customer.Email = "" }, []string{"customer.email"}},
		{"no at", func(r *booking.Request) { r.Customer.Email = "ana.example.com" }, []string{"customer.email"}},
		{"no dot in domain", func(r *booking.Request) { r.Customer.Email = "ana@localhost" }, []string{"customer.email"}},
		{"display name", func(r *booking.Request) { r.Customer.Email = "Ana <ana@example.com>" }, []string{"customer.email"}},
		{"too long", func(r *booking.Request) { r.Customer.Email = strings.Repeat("a", 250) + "@x.io" }, []string{"customer.email"}},
		{"everything", func(r *booking.Request) { *r = booking.Request{} }, []string{"departure_id", "seats", "customer.name", "customer.email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.mutate(&r)
			_, _, err := r.Validate()
			fields, ok := validate.Fields(err)
			if !ok {
				t.Fatalf("got %v, want a validation error", err)
			}
			var got []string
			for _, f := range fields {
				got = append(got, f.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestCardValidate(t *testing.T) {
	good := booking.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		card  booking.Card
		field string
	}{
		{"luhn", booking.Card{Number: "4242424242424241", ExpMonth: 12, ExpYear: 2030, CVC: "123"}, "number"},
		{"letters", booking.Card{Number: "4242a24242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}, "number"},
		{"short", booking.Card{Number: "42424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}, "number"},
		{"month", booking.Card{Number: "4242424242424242", ExpMonth: 13, ExpYear: 2030, CVC: "123"}, "exp_month"},
		{"year", booking.Card{Number: "4242424242424242", ExpMonth: 1, ExpYear: 30, CVC: "123"}, "exp_year"},
		{"cvc", booking.Card{Number: "4242424242424242", ExpMonth: 1, ExpYear: 2030, CVC: "12"}, "cvc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, ok := validate.Fields(tt.card.Validate())
			if !ok || len(fields) != 1 || fields[0].Field != tt.field {
				t.Fatalf("got %v, want one problem on %s", fields, tt.field)
			}
		})
	}
}

// A card must not reach a log or an error message whatever prints it.
func TestCardNeverPrints(t *testing.T) {
	card := booking.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "987"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("paying", "card", card)
	outputs := []string{
		fmt.Sprint(card), fmt.Sprintf("%v %+v %#v %s %q", card, card, card, card, card),
		fmt.Sprintf("%+v", struct{ C booking.Card }{card}), logged.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, "4242") || strings.Contains(out, "987") {
			t.Errorf("card leaked: %s", out)
		}
	}
}

func TestDeclineErrorIsCardDeclined(t *testing.T) {
	err := fmt.Errorf("pay: %w", &booking.DeclineError{DeclineCode: "insufficient_funds"})
	if !errors.Is(err, booking.ErrCardDeclined) {
		t.Fatal("a DeclineError does not match ErrCardDeclined")
	}
	var d *booking.DeclineError
	if !errors.As(err, &d) || d.DeclineCode != "insufficient_funds" {
		t.Fatalf("errors.As: %v", d)
	}
}
