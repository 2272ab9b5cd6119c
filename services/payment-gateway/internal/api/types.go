package api

import (
	"time"

	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// Requests.

type createIntentRequest struct {
	Amount      int64             `json:"amount"`
	Currency    string            `json:"currency"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata"`
}

// confirmRequest decodes the card straight into payment.Card, a type that
// never prints or encodes its number or CVC.
type confirmRequest struct {
	Card *payment.Card `json:"card"`
}

type refundRequest struct {
	PaymentIntent string `json:"payment_intent"`
	// Amount nil refunds everything not yet refunded.
	Amount *int64 `json:"amount"`
}

// Responses. Times are RFC 3339 in UTC (DESIGN §2); a member with no value
// is null rather than absent, so every client sees one shape.

type intentJSON struct {
	ID               string               `json:"id"`
	Status           payment.Status       `json:"status"`
	Amount           int64                `json:"amount"`
	Currency         string               `json:"currency"`
	AmountRefunded   int64                `json:"amount_refunded"`
	Description      string               `json:"description"`
	Metadata         map[string]string    `json:"metadata"`
	Card             *payment.CardDetails `json:"card"`
	LastPaymentError *paymentErrorJSON    `json:"last_payment_error"`
	CreatedAt        time.Time            `json:"created_at"`
}

type paymentErrorJSON struct {
	Code        string              `json:"code"`
	DeclineCode payment.DeclineCode `json:"decline_code"`
	Message     string              `json:"message"`
}

func renderIntent(in *payment.Intent) intentJSON {
	out := intentJSON{
		ID:             in.ID,
		Status:         in.Status,
		Amount:         in.Amount,
		Currency:       in.Currency,
		AmountRefunded: in.AmountRefunded,
		Description:    in.Description,
		Metadata:       in.Metadata,
		Card:           in.Card,
		CreatedAt:      in.CreatedAt,
	}
	if out.Metadata == nil {
		out.Metadata = map[string]string{}
	}
	if d := in.LastPaymentError; d != nil {
		out.LastPaymentError = &paymentErrorJSON{Code: d.Code, DeclineCode: d.DeclineCode, Message: d.Message}
	}
	return out
}

type refundJSON struct {
	ID            string    `json:"id"`
	PaymentIntent string    `json:"payment_intent"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Status        string    `json:"status"`
	CreatedAt     time.Time `json:"created_at"`
}

func renderRefund(r payment.Refund) refundJSON {
	return refundJSON{
		ID:            r.ID,
		PaymentIntent: r.PaymentIntentID,
		Amount:        r.Amount,
		Currency:      r.Currency,
		Status:        r.Status,
		CreatedAt:     r.CreatedAt,
	}
}

// eventJSON is an event exactly as webhooks carry it (store.Event's id,
// type, created and data), plus one member of its own, delivery, that
// webhook bodies do not have: a receiver's decoder reads both the same.
type eventJSON struct {
	store.Event
	Delivery deliveryJSON `json:"delivery"`
}

type deliveryJSON struct {
	State          string     `json:"state"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastStatusCode *int       `json:"last_status_code"`
	LastError      *string    `json:"last_error"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	// History lists every recorded attempt; only GET /v1/events/{id}
	// fills it.
	History []attemptJSON `json:"history,omitempty"`
}

type attemptJSON struct {
	Attempt    int       `json:"attempt"`
	StartedAt  time.Time `json:"started_at"`
	LatencyMS  float64   `json:"latency_ms"`
	StatusCode *int      `json:"status_code"`
	Error      *string   `json:"error"`
}

func renderEvent(e store.LoggedEvent) eventJSON {
	d := e.Delivery
	return eventJSON{Event: e.Event, Delivery: deliveryJSON{
		State:          d.State,
		Attempts:       d.Attempts,
		NextAttemptAt:  d.NextAttemptAt,
		LastAttemptAt:  d.LastAttemptAt,
		LastStatusCode: d.LastStatusCode,
		LastError:      d.LastError,
		DeliveredAt:    d.DeliveredAt,
	}}
}

func renderAttempt(a store.Attempt) attemptJSON {
	return attemptJSON{
		Attempt:    a.Attempt,
		StartedAt:  a.StartedAt,
		LatencyMS:  float64(a.Latency.Microseconds()) / 1000,
		StatusCode: a.StatusCode,
		Error:      a.Error,
	}
}

type eventPageJSON struct {
	Data       []eventJSON `json:"data"`
	NextCursor *string     `json:"next_cursor"`
}
