package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Event types of the gateway (DESIGN §5) that booking acts on.
const EventIntentSucceeded = "payment_intent.succeeded"

// Event is a verified webhook event from the gateway.
type Event struct {
	ID   string
	Type string
	// Intent is the event's object for payment_intent.* events.
	Intent *Intent
}

// HandleEvent applies a gateway event once: it reports duplicate=true,
// doing nothing, for an event applied before. An event is recorded only
// after it was applied, so one whose application failed (an error, which
// the gateway sees as a failed delivery and retries) is applied again on
// redelivery; applying is itself idempotent, so two deliveries racing do no
// harm either.
//
// payment_intent.succeeded is the one that matters: the customer's answer
// may have been lost after the charge, so a booking still awaiting payment
// is confirmed (or refunded if its seats are gone), and a charge for a
// booking that expired or was cancelled is refunded. Other events need
// nothing: booking learns of declines and refunds from its own calls.
func (f *Service) HandleEvent(ctx context.Context, ev Event) (duplicate bool, err error) {
	seen, err := f.store.EventProcessed(ctx, ev.ID)
	if err != nil {
		return false, err
	}
	if seen {
		return true, nil
	}
	if ev.Type == EventIntentSucceeded && ev.Intent != nil {
		if err := f.paymentSucceeded(ctx, *ev.Intent); err != nil {
			return false, err
		}
	}
	first, err := f.store.MarkEventProcessed(ctx, ev.ID, ev.Type, f.now())
	if err != nil {
		return false, err
	}
	return !first, nil
}

func (f *Service) paymentSucceeded(ctx context.Context, intent Intent) error {
	id, err := uuid.Parse(intent.Metadata["booking_id"])
	if err != nil {
		f.log.WarnContext(ctx, "payment event without a booking id ignored", "intent_id", intent.ID)
		return nil
	}
	ctx, cancel := f.withDeadline(ctx)
	defer cancel()
	o, err := f.claim(ctx, id)
	if errors.Is(err, booking.ErrNotFound) {
		f.log.WarnContext(ctx, "payment event for an unknown booking ignored", "intent_id", intent.ID, "booking_id", id)
		return nil
	}
	if err != nil {
		// ErrBusy: the payment request is most likely finishing this very
		// booking; the gateway redelivers and finds it settled.
		return err
	}
	defer o.release(ctx)
	if o.b.PaymentIntentID != "" && o.b.PaymentIntentID != intent.ID {
		// Cannot happen while intents are created with the booking's key;
		// refunding an intent booking did not record is for a human.
		f.log.ErrorContext(ctx, "payment event for another intent of the booking", "booking_id", id,
			"intent_id", intent.ID, "booking_intent_id", o.b.PaymentIntentID)
		return nil
	}
	if !intent.Paid() {
		return nil // refunded since
	}
	switch o.b.Status {
	case booking.StatusAwaitingPayment:
		if o.b.CancelRequested {
			return f.finishCancel(ctx, o)
		}
		_, err := f.confirmPaid(ctx, o, intent, "payment succeeded (gateway event)")
		if errors.Is(err, booking.ErrHoldExpired) {
			return nil // refunded and expired: the event is handled
		}
		return err
	case booking.StatusExpired, booking.StatusCancelled, booking.StatusRejected:
		// Money for a booking that will not happen goes back.
		if o.b.PaymentIntentID == "" {
			o.b.PaymentIntentID = intent.ID
		}
		return f.refund(ctx, o)
	case booking.StatusPending:
		return fmt.Errorf("payment for a pending booking: %w", booking.ErrBusy)
	}
	return nil // confirmed: nothing to do
}
