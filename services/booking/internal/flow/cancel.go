package flow

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Cancel cancels a booking for its customer: a paid one is refunded, then
// its seats released; an unpaid one has its seats released (and is refunded
// too should a charge turn out to have gone through). Cancelling a cancelled
// booking returns it unchanged; a rejected or expired one cannot be
// cancelled.
//
// The intent to cancel is recorded first (CancelRequested): if a step fails,
// the booking takes no payment meanwhile, and a repeated cancel or the
// reconciler finishes the job, each step being safe to repeat.
func (f *Service) Cancel(ctx context.Context, id uuid.UUID) (booking.Booking, error) {
	b, err := f.store.Get(ctx, id)
	if err != nil {
		return booking.Booking{}, err
	}
	if b.Status == booking.StatusCancelled {
		return b, nil
	}
	ctx, cancel := f.withDeadline(ctx)
	defer cancel()
	o, err := f.claim(ctx, id)
	if err != nil {
		return booking.Booking{}, err
	}
	defer o.release(ctx)
	switch o.b.Status {
	case booking.StatusCancelled:
		return o.b, nil
	case booking.StatusAwaitingPayment, booking.StatusConfirmed:
	default:
		return o.b, fmt.Errorf("booking is %s: %w", o.b.Status, booking.ErrNotCancellable)
	}
	if !o.b.CancelRequested {
		o.b.CancelRequested = true
		if err := o.save(ctx); err != nil {
			return o.b, err
		}
	}
	if err := f.finishCancel(ctx, o); err != nil {
		return o.b, err
	}
	return o.b, nil
}

// finishCancel runs the steps of a cancellation that was asked for: refund
// what was charged, release the seats, then record the booking cancelled.
func (f *Service) finishCancel(ctx context.Context, o *op) error {
	reason := "cancelled by the customer"
	switch o.b.Status {
	case booking.StatusConfirmed:
		if err := f.refund(ctx, o); err != nil {
			return err
		}
		reason += "; payment refunded"
	case booking.StatusAwaitingPayment:
		if o.b.PaymentIntentID != "" {
			intent, err := f.payments.Intent(ctx, o.b.PaymentIntentID)
			if err != nil {
				return fmt.Errorf("read payment intent: %w", upstream(err))
			}
			if intent.Paid() {
				if err := f.refund(ctx, o); err != nil {
					return err
				}
				reason += "; payment refunded"
			}
		}
	default:
		return nil
	}
	if err := f.releaseSeats(ctx, o); err != nil {
		return err
	}
	o.b.ChargeInFlight = false
	return o.transition(ctx, booking.StatusCancelled, reason)
}
