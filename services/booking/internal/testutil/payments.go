package testutil

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// Payments call names, for Faults.
const (
	CallCreateIntent  = "create_intent"
	CallReadIntent    = "read_intent"
	CallConfirmIntent = "confirm_intent"
	CallRefund        = "refund"
)

// Test cards of DESIGN §5 that the issuer declines, by decline code.
var declines = map[string]string{
	"4000000000000002": "generic_decline",
	"4000000000009995": "insufficient_funds",
	"4000000000000069": "expired_card",
	"4000000000000127": "incorrect_cvc",
	"4000000000000119": "processing_error",
}

// Payments is an in-memory payment gateway implementing flow.Payments, with
// the gateway's idempotency: a key replays its first outcome (declines
// included) and refuses a different request.
type Payments struct {
	Faults
	now func() time.Time

	mu      sync.Mutex
	intents map[string]*flow.Intent
	keys    map[string]keyed
	charges map[string]int
	calls   map[string]int
}

type keyed struct {
	fingerprint string
	intent      flow.Intent
	err         error
}

// NewPayments returns an empty gateway reading the time from now.
func NewPayments(now func() time.Time) *Payments {
	return &Payments{
		now:     now,
		intents: map[string]*flow.Intent{},
		keys:    map[string]keyed{},
		charges: map[string]int{},
		calls:   map[string]int{},
	}
}

// Charges counts the successful charges of an intent.
func (p *Payments) Charges(intentID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.charges[intentID]
}

// IntentOf returns the intent whose metadata names the booking.
func (p *Payments) IntentOf(bookingID uuid.UUID) (flow.Intent, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, in := range p.intents {
		if in.Metadata["booking_id"] == bookingID.String() {
			return copyIntent(in), true
		}
	}
	return flow.Intent{}, false
}

// Calls counts the calls of one name, failed ones included.
func (p *Payments) Calls(name string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[name]
}

func (p *Payments) enter(ctx context.Context, call string) error {
	p.mu.Lock()
	p.calls[call]++
	p.mu.Unlock()
	return p.check(ctx, "before", call)
}

// idempotent runs fn once per key: a repeat with the same fingerprint gets
// the first outcome, one with another fingerprint flow.ErrKeyReused.
// Validation failures are not kept, as DESIGN §2 says.
func (p *Payments) idempotent(key, fingerprint string, fn func() (flow.Intent, error)) (flow.Intent, error) {
	if k, ok := p.keys[key]; ok {
		if k.fingerprint != fingerprint {
			return flow.Intent{}, flow.ErrKeyReused
		}
		return k.intent, k.err
	}
	in, err := fn()
	if err == nil || err == flow.ErrIntentState || isDecline(err) {
		p.keys[key] = keyed{fingerprint: fingerprint, intent: in, err: err}
	}
	return in, err
}

func isDecline(err error) bool {
	_, ok := err.(*booking.DeclineError)
	return ok
}

// CreateIntent implements flow.Payments.
func (p *Payments) CreateIntent(ctx context.Context, r flow.IntentRequest, key string) (flow.Intent, error) {
	if err := p.enter(ctx, CallCreateIntent); err != nil {
		return flow.Intent{}, err
	}
	fp, _ := json.Marshal(r)
	p.mu.Lock()
	in, err := p.idempotent(key, "create"+string(fp), func() (flow.Intent, error) {
		in := &flow.Intent{
			ID: "pi_" + uuid.NewString(), Status: flow.IntentRequiresPaymentMethod,
			Amount: r.Amount, Metadata: maps.Clone(r.Metadata),
		}
		p.intents[in.ID] = in
		return copyIntent(in), nil
	})
	p.mu.Unlock()
	if err != nil {
		return flow.Intent{}, err
	}
	return in, p.check(ctx, "after", CallCreateIntent)
}

