package flow

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// strand remembers a lease this process took, or may have taken, and could
// not give up: the database stopped answering mid-operation. Left alone such
// a lease runs to its end (OperationTimeout plus two persist timeouts), and
// for all that time the booking refuses its webhook (409) and the
// reconciler skips it, though nobody is working on it. Remembered, the next
// reconciler pass gives it up as soon as the database is back. Losing this
// memory (a crash) only means waiting for the lease to expire.
func (f *Service) strand(id uuid.UUID, lease store.Lease) {
	f.stranded.Add(id, lease, lease.Until, f.now())
}

// claimMayHaveHappened reports whether a failed claim may still have taken
// the lease: any failure but the store's refusals (the write's answer may
// have been lost with the connection).
func claimMayHaveHappened(err error) bool {
	return !errors.Is(err, booking.ErrBusy) && !errors.Is(err, booking.ErrStale) && !errors.Is(err, booking.ErrNotFound)
}

// releaseStranded gives up every stranded lease still running. Release is
// conditional on the owner, so a lease that expired and was taken by
// someone else, or a claim that never happened, is left untouched.
func (f *Service) releaseStranded(ctx context.Context) error {
	var errs []error
	for id, lease := range f.stranded.Live(f.now()) {
		if err := f.store.Release(ctx, id, lease.Owner); err != nil {
			errs = append(errs, fmt.Errorf("booking %s: %w", id, err))
			continue
		}
		f.stranded.RemoveIf(id, func(l store.Lease) bool { return l.Owner == lease.Owner })
		f.log.InfoContext(ctx, "stranded booking lease released", "booking_id", id)
	}
	return errors.Join(errs...)
}
