package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Pay charges card for the booking and confirms its seats.
//
// The booking gets one payment intent, created with a key derived from the
// booking, so that however many times payment is tried there is at most one
// charge. If the intent exists already its state is read first: a charge
// that went through while its answer was lost goes straight to confirming
// the seats. A decline leaves the booking payable (*booking.DeclineError);
// a charge that succeeds after the catalog let the hold go is refunded and
// the booking expires (booking.ErrHoldExpired). A peer that does not answer
// leaves the booking as it was, so paying again converges.
func (f *Service) Pay(ctx context.Context, id uuid.UUID, card booking.Card) (booking.Booking, error) {
	if err := card.Validate(); err != nil {
		var v validate.Collector
		v.Merge("card", err)
		return booking.Booking{}, v.Err()
	}
	ctx, cancel := f.withDeadline(ctx)
	defer cancel()
	o, err := f.claim(ctx, id)
	if err != nil {
		return booking.Booking{}, err
	}
	defer o.release(ctx)

	if err := o.b.CheckPayable(f.now()); err != nil {
		if !errors.Is(err, booking.ErrHoldExpired) {
			return o.b, err
		}
		// Settle it now rather than leave it to the sweep, so the answer
		// and the booking agree. A payment that went through before the
		// deadline still confirms it.
		if err := f.settleOverdue(ctx, o); err != nil {
			return o.b, err
		}
		if o.b.Status == booking.StatusConfirmed {
			return o.b, nil
		}
		return o.b, booking.ErrHoldExpired
	}

	intent, err := f.ensureIntent(ctx, o)
	if err != nil {
		return o.b, err
	}
	if intent.Status == IntentSucceeded {
		return f.confirmPaid(ctx, o, intent, "payment succeeded")
	}
	return f.charge(ctx, o, intent.ID, card)
}

// ensureIntent returns the booking's payment intent, creating it on the
// first attempt.
func (f *Service) ensureIntent(ctx context.Context, o *op) (Intent, error) {
	if o.b.PaymentIntentID != "" {
		intent, err := f.payments.Intent(ctx, o.b.PaymentIntentID)
		if err != nil {
			return Intent{}, fmt.Errorf("read payment intent: %w", upstream(err))
		}
		return intent, nil
	}
	intent, err := f.payments.CreateIntent(ctx, IntentRequest{
		Amount:      o.b.Total,
		Description: fmt.Sprintf("Booking %s: %d seat(s)", o.b.ID, o.b.Seats),
		Metadata:    map[string]string{"booking_id": o.b.ID.String()},
	}, intentKey(o.b.ID))
	if err != nil {
		return Intent{}, fmt.Errorf("create payment intent: %w", upstream(err))
	}
	o.b.PaymentIntentID = intent.ID
	if o.b.PaymentAttempt == 0 {
		o.b.PaymentAttempt = 1
	}
	// Not saved here: the save that follows (charge's, with
	// ChargeInFlight, before it calls the gateway; or confirmPaid's)
	// records the id too, one write instead of two. A crash before it
	// leaves a booking without the id, and the next attempt gets the same
	// intent back, created under the booking's own idempotency key;
	// nothing was charged in between.
	return intent, nil
}

