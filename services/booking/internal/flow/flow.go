// Package flow orchestrates a booking across the catalog and the payment
// gateway: create (hold seats), pay (charge, then confirm the hold), cancel
// (refund, release), expire overdue bookings, apply the gateway's webhooks,
// and reconcile whatever a crash or a peer outage left half-done.
//
// No step relies on being run once. Each peer call is safe to repeat (holds
// are keyed by booking id, gateway calls carry keys derived from the
// booking), the booking records what it knows before and after each call
// (Booking.Hold, ChargeInFlight, CancelRequested), and every change is
// written under a lease with a conditional update (package store). So a
// retry, a second replica, a webhook or the reconciler can pick up where
// anyone stopped and converge on DESIGN §4's promise: no seat held without a
// live booking, no charge without a confirmed or refunded booking.
//
// The peers are the consumer-side interfaces Catalog and Payments
// (contracts.go); package peers implements them over HTTP.
package flow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/retryset"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// Catalog hold TTL bounds (DESIGN §3 accepts 30 s to 1 h).
const (
	MinCatalogHoldTTL = 30 * time.Second
	MaxCatalogHoldTTL = time.Hour
)

// persistTimeout bounds a write made after a peer call. Such writes run
// even when the request's context is done: a client that hangs up after its
// card was charged must not make booking forget the charge.
const persistTimeout = 5 * time.Second

// batchSize is how many bookings one worker pass takes on.
const batchSize = 50

// Options tune the flow; Now and NewID exist for tests.
type Options struct {
	// HoldTTL is how long a customer has to pay (BOOKING_HOLD_TTL).
	HoldTTL time.Duration
	// HoldMargin is how much longer the catalog keeps the seats than the
	// booking waits for payment, so that a payment completing at the
	// deadline, or found by the expiry sweep, can still confirm the hold.
	HoldMargin time.Duration
	// OperationTimeout bounds one operation's peer calls (a request, or one
	// booking in a worker pass); the lease outlives it.
	OperationTimeout time.Duration
	Log              *slog.Logger
	// Metrics receives booking_transitions_total; nil counts into a
	// registry nobody reads.
	Metrics *metrics.Registry
	Now     func() time.Time
	NewID   func() (uuid.UUID, error)
}

// Service runs the booking flow.
type Service struct {
	store       *store.Store
	catalog     Catalog
	payments    Payments
	opts        Options
	log         *slog.Logger
	transitions *metrics.CounterVec
	stranded    *retryset.Set[uuid.UUID, store.Lease] // see strand
}

// New returns the flow over its store and peers.
func New(s *store.Store, c Catalog, p Payments, opts Options) (*Service, error) {
	if opts.HoldTTL <= 0 || opts.OperationTimeout <= 0 || opts.HoldMargin < 0 {
		return nil, errors.New("flow: HoldTTL and OperationTimeout must be positive, HoldMargin not negative")
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = uuid.NewV7
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewRegistry()
	}
	transitions, err := opts.Metrics.Counter("booking_transitions_total",
		"Booking status transitions, by status left and status entered.", "from", "to")
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return &Service{store: s, catalog: c, payments: p, opts: opts, log: opts.Log, transitions: transitions,
		stranded: retryset.New[uuid.UUID, store.Lease](0)}, nil
}

// now is the clock at the precision the database keeps (microseconds), so
// that a booking reads the same in the answer that changed it as in every
// later read.
func (f *Service) now() time.Time { return f.opts.Now().UTC().Truncate(time.Microsecond) }

// catalogHoldTTL is what the catalog is asked to hold seats for: the
// customer's time plus the margin, within the catalog's bounds.
func (f *Service) catalogHoldTTL() time.Duration {
	return min(max(f.opts.HoldTTL+f.opts.HoldMargin, MinCatalogHoldTTL), MaxCatalogHoldTTL)
}

