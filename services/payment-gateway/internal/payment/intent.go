package payment

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Errors for a request that does not fit the intent's current state. The API
// answers each with 409 and code "conflict".
var (
	// ErrIntentNotConfirmable: confirm on an intent that succeeded or was
	// canceled. A declined intent is still confirmable.
	ErrIntentNotConfirmable = errors.New("payment intent cannot be confirmed in its current state")
	// ErrIntentNotCancelable: cancel on an intent that is no longer waiting
	// for a payment method (it succeeded, or was canceled already). Money
	// taken is given back with a refund, not a cancel.
	ErrIntentNotCancelable = errors.New("payment intent cannot be canceled in its current state")
	// ErrIntentNotRefundable: refund of an intent that has not succeeded, or
	// whose whole amount is refunded already.
	ErrIntentNotRefundable = errors.New("payment intent cannot be refunded")
)

// ErrRefundExceedsAmount: a refund larger than what remains unrefunded.
// Refund returns it joined with a *validate.Error on "amount" that states
// the remaining amount; the API answers 422 with code
// "refund_exceeds_amount". The store returns the same value when concurrent
// refunds race past the limit, which it enforces with a conditional update,
// so both paths produce one response.
var ErrRefundExceedsAmount = errors.New("refund exceeds the amount not yet refunded")

// Status is where a payment intent is in its life.
//
//	requires_payment_method --confirm, approved--> succeeded
//	requires_payment_method --confirm, declined--> requires_payment_method
//	requires_payment_method --cancel-------------> canceled
//
// succeeded and canceled are final; refunds change AmountRefunded, not the
// status. There is no "processing": the simulated issuer answers at once, so
// no intent is ever seen waiting for it.
type Status string

// Statuses of a payment intent.
const (
	StatusRequiresPaymentMethod Status = "requires_payment_method"
	StatusSucceeded             Status = "succeeded"
	StatusCanceled              Status = "canceled"
)

// EventType names an event in the gateway's log and in its webhooks.
type EventType string

// Event types, one for each state change a merchant has to hear about.
const (
	// EventIntentSucceeded follows a Confirm that returned no Decline.
	EventIntentSucceeded EventType = "payment_intent.succeeded"
	// EventIntentPaymentFailed follows a Confirm that returned a Decline.
	EventIntentPaymentFailed EventType = "payment_intent.payment_failed"
	// EventIntentCanceled follows Cancel.
	EventIntentCanceled EventType = "payment_intent.canceled"
	// EventRefundSucceeded follows Refund; its object is the Refund.
	EventRefundSucceeded EventType = "refund.succeeded"
)

// Limits on what a merchant may attach to an intent, as real gateways set
// them; they keep a row and an event of bounded size.
const (
	MaxDescriptionLength   = 1000
	MaxMetadataKeys        = 20
	MaxMetadataKeyLength   = 40
	MaxMetadataValueLength = 500
)

// Intent is one attempt to collect an amount: created with NewIntent,
// confirmed with a card until one is approved or the intent is canceled, then
// possibly refunded in parts.
type Intent struct {
	ID             string
	Status         Status
	Amount         int64  // minor units, 1..MaxAmount
	Currency       string // upper-case ISO 4217 code
	AmountRefunded int64  // 0..Amount
	Description    string
	Metadata       map[string]string // never nil
	// Card is the card of the last confirm that reached the issuer, approved
	// or declined; nil before the first.
	Card *CardDetails
	// LastPaymentError is the decline of the last confirm, nil once one
	// succeeds.
	LastPaymentError *Decline
	CreatedAt        time.Time
}

// IntentParams is what a merchant sends to create an intent.
type IntentParams struct {
	Amount      int64
	Currency    string
	Description string
	Metadata    map[string]string
}

// NewIntent validates p and returns an intent waiting for a payment method.
// The caller supplies the id (a UUID) and the time, so that this package
// neither generates ids nor reads the clock. Every problem with p comes back
// in one *validate.Error. The metadata is copied: later changes to
// p.Metadata do not reach the intent.
func NewIntent(id string, p IntentParams, now time.Time) (*Intent, error) {
	var v validate.Collector
	money, err := ParseMoney(p.Amount, p.Currency)
	v.Merge("", err)
	checkText(&v, "description", p.Description, MaxDescriptionLength)
	checkMetadata(&v, p.Metadata)
	if err := v.Err(); err != nil {
		return nil, err
	}

	metadata := make(map[string]string, len(p.Metadata))
	maps.Copy(metadata, p.Metadata)
	return &Intent{
		ID:          id,
		Status:      StatusRequiresPaymentMethod,
		Amount:      money.Amount,
		Currency:    money.Currency,
		Description: p.Description,
		Metadata:    metadata,
		CreatedAt:   now.UTC(),
	}, nil
}

// checkText records a problem with field unless s is acceptable text of at
// most limit characters.
func checkText(v *validate.Collector, field, s string, limit int) {
	if problem := textProblem(s, limit); problem != "" {
		v.Add(field, problem)
	}
}

