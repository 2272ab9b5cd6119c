package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
)

// ExpireOverdue is the expiry worker's pass: every booking still awaiting
// payment past its deadline is expired and its seats released, unless its
// payment turns out to have succeeded, in which case it is confirmed (or,
// the hold being gone, refunded). Each booking is claimed first, so two
// replicas sweeping at once never process one booking twice.
func (f *Service) ExpireOverdue(ctx context.Context) error {
	ids, err := f.store.Overdue(ctx, f.now(), batchSize)
	if err != nil {
		return err
	}
	return f.each(ctx, ids, []booking.Status{booking.StatusAwaitingPayment}, f.settleOverdue)
}

// Reconcile is the reconciler's pass over bookings an interrupted operation
// left unsettled (store.Unsettled): creations that never finished, final
// bookings that may still hold seats, half-done cancellations and charges
// whose outcome was never recorded.
//
// Leases an earlier operation of this process could not give up are given
// up first, so that their bookings are settled in the same pass.
func (f *Service) Reconcile(ctx context.Context) error {
	if err := f.releaseStranded(ctx); err != nil {
		return fmt.Errorf("release stranded leases: %w", err)
	}
	ids, err := f.store.Unsettled(ctx, f.now(), batchSize)
	if err != nil {
		return err
	}
	return f.each(ctx, ids, nil, f.settle)
}

// each claims and handles each booking on its own budget, skipping those
// someone else is working on; it returns the failures joined. A booking
// that needs a peer booking has no credential for is no failure: it stays
// as the last step left it (a peer without an answer, as far as the flow
// can tell) until the variable is set. The start-up warning said so once;
// a pass notes it at debug level only, not as an error on every tick.
func (f *Service) each(ctx context.Context, ids []uuid.UUID, statuses []booking.Status, handle func(context.Context, *op) error) error {
	var errs []error
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		err := func() error {
			ctx, cancel := f.withDeadline(ctx)
			defer cancel()
			o, err := f.claim(ctx, id, statuses...)
			if errors.Is(err, booking.ErrBusy) || errors.Is(err, booking.ErrStale) {
				return nil // another replica or request has it
			}
			if err != nil {
				return err
			}
			defer o.release(ctx)
			return handle(ctx, o)
		}()
		switch {
		case errors.Is(err, features.ErrNotConfigured):
			f.log.DebugContext(ctx, "booking left for want of a setting", "booking_id", id, "err", err)
		case err != nil:
			errs = append(errs, fmt.Errorf("booking %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// settleOverdue settles a booking past its payment deadline.
func (f *Service) settleOverdue(ctx context.Context, o *op) error {
	if !o.b.Overdue(f.now()) {
		return nil
	}
	if o.b.CancelRequested {
		return f.finishCancel(ctx, o)
	}
	if o.b.PaymentIntentID != "" {
		intent, err := f.payments.Intent(ctx, o.b.PaymentIntentID)
		if err != nil {
			return fmt.Errorf("read payment intent: %w", upstream(err))
		}
		if intent.Paid() {
			// Paid in time, but the answer was lost: the hold outlives
			// the deadline by HoldMargin precisely so this can confirm.
			_, err := f.confirmPaid(ctx, o, intent, "payment succeeded before the deadline")
			if errors.Is(err, booking.ErrHoldExpired) {
				return nil // refunded and expired
			}
			return err
		}
	}
	// Seats first: if the release fails the booking stays overdue and the
	// next pass tries again, so no expired booking keeps seats.
	if err := f.releaseSeats(ctx, o); err != nil {
		return err
	}
	o.b.ChargeInFlight = false
	return o.transition(ctx, booking.StatusExpired, "not paid in time")
}

// settle finishes whatever an interrupted operation left of the booking.
func (f *Service) settle(ctx context.Context, o *op) error {
	b := o.b
	switch {
	case b.Status == booking.StatusPending:
		// Its creator stopped before it learned the hold's outcome.
		if err := o.transition(ctx, booking.StatusRejected, "creation did not finish"); err != nil {
			return err
		}
		return f.releaseSeats(ctx, o)
	case b.MayHoldSeats():
		return f.releaseSeats(ctx, o)
	case b.CancelRequested && (b.Status == booking.StatusAwaitingPayment || b.Status == booking.StatusConfirmed):
		return f.finishCancel(ctx, o)
	case b.Overdue(f.now()):
		return f.settleOverdue(ctx, o)
	case b.Status == booking.StatusAwaitingPayment && b.ChargeInFlight:
		return f.settleCharge(ctx, o)
	}
	return nil
}

// settleCharge finds out how a charge whose answer was never recorded
// ended: succeeded, so the seats are confirmed (or the charge refunded);
// or not, so the booking is simply payable again.
func (f *Service) settleCharge(ctx context.Context, o *op) error {
	if o.b.PaymentIntentID == "" {
		o.b.ChargeInFlight = false
		return o.save(ctx)
	}
	intent, err := f.payments.Intent(ctx, o.b.PaymentIntentID)
	if err != nil {
		return fmt.Errorf("read payment intent: %w", upstream(err))
	}
	if intent.Paid() {
		_, err := f.confirmPaid(ctx, o, intent, "payment succeeded (reconciled)")
		if errors.Is(err, booking.ErrHoldExpired) {
			return nil
		}
		return err
	}
	// Declined or never received. The next attempt takes a new key, which
	// is safe: the intent can succeed only once, whatever the key.
	o.b.ChargeInFlight = false
	o.b.PaymentAttempt++
	return o.save(ctx)
}