// Intent implements flow.Payments.
func (p *Payments) Intent(ctx context.Context, id string) (flow.Intent, error) {
	if err := p.enter(ctx, CallReadIntent); err != nil {
		return flow.Intent{}, err
	}
	p.mu.Lock()
	in, ok := p.intents[id]
	var out flow.Intent
	if ok {
		out = copyIntent(in)
	}
	p.mu.Unlock()
	if !ok {
		return flow.Intent{}, flow.ErrPeerNotFound
	}
	return out, p.check(ctx, "after", CallReadIntent)
}

// ConfirmIntent implements flow.Payments.
func (p *Payments) ConfirmIntent(ctx context.Context, id string, card booking.Card, key string) (flow.Intent, error) {
	if err := p.enter(ctx, CallConfirmIntent); err != nil {
		return flow.Intent{}, err
	}
	fp := "confirm:" + id + ":" + card.Number + ":" + strconv.Itoa(card.ExpMonth) + "/" + strconv.Itoa(card.ExpYear) + ":" + card.CVC
	p.mu.Lock()
	out, err := p.idempotent(key, fp, func() (flow.Intent, error) {
		in, ok := p.intents[id]
		switch {
		case !ok:
			return flow.Intent{}, flow.ErrPeerNotFound
		case in.Status != flow.IntentRequiresPaymentMethod:
			return flow.Intent{}, flow.ErrIntentState
		}
		code := declines[card.Number]
		if y, m, _ := p.now().Date(); card.ExpYear < y || (card.ExpYear == y && card.ExpMonth < int(m)) {
			code = "expired_card"
		}
		if code != "" {
			return flow.Intent{}, &booking.DeclineError{DeclineCode: code, Message: "The card was declined."}
		}
		in.Status = flow.IntentSucceeded
		p.charges[id]++
		return copyIntent(in), nil
	})
	p.mu.Unlock()
	if err != nil {
		return flow.Intent{}, err
	}
	return out, p.check(ctx, "after", CallConfirmIntent)
}

// Refund implements flow.Payments: it refunds what is left of the intent.
func (p *Payments) Refund(ctx context.Context, intentID, key string) error {
	if err := p.enter(ctx, CallRefund); err != nil {
		return err
	}
	p.mu.Lock()
	_, err := p.idempotent(key, "refund:"+intentID, func() (flow.Intent, error) {
		in, ok := p.intents[intentID]
		switch {
		case !ok:
			return flow.Intent{}, flow.ErrPeerNotFound
		case !in.Paid():
			return flow.Intent{}, flow.ErrIntentState
		}
		in.AmountRefunded = in.Amount.Amount
		return copyIntent(in), nil
	})
	p.mu.Unlock()
	if err != nil {
		return err
	}
	return p.check(ctx, "after", CallRefund)
}

func copyIntent(in *flow.Intent) flow.Intent {
	out := *in
	out.Metadata = maps.Clone(in.Metadata)
	return out
}

// EventJSON is a webhook body as the gateway sends it (DESIGN §5), for an
// event about intent.
func EventJSON(eventID, eventType string, intent flow.Intent, created time.Time) []byte {
	type object struct {
		ID             string            `json:"id"`
		Object         string            `json:"object"`
		Status         string            `json:"status"`
		Amount         int64             `json:"amount"`
		Currency       string            `json:"currency"`
		AmountRefunded int64             `json:"amount_refunded"`
		Metadata       map[string]string `json:"metadata"`
	}
	body, err := json.Marshal(map[string]any{
		"id":      eventID,
		"type":    eventType,
		"created": created.UTC().Format(time.RFC3339),
		"data": map[string]any{"object": object{
			ID: intent.ID, Object: "payment_intent", Status: intent.Status, Amount: intent.Amount.Amount,
			Currency: intent.Amount.Currency, AmountRefunded: intent.AmountRefunded, Metadata: intent.Metadata,
		}},
	})
	if err != nil {
		panic(fmt.Sprintf("marshal event: %v", err)) // maps of strings and numbers always marshal
	}
	return body
}