// textProblem says what is wrong with s as text of at most limit characters,
// or returns "". NUL and invalid UTF-8 are refused because PostgreSQL text
// columns refuse them, and a 422 now beats a 500 at the insert.
func textProblem(s string, limit int) string {
	switch {
	case !utf8.ValidString(s) || strings.ContainsRune(s, 0):
		return "must be UTF-8 text without NUL characters"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("must be at most %d characters", limit)
	}
	return ""
}

func checkMetadata(v *validate.Collector, m map[string]string) {
	if len(m) > MaxMetadataKeys {
		// Stop here: checking every key of a huge map adds nothing.
		v.Add("metadata", fmt.Sprintf("must have at most %d keys", MaxMetadataKeys))
		return
	}
	// Sorted, so the same input always yields the same problems in the
	// same order (map iteration order is random).
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch problem := textProblem(k, MaxMetadataKeyLength); {
		case k == "":
			v.Add("metadata", "keys must not be empty")
		case problem != "":
			// A bad key is reported under "metadata" rather than used to
			// build a field name.
			v.Add("metadata", "keys "+problem)
		default:
			checkText(v, "metadata."+k, m[k], MaxMetadataValueLength)
		}
	}
}

// Remaining is the amount that can still be refunded: zero unless the intent
// succeeded.
func (i *Intent) Remaining() int64 {
	if i.Status != StatusSucceeded {
		return 0
	}
	return i.Amount - i.AmountRefunded
}

// Confirm charges c for the intent's amount. The outcomes:
//
//   - ErrIntentNotConfirmable (wrapped) when the intent succeeded or was
//     canceled; the card is not even looked at.
//   - a validation error from ValidateCard (422); the intent is unchanged.
//   - a Decline: the intent stays requires_payment_method and records the
//     card and the decline; emit EventIntentPaymentFailed.
//   - nil, nil: the intent succeeded and its last payment error is cleared;
//     emit EventIntentSucceeded.
func (i *Intent) Confirm(c Card, now time.Time) (*Decline, error) {
	if i.Status != StatusRequiresPaymentMethod {
		return nil, fmt.Errorf("confirm %s intent: %w", i.Status, ErrIntentNotConfirmable)
	}
	details, decline, err := Authorize(c, now)
	if err != nil {
		return nil, err
	}
	i.Card = &details
	if decline != nil {
		d := *decline
		i.LastPaymentError = &d
		return decline, nil
	}
	i.Status = StatusSucceeded
	i.LastPaymentError = nil
	return nil, nil
}

// Cancel ends an intent that is still waiting for a payment method; emit
// EventIntentCanceled. Canceling twice is an error like any other forbidden
// transition, so a client learns that its first cancel already happened.
func (i *Intent) Cancel() error {
	if i.Status != StatusRequiresPaymentMethod {
		return fmt.Errorf("cancel %s intent: %w", i.Status, ErrIntentNotCancelable)
	}
	i.Status = StatusCanceled
	return nil
}

// RefundStatusSucceeded is the status of every Refund: the simulator refunds
// at once.
const RefundStatusSucceeded = "succeeded"

// Refund gives money back from a succeeded intent.
type Refund struct {
	ID              string
	PaymentIntentID string
	Amount          int64
	Currency        string
	Status          string // RefundStatusSucceeded
	CreatedAt       time.Time
}

// Refund returns amount (nil: everything not yet refunded) to the payer and
// adds it to AmountRefunded; emit EventRefundSucceeded. Partial refunds add up
// to at most the intent's amount.
//
// Errors: ErrIntentNotRefundable (409) unless the intent succeeded and has
// something left; a *validate.Error on "amount" (422) for an amount below 1;
// ErrRefundExceedsAmount joined with a *validate.Error on "amount" (422) for
// more than remains. The intent is unchanged on error.
//
// This is the rule for one intent in memory. Two refunds running at once
// could each pass it; the store applies the refund with an update that
// requires amount_refunded + amount <= amount and maps a miss to
// ErrRefundExceedsAmount.
func (i *Intent) Refund(id string, amount *int64, now time.Time) (Refund, error) {
	if i.Status != StatusSucceeded {
		return Refund{}, fmt.Errorf("refund %s intent: %w", i.Status, ErrIntentNotRefundable)
	}
	remaining := i.Remaining()
	if remaining <= 0 {
		return Refund{}, fmt.Errorf("refund fully refunded intent: %w", ErrIntentNotRefundable)
	}
	n := remaining
	if amount != nil {
		n = *amount
	}
	var v validate.Collector
	checkAmount(&v, "amount", n, remaining)
	if err := v.Err(); err != nil {
		if n > remaining {
			return Refund{}, fmt.Errorf("%w: %w", ErrRefundExceedsAmount, err)
		}
		return Refund{}, err
	}
	i.AmountRefunded += n
	return Refund{
		ID:              id,
		PaymentIntentID: i.ID,
		Amount:          n,
		Currency:        i.Currency,
		Status:          RefundStatusSucceeded,
		CreatedAt:       now.UTC(),
	}, nil
}