// Get returns one booking.
func (f *Service) Get(ctx context.Context, id uuid.UUID) (booking.Booking, error) {
	return f.store.Get(ctx, id)
}

// List returns a page of bookings for the admin list.
func (f *Service) List(ctx context.Context, filter store.Filter) (store.Page, error) {
	return f.store.List(ctx, filter)
}

// op is one operation's lease on one booking: the booking as last written,
// and the status it was written with (what the next conditional write
// expects to find).
type op struct {
	f      *Service
	lease  store.Lease
	b      booking.Booking
	stored booking.Status
	// released: finish gave the lease up already.
	released bool
}

func (f *Service) newLease() store.Lease {
	// The lease outlives the operation's deadline by the time its last
	// writes may take, so nobody takes over a booking still being written.
	return store.Lease{Owner: uuid.NewString(), Until: f.now().Add(f.opts.OperationTimeout + 2*persistTimeout)}
}

// claim takes the lease on booking id (see store.Claim for the errors).
func (f *Service) claim(ctx context.Context, id uuid.UUID, statuses ...booking.Status) (*op, error) {
	lease := f.newLease()
	b, err := f.store.Claim(ctx, id, lease, f.now(), statuses...)
	if err != nil {
		if claimMayHaveHappened(err) {
			f.strand(id, lease)
		}
		return nil, err
	}
	return &op{f: f, lease: lease, b: b, stored: b.Status}, nil
}

// release gives the lease up. It runs after the operation whatever happened,
// so it does not depend on the request's context; if it fails, the
// reconciler tries again (strand) until the lease expires. After
// finish it has nothing left to do.
func (o *op) release(ctx context.Context) {
	if o.released {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	if err := o.f.store.Release(ctx, o.b.ID, o.lease.Owner); err != nil {
		o.f.log.WarnContext(ctx, "release booking lease", "booking_id", o.b.ID, "err", err)
		o.f.strand(o.b.ID, o.lease)
	}
}

// save writes the booking as it stands, if it is still as this operation
// last saw it.
func (o *op) save(ctx context.Context) error { return o.write(ctx, false) }

// finish is the operation's last save: it gives the lease up in the same
// statement, saving the separate release's transaction. Nothing may save
// after it.
func (o *op) finish(ctx context.Context) error { return o.write(ctx, true) }

func (o *op) write(ctx context.Context, release bool) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), persistTimeout)
	defer cancel()
	o.b.UpdatedAt = o.f.now()
	save := o.f.store.Save
	if release {
		save = o.f.store.SaveAndRelease
	}
	if err := save(ctx, o.b, o.stored, o.lease); err != nil {
		return err
	}
	o.released = release
	if o.b.Status != o.stored {
		o.f.transitions.With(string(o.stored), string(o.b.Status)).Inc()
		o.f.log.InfoContext(ctx, "booking transition", "booking_id", o.b.ID,
			"from", o.stored, "to", o.b.Status, "reason", o.b.History[len(o.b.History)-1].Reason,
			"request_id", requestid.From(ctx))
		o.stored = o.b.Status
	}
	return nil
}

// transition moves the booking to status to and saves it.
func (o *op) transition(ctx context.Context, to booking.Status, reason string) error {
	if err := o.b.Transition(to, reason, o.f.now()); err != nil {
		return err
	}
	return o.save(ctx)
}

// finishTransition is transition as the operation's last save (see finish).
func (o *op) finishTransition(ctx context.Context, to booking.Status, reason string) error {
	if err := o.b.Transition(to, reason, o.f.now()); err != nil {
		return err
	}
	return o.finish(ctx)
}

// withDeadline bounds an operation's peer calls.
func (f *Service) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.opts.OperationTimeout)
}

// upstream turns the operation's own deadline running out into the
// upstream timeout it stands for: only peer calls take that long.
func upstream(err error) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, booking.ErrUpstreamTimeout) {
		return fmt.Errorf("%w: %w", booking.ErrUpstreamTimeout, err)
	}
	return err
}