// charge confirms the intent with card under the current attempt's key.
func (f *Service) charge(ctx context.Context, o *op, intentID string, card booking.Card) (booking.Booking, error) {
	// Marked before the call: if the answer never comes (a crash, a
	// timeout), the reconciler asks the gateway what happened.
	o.b.ChargeInFlight = true
	if err := o.save(ctx); err != nil {
		return o.b, err
	}
	// Two rounds at most: the second only when the gateway says this
	// attempt's key was spent on another card whose outcome was a decline.
	for range 2 {
		intent, err := f.payments.ConfirmIntent(ctx, intentID, card, confirmKey(o.b.ID, o.b.PaymentAttempt))
		var declined *booking.DeclineError
		var invalid *validate.Error
		switch {
		case err == nil && intent.Status == IntentSucceeded:
			return f.confirmPaid(ctx, o, intent, "payment succeeded")
		case err == nil:
			return o.b, fmt.Errorf("confirm payment: intent is %s after a successful confirm", intent.Status)
		case errors.As(err, &declined):
			// This attempt is spent: the next one gets a new key, so
			// that it is charged rather than answered with this decline.
			o.b.ChargeInFlight = false
			o.b.PaymentAttempt++
			if serr := o.save(ctx); serr != nil {
				return o.b, errors.Join(err, serr)
			}
			return o.b, err
		case errors.As(err, &invalid):
			// The gateway refused the card before charging it; the key
			// is not spent (validation failures are not stored).
			o.b.ChargeInFlight = false
			if serr := o.save(ctx); serr != nil {
				return o.b, errors.Join(err, serr)
			}
			return o.b, err
		case errors.Is(err, ErrKeyReused), errors.Is(err, ErrIntentState):
			// The attempt's key carried another card, or the intent is
			// past confirming: ask the gateway where it stands.
			current, gerr := f.payments.Intent(ctx, intentID)
			if gerr != nil {
				return o.b, fmt.Errorf("read payment intent: %w", upstream(gerr))
			}
			if current.Status == IntentSucceeded {
				return f.confirmPaid(ctx, o, current, "payment succeeded")
			}
			if current.Status != IntentRequiresPaymentMethod {
				return o.b, fmt.Errorf("payment intent is %s: %w", current.Status, booking.ErrNotPayable)
			}
			o.b.PaymentAttempt++
			if err := o.save(ctx); err != nil {
				return o.b, err
			}
		default:
			// No answer: the charge may or may not have happened. The
			// booking keeps ChargeInFlight; a retry (same key) or the
			// reconciler finds out.
			return o.b, fmt.Errorf("confirm payment: %w", upstream(err))
		}
	}
	return o.b, fmt.Errorf("confirm payment: %w", booking.ErrStale)
}

// confirmPaid confirms the seats of a booking whose intent succeeded, or,
// when the catalog let the hold go, refunds the charge and expires the
// booking (returning booking.ErrHoldExpired).
func (f *Service) confirmPaid(ctx context.Context, o *op, intent Intent, reason string) (booking.Booking, error) {
	if o.b.PaymentIntentID == "" {
		o.b.PaymentIntentID = intent.ID
	}
	// Until the seats are confirmed or the money is back, the booking is
	// marked for the reconciler.
	o.b.ChargeInFlight = true
	err := f.catalog.ConfirmHold(ctx, o.b.HoldID)
	switch {
	case err == nil:
		o.b.ChargeInFlight = false
		o.b.Hold = booking.HoldConfirmed
		// Confirmed is where every caller stops: the lease goes with it.
		if err := o.finishTransition(ctx, booking.StatusConfirmed, reason); err != nil {
			return o.b, err
		}
		return o.b, nil
	case errors.Is(err, ErrHoldGone):
		o.b.Hold = booking.HoldReleased
		if err := f.refund(ctx, o); err != nil {
			if serr := o.save(ctx); serr != nil {
				return o.b, errors.Join(err, serr)
			}
			return o.b, err
		}
		o.b.ChargeInFlight = false
		if err := o.transition(ctx, booking.StatusExpired, "paid after the hold lapsed; payment refunded"); err != nil {
			return o.b, err
		}
		return o.b, booking.ErrHoldExpired
	default:
		if serr := o.save(ctx); serr != nil {
			return o.b, errors.Join(err, serr)
		}
		return o.b, fmt.Errorf("confirm hold: %w", upstream(err))
	}
}

// refund gives back whatever the booking's intent charged. The key makes it
// one refund however often it is asked for; an intent with nothing left to
// refund (never charged, or refunded already) counts as done.
func (f *Service) refund(ctx context.Context, o *op) error {
	if o.b.PaymentIntentID == "" {
		return nil
	}
	err := f.payments.Refund(ctx, o.b.PaymentIntentID, refundKey(o.b.ID))
	if errors.Is(err, ErrIntentState) {
		intent, gerr := f.payments.Intent(ctx, o.b.PaymentIntentID)
		if gerr != nil {
			return fmt.Errorf("read payment intent: %w", upstream(gerr))
		}
		if intent.Paid() {
			return fmt.Errorf("refund: gateway refused, intent still holds %d", intent.Amount.Amount-intent.AmountRefunded)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("refund: %w", upstream(err))
	}
	return nil
}
