package flow

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// strandedLeases are leases this process took, or may have taken, and could
// not give up: the database stopped answering mid-operation. Left alone such
// a lease runs to its end (OperationTimeout plus two persist timeouts), and
// for all that time the booking refuses its webhook (409) and the
// reconciler skips it, though nobody is working on it. Remembering them lets
// the next reconciler pass give them up as soon as the database is back.
// Losing this memory (a crash) only means waiting for the leases to expire.
type strandedLeases struct {
	mu     sync.Mutex
	leases map[uuid.UUID]store.Lease
}

// maxStranded bounds the leases remembered: every request that tries a
// claim while the database is down adds one. Past it, expired ones are
// dropped, then new ones are not kept (they run out, as after a crash).
const maxStranded = 10_000

func (s *strandedLeases) add(id uuid.UUID, lease store.Lease, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases == nil {
		s.leases = map[uuid.UUID]store.Lease{}
	}
	if len(s.leases) >= maxStranded {
		for id, l := range s.leases {
			if !l.Until.After(now) {
				delete(s.leases, id)
			}
		}
	}
	if len(s.leases) < maxStranded {
		s.leases[id] = lease
	}
}

func (s *strandedLeases) remove(id uuid.UUID, owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[id]; ok && l.Owner == owner {
		delete(s.leases, id)
	}
}

func (s *strandedLeases) list() map[uuid.UUID]store.Lease {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[uuid.UUID]store.Lease, len(s.leases))
	for id, l := range s.leases {
		out[id] = l
	}
	return out
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
	for id, lease := range f.stranded.list() {
		if !lease.Until.After(f.now()) {
			f.stranded.remove(id, lease.Owner)
			continue
		}
		if err := f.store.Release(ctx, id, lease.Owner); err != nil {
			errs = append(errs, fmt.Errorf("booking %s: %w", id, err))
			continue
		}
		f.stranded.remove(id, lease.Owner)
		f.log.InfoContext(ctx, "stranded booking lease released", "booking_id", id)
	}
	return errors.Join(errs...)
}
