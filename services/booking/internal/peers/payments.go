package peers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
)

// Payments is payment-gateway over HTTP. Its client carries the merchant
// key; every call that changes something carries the flow's idempotency
// key, which is what makes httpclient retry it.
type Payments struct {
	client *httpclient.Client
}

// NewPayments returns the gateway behind client.
func NewPayments(client *httpclient.Client) *Payments { return &Payments{client: client} }

var _ flow.Payments = (*Payments)(nil)

// paymentCodes are the gateway's refusals the flow acts on (DESIGN §2, §5).
var paymentCodes = map[string]error{
	"idempotency_key_reused": flow.ErrKeyReused,
	"conflict":               flow.ErrIntentState,
}

type intentRequestJSON struct {
	Amount      int64             `json:"amount"`
	Currency    string            `json:"currency"`
	Description string            `json:"description"`
	Metadata    map[string]string `json:"metadata"`
}

// IntentJSON is a payment intent as the gateway sends it, in answers and in
// webhook events.
type IntentJSON struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	AmountRefunded int64             `json:"amount_refunded"`
	Metadata       map[string]string `json:"metadata"`
}

// Domain returns the intent as the flow sees it.
func (i IntentJSON) Domain() flow.Intent {
	return flow.Intent{
		ID: i.ID, Status: i.Status, Amount: booking.Money{Amount: i.Amount, Currency: i.Currency},
		AmountRefunded: i.AmountRefunded, Metadata: i.Metadata,
	}
}

// cardJSON is the card as the gateway takes it. It exists only in this
// request body: booking neither logs nor stores it.
type cardJSON struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

type confirmJSON struct {
	Card cardJSON `json:"card"`
}

type refundJSON struct {
	PaymentIntent string `json:"payment_intent"`
}

func intentPath(id string) string { return "/v1/payment_intents/" + url.PathEscape(id) }

// CreateIntent implements flow.Payments.
func (p *Payments) CreateIntent(ctx context.Context, r flow.IntentRequest, key string) (flow.Intent, error) {
	var out IntentJSON
	_, err := p.client.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: "/v1/payment_intents",
		Body: intentRequestJSON{Amount: r.Amount.Amount, Currency: r.Amount.Currency, Description: r.Description, Metadata: r.Metadata},
		Out:  &out, IdempotencyKey: key,
	})
	if err != nil {
		return flow.Intent{}, translate("create payment intent", err, paymentCodes)
	}
	return out.Domain(), nil
}

// Intent implements flow.Payments.
func (p *Payments) Intent(ctx context.Context, id string) (flow.Intent, error) {
	var out IntentJSON
	if _, err := p.client.Do(ctx, httpclient.Request{Path: intentPath(id), Out: &out}); err != nil {
		return flow.Intent{}, translate("read payment intent", err, paymentCodes)
	}
	return out.Domain(), nil
}

// ConfirmIntent implements flow.Payments.
func (p *Payments) ConfirmIntent(ctx context.Context, id string, card booking.Card, key string) (flow.Intent, error) {
	var out IntentJSON
	_, err := p.client.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: intentPath(id) + "/confirm",
		Body: confirmJSON{Card: cardJSON{Number: card.Number, ExpMonth: card.ExpMonth, ExpYear: card.ExpYear, CVC: card.CVC}},
		Out:  &out, IdempotencyKey: key,
	})
	var se *httpclient.StatusError
	switch {
	case err == nil:
		return out.Domain(), nil
	case errors.As(err, &se) && se.Status == http.StatusPaymentRequired:
		return flow.Intent{}, &booking.DeclineError{DeclineCode: se.Extension("decline_code"), Message: se.Detail}
	case errors.As(err, &se) && se.Status == http.StatusUnprocessableEntity && se.Code != "idempotency_key_reused":
		// The gateway refused the card's shape (a mistyped number, say):
		// the customer's to fix, so a 422 under "card".
		return flow.Intent{}, cardProblems(se)
	}
	return flow.Intent{}, translate("confirm payment intent", err, paymentCodes)
}

// Refund implements flow.Payments: with no amount, the gateway refunds what
// is left.
func (p *Payments) Refund(ctx context.Context, intentID, key string) error {
	_, err := p.client.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: "/v1/refunds", Body: refundJSON{PaymentIntent: intentID}, IdempotencyKey: key,
	})
	return translate("refund", err, paymentCodes)
}

// cardProblems keeps the gateway's field problems that concern the card,
// named as booking's own request names them.
func cardProblems(se *httpclient.StatusError) error {
	var v validate.Collector
	for _, f := range se.Errors {
		if !strings.HasPrefix(f.Field, "card") {
			f.Field = "card." + f.Field
		}
		v.Add(f.Field, f.Detail)
	}
	if v.Valid() {
		detail := se.Detail
		if detail == "" {
			detail = fmt.Sprintf("was refused by the payment gateway (%s)", se.Code)
		}
		v.Add("card", detail)
	}
	return v.Err()
}
