package store

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

// The gorm models mirror the tables; the domain types stay free of storage
// tags. Times are written in UTC, truncated to microseconds (see dbTime).

type intentModel struct {
	ID       string `gorm:"size:40;primaryKey"`
	Status   string `gorm:"size:32;not null;check:payment_intents_status_check,status IN ('requires_payment_method','succeeded','canceled')"`
	Amount   int64  `gorm:"not null;check:payment_intents_amount_check,amount > 0"`
	Currency string `gorm:"size:3;not null"`
	// The refund invariant, enforced by the database itself as the last
	// line of defence behind the conditional update in SaveRefund.
	AmountRefunded int64  `gorm:"not null;check:payment_intents_amount_refunded_check,amount_refunded >= 0 AND amount_refunded <= amount"`
	Description    string `gorm:"type:text;not null"`
	// Metadata is a JSON object of strings: it is only ever read whole.
	Metadata string `gorm:"type:text;not null"`
	// The card of the last confirm: what payment.CardDetails holds and
	// nothing more. All four columns are set together or none is.
	CardBrand    *string `gorm:"size:16"`
	CardLast4    *string `gorm:"size:4"`
	CardExpMonth *int
	CardExpYear  *int
	// The last decline, cleared when a confirm succeeds.
	ErrorCode        *string   `gorm:"size:32"`
	ErrorDeclineCode *string   `gorm:"size:32"`
	ErrorMessage     *string   `gorm:"size:200"`
	CreatedAt        time.Time `gorm:"not null;autoCreateTime:false"`
	UpdatedAt        time.Time `gorm:"not null;autoUpdateTime:false"`
}

func (intentModel) TableName() string { return "payment_intents" }

type refundModel struct {
	ID              string       `gorm:"size:40;primaryKey"`
	PaymentIntentID string       `gorm:"size:40;not null;index:refunds_payment_intent_id"`
	PaymentIntent   *intentModel `gorm:"foreignKey:PaymentIntentID;constraint:OnUpdate:RESTRICT,OnDelete:RESTRICT"`
	Amount          int64        `gorm:"not null;check:refunds_amount_check,amount > 0"`
	Currency        string       `gorm:"size:3;not null"`
	Status          string       `gorm:"size:16;not null"`
	CreatedAt       time.Time    `gorm:"not null;autoCreateTime:false"`
}

func (refundModel) TableName() string { return "refunds" }

// Delivery states of an event.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateFailed    = "failed"
)

type eventModel struct {
	// Seq orders the log: the list pages by it and the dispatcher sends
	// older events first. The public id is separate, so that the order
	// does not depend on how ids are made.
	Seq  int64  `gorm:"primaryKey;autoIncrement"`
	ID   string `gorm:"size:40;not null;uniqueIndex:events_id_key"`
	Type string `gorm:"size:64;not null"`
	// Object is the JSON of the intent or refund as it was right after the
	// change: an event is a fact about the past, not a view of the present.
	Object string `gorm:"type:text;not null"`
	// RequestID is the X-Request-ID of the request that caused the event;
	// deliveries carry it, so one id follows a payment across services.
	RequestID string    `gorm:"size:128;not null"`
	CreatedAt time.Time `gorm:"not null;autoCreateTime:false"`

	// Delivery. The dispatcher's query is "pending and due", served by a
	// partial index that holds only pending events, so it stays small
	// however long the log grows.
	State         string     `gorm:"size:16;not null;check:events_state_check,state IN ('pending','delivered','failed')"`
	Attempts      int        `gorm:"not null"`
	NextAttemptAt time.Time  `gorm:"not null;index:events_pending_due,where:state = 'pending'"`
	LeaseUntil    *time.Time `gorm:""`
	LastAttemptAt *time.Time `gorm:""`
	// LastStatusCode is the receiver's HTTP status at the last attempt, or
	// NULL when no response came; LastError says why it did not succeed.
	LastStatusCode *int       `gorm:""`
	LastError      *string    `gorm:"size:300"`
	DeliveredAt    *time.Time `gorm:""`
}

