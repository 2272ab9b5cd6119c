package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
)

// Create books seats: it validates r, learns the departure's tour from the
// catalog, stores the booking as pending, holds the seats and returns the
// booking awaiting payment.
//
// When the catalog refuses the hold (sold out, departure closed) the booking
// is rejected and the error says why. When the catalog does not answer, the
// booking is rejected too, but a hold may exist (the catalog may have placed
// it and the answer been lost): the booking remembers that
// (booking.HoldRequested), Create tries once to release it, and the
// reconciler keeps trying until it is done.
func (f *Service) Create(ctx context.Context, r booking.Request) (booking.Booking, error) {
	departureID, customer, err := r.Validate()
	if err != nil {
		return booking.Booking{}, err
	}
	ctx, cancel := f.withDeadline(ctx)
	defer cancel()

	dep, err := f.catalog.Departure(ctx, departureID)
	if errors.Is(err, ErrPeerNotFound) {
		return booking.Booking{}, booking.ErrDepartureNotFound
	}
	if err != nil {
		// Nothing is stored yet, so there is nothing to undo.
		return booking.Booking{}, fmt.Errorf("read departure: %w", upstream(err))
	}

	id, err := f.opts.NewID()
	if err != nil {
		return booking.Booking{}, fmt.Errorf("new booking id: %w", err)
	}
	lease := f.newLease()
	b := booking.New(id, departureID, dep.TourID, r.Seats, customer, f.now())
	// Stored before the catalog is asked: from here on, a crash leaves a
	// pending booking the reconciler finds, never a hold nobody knows of.
	if err := f.store.Create(ctx, b, lease); err != nil {
		return booking.Booking{}, err
	}
	o := &op{f: f, lease: lease, b: b, stored: b.Status}
	defer o.release(ctx)

	hold, err := f.catalog.PlaceHold(ctx, departureID, HoldRequest{BookingID: id, Seats: r.Seats, TTL: f.catalogHoldTTL()})
	if err != nil {
		return f.rejectCreate(ctx, o, upstream(err))
	}
	now := f.now()
	// The customer's deadline comes HoldMargin before the catalog's, even
	// if the two clocks disagree a little.
	payBy := now.Add(f.opts.HoldTTL)
	if latest := hold.ExpiresAt.Add(-f.opts.HoldMargin); latest.Before(payBy) {
		payBy = latest
	}
	if err := o.b.SeatsHeld(hold.ID, hold.UnitPrice, payBy, now); err != nil {
		return o.b, err
	}
	if err := o.finish(ctx); err != nil {
		// The hold exists but the booking could not record it; the
		// reconciler rejects the pending booking and releases the hold.
		return o.b, fmt.Errorf("record hold: %w", err)
	}
	return o.b, nil
}

// rejectCreate rejects the booking whose hold failed with err, and returns
// the error the client gets.
func (f *Service) rejectCreate(ctx context.Context, o *op, err error) (booking.Booking, error) {
	// definite: the catalog refused, so no hold exists.
	reason, definite := "", true
	switch {
	case errors.Is(err, booking.ErrSeatsUnavailable):
		reason = "seats unavailable"
	case errors.Is(err, booking.ErrDepartureClosed):
		reason = "departure takes no new bookings"
	case errors.Is(err, ErrPeerNotFound):
		reason = "departure not found"
		err = booking.ErrDepartureNotFound
	case noAnswer(err):
		// The hold may exist: the catalog may have placed it and its
		// answer been lost.
		reason, definite = "catalog unavailable: "+describe(err), false
	default:
		// Any other answer is a refusal too: the catalog placed nothing.
		reason = "catalog refused the hold"
	}
	if definite {
		o.b.Hold = booking.HoldNone
	}
	if terr := o.transition(ctx, booking.StatusRejected, reason); terr != nil {
		return o.b, errors.Join(err, fmt.Errorf("reject booking: %w", terr))
	}
	if !definite {
		// Best effort, on a fresh budget (the request's may be spent): if
		// the catalog is still down this fails fast and the reconciler
		// retries.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
		defer cancel()
		if cerr := f.releaseSeats(cctx, o); cerr != nil {
			f.log.WarnContext(ctx, "compensation deferred to the reconciler", "booking_id", o.b.ID, "err", cerr)
		}
	}
	return o.b, err
}

// describe names an upstream failure for a history reason, without the
// peer's URL or body.
func describe(err error) string {
	switch {
	case errors.Is(err, booking.ErrUpstreamTimeout):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "request cancelled"
	default:
		return "no answer"
	}
}

// noAnswer reports whether err means a peer's answer never arrived, so that
// the call may or may not have taken effect. A peer booking may not call
// (its credential is not set) gave no answer either: what it holds for the
// booking is just as unknown, and must not be taken for a refusal.
func noAnswer(err error) bool {
	return errors.Is(err, booking.ErrUpstreamUnavailable) || errors.Is(err, booking.ErrUpstreamTimeout) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, features.ErrNotConfigured)
}

// releaseSeats gives back whatever seats the catalog may hold for the
// booking, and records that none are held. Without a hold id (the hold's
// answer was lost) it first asks for the hold again with the same booking
// id: the catalog answers with the existing hold, or creates one (for the
// shortest TTL, so that even if the release then fails its sweeper frees the
// seats soon), and either way the release that follows frees it.
func (f *Service) releaseSeats(ctx context.Context, o *op) error {
	if o.b.Hold != booking.HoldRequested && o.b.Hold != booking.HoldHeld && o.b.Hold != booking.HoldConfirmed {
		return nil
	}
	if o.b.HoldID == uuid.Nil {
		hold, err := f.catalog.PlaceHold(ctx, o.b.DepartureID, HoldRequest{BookingID: o.b.ID, Seats: o.b.Seats, TTL: MinCatalogHoldTTL})
		switch {
		case err != nil && noAnswer(err):
			return fmt.Errorf("find hold: %w", upstream(err))
		case err != nil:
			// The catalog would have returned the booking's hold had one
			// existed; it refused a new one instead (sold out, closed),
			// so there is none.
			f.log.InfoContext(ctx, "no hold to release", "booking_id", o.b.ID, "answer", err)
			o.b.Hold = booking.HoldNone
			return o.save(ctx)
		}
		o.b.HoldID = hold.ID
	}
	if err := f.catalog.ReleaseHold(ctx, o.b.HoldID); err != nil && !errors.Is(err, ErrPeerNotFound) {
		return fmt.Errorf("release hold: %w", upstream(err))
	}
	o.b.Hold = booking.HoldReleased
	return o.save(ctx)
}
