package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

type moneyJSON struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type customerJSON struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

type historyJSON struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// bookingJSON is a booking as DESIGN §4 shows it. Members without a value
// yet are null rather than absent, so every booking has the same shape.
type bookingJSON struct {
	ID              uuid.UUID     `json:"id"`
	Status          string        `json:"status"`
	DepartureID     uuid.UUID     `json:"departure_id"`
	TourID          uuid.UUID     `json:"tour_id"`
	Seats           int           `json:"seats"`
	Customer        customerJSON  `json:"customer"`
	Total           *moneyJSON    `json:"total"`
	HoldID          *uuid.UUID    `json:"hold_id"`
	HoldExpiresAt   *time.Time    `json:"hold_expires_at"`
	PaymentIntentID *string       `json:"payment_intent_id"`
	History         []historyJSON `json:"history"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

func toBookingJSON(b booking.Booking) bookingJSON {
	out := bookingJSON{
		ID: b.ID, Status: string(b.Status), DepartureID: b.DepartureID, TourID: b.TourID, Seats: b.Seats,
		Customer:  customerJSON{Name: b.Customer.Name, Email: b.Customer.Email},
		History:   make([]historyJSON, 0, len(b.History)),
		CreatedAt: b.CreatedAt.UTC(), UpdatedAt: b.UpdatedAt.UTC(),
	}
	if !b.Total.IsZero() {
		out.Total = &moneyJSON{Amount: b.Total.Amount, Currency: b.Total.Currency}
	}
	if b.HoldID != uuid.Nil {
		id := b.HoldID
		out.HoldID = &id
	}
	if b.HoldExpiresAt != nil {
		t := b.HoldExpiresAt.UTC()
		out.HoldExpiresAt = &t
	}
	if b.PaymentIntentID != "" {
		id := b.PaymentIntentID
		out.PaymentIntentID = &id
	}
	for _, e := range b.History {
		out.History = append(out.History, historyJSON{Status: string(e.Status), At: e.At.UTC(), Reason: e.Reason})
	}
	return out
}

type listJSON struct {
	Data       []bookingJSON `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

type createRequest struct {
	DepartureID string       `json:"departure_id"`
	Seats       int          `json:"seats"`
	Customer    customerJSON `json:"customer"`
}

func (r createRequest) domain() booking.Request {
	return booking.Request{
		DepartureID: r.DepartureID, Seats: r.Seats,
		Customer: booking.Customer{Name: r.Customer.Name, Email: r.Customer.Email},
	}
}

type cardJSON struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

type payRequest struct {
	Card *cardJSON `json:"card"`
}

// eventJSON is a gateway event (DESIGN §5). Unknown members are ignored:
// the gateway may add some, and an event is verified before it is read.
type eventJSON struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object *intentJSON `json:"object"`
	} `json:"data"`
}

// intentJSON is the part of a payment intent booking reads from events.
type intentJSON struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	AmountRefunded int64             `json:"amount_refunded"`
	Metadata       map[string]string `json:"metadata"`
}

func (i intentJSON) domain() flow.Intent {
	return flow.Intent{
		ID: i.ID, Status: i.Status, Amount: booking.Money{Amount: i.Amount, Currency: i.Currency},
		AmountRefunded: i.AmountRefunded, Metadata: i.Metadata,
	}
}