func (eventModel) TableName() string { return "events" }

// attemptModel records one delivery attempt. The unique (event, attempt)
// pair makes the lease's promise checkable in the schema: no attempt of an
// event is ever recorded twice.
type attemptModel struct {
	ID         int64       `gorm:"primaryKey;autoIncrement"`
	EventSeq   int64       `gorm:"not null;uniqueIndex:delivery_attempts_event_attempt_key,priority:1"`
	Event      *eventModel `gorm:"foreignKey:EventSeq;references:Seq;constraint:OnUpdate:RESTRICT,OnDelete:CASCADE"`
	Attempt    int         `gorm:"not null;uniqueIndex:delivery_attempts_event_attempt_key,priority:2"`
	StartedAt  time.Time   `gorm:"not null;autoCreateTime:false"`
	LatencyMS  float64     `gorm:"not null"`
	StatusCode *int        `gorm:""`
	Error      *string     `gorm:"size:300"`
}

func (attemptModel) TableName() string { return "delivery_attempts" }

func intentToModel(in *payment.Intent) (intentModel, error) {
	meta, err := json.Marshal(in.Metadata)
	if err != nil {
		return intentModel{}, fmt.Errorf("encode metadata: %w", err)
	}
	m := intentModel{
		ID:             in.ID,
		Status:         string(in.Status),
		Amount:         in.Amount,
		Currency:       in.Currency,
		AmountRefunded: in.AmountRefunded,
		Description:    in.Description,
		Metadata:       string(meta),
		CreatedAt:      dbTime(in.CreatedAt),
	}
	setCard(&m, in)
	return m, nil
}

// setCard copies the intent's card and last decline into m.
func setCard(m *intentModel, in *payment.Intent) {
	m.CardBrand, m.CardLast4, m.CardExpMonth, m.CardExpYear = nil, nil, nil, nil
	if c := in.Card; c != nil {
		brand, last4, month, year := string(c.Brand), c.Last4, c.ExpMonth, c.ExpYear
		m.CardBrand, m.CardLast4, m.CardExpMonth, m.CardExpYear = &brand, &last4, &month, &year
	}
	m.ErrorCode, m.ErrorDeclineCode, m.ErrorMessage = nil, nil, nil
	if d := in.LastPaymentError; d != nil {
		code, decline, msg := d.Code, string(d.DeclineCode), d.Message
		m.ErrorCode, m.ErrorDeclineCode, m.ErrorMessage = &code, &decline, &msg
	}
}

func intentFromModel(m intentModel) (*payment.Intent, error) {
	meta := map[string]string{}
	if err := json.Unmarshal([]byte(m.Metadata), &meta); err != nil {
		return nil, fmt.Errorf("decode metadata of %s: %w", m.ID, err)
	}
	in := &payment.Intent{
		ID:             m.ID,
		Status:         payment.Status(m.Status),
		Amount:         m.Amount,
		Currency:       m.Currency,
		AmountRefunded: m.AmountRefunded,
		Description:    m.Description,
		Metadata:       meta,
		CreatedAt:      dbTime(m.CreatedAt),
	}
	if m.CardBrand != nil && m.CardLast4 != nil && m.CardExpMonth != nil && m.CardExpYear != nil {
		in.Card = &payment.CardDetails{
			Brand:    payment.Brand(*m.CardBrand),
			Last4:    *m.CardLast4,
			ExpMonth: *m.CardExpMonth,
			ExpYear:  *m.CardExpYear,
		}
	}
	if m.ErrorCode != nil && m.ErrorDeclineCode != nil && m.ErrorMessage != nil {
		in.LastPaymentError = &payment.Decline{
			Code:        *m.ErrorCode,
			DeclineCode: payment.DeclineCode(*m.ErrorDeclineCode),
			Message:     *m.ErrorMessage,
		}
	}
	return in, nil
}
