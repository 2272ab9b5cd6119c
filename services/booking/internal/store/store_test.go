package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

var t0 = time.Date(2027, 5, 1, 10, 0, 0, 123456000, time.UTC)

func open(t *testing.T, gdb *gorm.DB) *store.Store {
	t.Helper()
	if err := store.Migrate(t.Context(), gdb); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return store.New(gdb)
}

// awaiting returns a booking awaiting payment until deadline.
func awaiting(t *testing.T, email string, deadline time.Time) booking.Booking {
	t.Helper()
	id, err := uuid.NewV7()
	if err != nil {
		t.Fatal(err)
	}
	b := booking.New(id, uuid.New(), uuid.New(), 2, booking.Customer{Name: "Ana", Email: email}, t0)
	if err := b.SeatsHeld(uuid.New(), booking.Money{Amount: 12900, Currency: "EUR"}, deadline, t0); err != nil {
		t.Fatal(err)
	}
	return b
}

func create(t *testing.T, s *store.Store, b booking.Booking) {
	t.Helper()
	// Stored with a lapsed lease: free for anyone to claim.
	if err := s.Create(t.Context(), b, store.Lease{Owner: "creator", Until: t0.Add(-time.Second)}); err != nil {
		t.Fatalf("create: %v", err)
	}
}

func TestCreateAndGetRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := open(t, gdb)
		b := awaiting(t, "ana@example.com", t0.Add(15*time.Minute))
		b.PaymentIntentID = "pi_123"
		b.PaymentAttempt = 2
		create(t, s, b)
		got, err := s.Get(t.Context(), b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", b) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, b)
		}
		if _, err := s.Get(t.Context(), uuid.New()); !errors.Is(err, booking.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	})
}

func TestClaimAndConditionalSave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		s := open(t, gdb)
		b := awaiting(t, "ana@example.com", t0.Add(15*time.Minute))
		create(t, s, b)
		a := store.Lease{Owner: "a", Until: t0.Add(time.Minute)}
		other := store.Lease{Owner: "b", Until: t0.Add(time.Minute)}

		if _, err := s.Claim(ctx, b.ID, a, t0); err != nil {
			t.Fatalf("first claim: %v", err)
		}
		if _, err := s.Claim(ctx, b.ID, other, t0); !errors.Is(err, booking.ErrBusy) {
			t.Fatalf("claim of a leased booking: %v, want ErrBusy", err)
		}
		if _, err := s.Claim(ctx, uuid.New(), other, t0); !errors.Is(err, booking.ErrNotFound) {
			t.Fatalf("claim of an unknown booking: %v", err)
		}

		// Only the lease holder may write, and only from the expected status.
		changed := b
		if err := changed.Transition(booking.StatusConfirmed, "paid", t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, changed, booking.StatusAwaitingPayment, other); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("save by a non-holder: %v, want ErrStale", err)
		}
		if err := s.Save(ctx, changed, booking.StatusPending, a); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("save from the wrong status: %v, want ErrStale", err)
		}
		if err := s.Save(ctx, changed, booking.StatusAwaitingPayment, a); err != nil {
			t.Fatalf("save by the holder: %v", err)
		}
		got, _ := s.Get(ctx, b.ID)
		if got.Status != booking.StatusConfirmed || len(got.History) != 3 || got.History[2].Reason != "paid" {
			t.Fatalf("after save: %+v", got)
		}

		// A lapsed lease can be taken over; the old holder is then fenced off.
		later := t0.Add(2 * time.Minute)
		if _, err := s.Claim(ctx, b.ID, store.Lease{Owner: "b", Until: later.Add(time.Minute)}, later); err != nil {
			t.Fatalf("claim after the lease lapsed: %v", err)
		}
		if err := s.Save(ctx, got, booking.StatusConfirmed, a); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("save by the lapsed holder: %v, want ErrStale", err)
		}

		// Release is a no-op for a non-holder and frees the booking for the holder.
		if err := s.Release(ctx, b.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, b.ID, a, later); !errors.Is(err, booking.ErrBusy) {
			t.Fatalf("release by a non-holder freed the booking: %v", err)
		}
		if err := s.Release(ctx, b.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if err := s.Save(ctx, got, booking.StatusConfirmed, store.Lease{}); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("save with no lease on a free booking: %v, want ErrStale", err)
		}
		if _, err := s.Claim(ctx, b.ID, a, later); err != nil {
			t.Fatalf("claim after release: %v", err)
		}

		// A claim restricted to statuses fails once the booking left them.
		if err := s.Release(ctx, b.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, b.ID, a, later, booking.StatusAwaitingPayment); !errors.Is(err, booking.ErrStale) {
			t.Fatalf("claim of a confirmed booking for awaiting_payment: %v, want ErrStale", err)
		}
	})
}

// Two replicas sweep the same overdue bookings at once, each with its own
// connection pool: every booking is expired exactly once.
func TestConcurrentClaimProcessesEachBookingOnce(t *testing.T) {
	for _, backend := range dbtest.Backends(t) {
		t.Run(string(backend), func(t *testing.T) {
			cfg := dbtest.Config(t, backend)
			first := open(t, dbtest.OpenConfig(t, cfg))
			second := store.New(dbtest.OpenConfig(t, cfg))

			const n = 30
			for i := range n {
				create(t, first, awaiting(t, fmt.Sprintf("c%d@example.com", i), t0.Add(-time.Minute)))
			}

			var mu sync.Mutex
			processed := map[uuid.UUID][]string{}
			sweep := func(s *store.Store, replica string) error {
				ctx := context.Background()
				for {
					ids, err := s.Overdue(ctx, t0, 5)
					if err != nil {
						return err
					}
					if len(ids) == 0 {
						return nil
					}
					for _, id := range ids {
						lease := store.Lease{Owner: replica + id.String(), Until: t0.Add(time.Minute)}
						b, err := s.Claim(ctx, id, lease, t0, booking.StatusAwaitingPayment)
						if errors.Is(err, booking.ErrBusy) || errors.Is(err, booking.ErrStale) {
							continue // the other replica has it
						}
						if err != nil {
							return err
						}
						mu.Lock()
						processed[id] = append(processed[id], replica)
						mu.Unlock()
						if err := b.Transition(booking.StatusExpired, "not paid in time", t0); err != nil {
							return err
						}
						if err := s.Save(ctx, b, booking.StatusAwaitingPayment, lease); err != nil {
							return err
						}
						if err := s.Release(ctx, id, lease.Owner); err != nil {
							return err
						}
					}
				}
			}
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for name, s := range map[string]*store.Store{"first": first, "second": second} {
				wg.Go(func() { errs <- sweep(s, name) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if len(processed) != n {
				t.Fatalf("%d bookings processed, want %d", len(processed), n)
			}
			for id, by := range processed {
				if len(by) != 1 {
					t.Errorf("booking %s processed by %v", id, by)
				}
			}
			page, err := first.List(t.Context(), store.Filter{Status: booking.StatusExpired, Limit: 100})
			if err != nil || len(page.Bookings) != n {
				t.Fatalf("expired bookings: %d, %v", len(page.Bookings), err)
			}
		})
	}
}

func TestListFiltersAndPaginates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		s := open(t, gdb)
		var all []booking.Booking
		for i := range 7 {
			email := "ana@example.com"
			if i%2 == 1 {
				email = "Bruno@Example.com"
			}
			b := awaiting(t, email, t0.Add(time.Hour))
			if i%3 == 0 {
				if err := b.Transition(booking.StatusConfirmed, "paid", t0); err != nil {
					t.Fatal(err)
				}
			}
			create(t, s, b)
			all = append(all, b)
		}
		ids := func(bs []booking.Booking) []uuid.UUID {
			var out []uuid.UUID
			for _, b := range bs {
				out = append(out, b.ID)
			}
			return out
		}
		newestFirst := func(keep func(booking.Booking) bool) []uuid.UUID {
			var out []uuid.UUID
			for _, b := range slices.Backward(all) {
				if keep(b) {
					out = append(out, b.ID)
				}
			}
			return out
		}
		tests := []struct {
			name   string
			filter store.Filter
			want   []uuid.UUID
		}{
			{"all", store.Filter{}, newestFirst(func(booking.Booking) bool { return true })},
			{"by status", store.Filter{Status: booking.StatusConfirmed},
				newestFirst(func(b booking.Booking) bool { return b.Status == booking.StatusConfirmed })},
			{"by email, any case", store.Filter{Email: "bruno@EXAMPLE.com"},
				newestFirst(func(b booking.Booking) bool { return b.Customer.Email == "Bruno@Example.com" })},
			{"by both", store.Filter{Status: booking.StatusAwaitingPayment, Email: "ana@example.com"},
				newestFirst(func(b booking.Booking) bool {
					return b.Status == booking.StatusAwaitingPayment && b.Customer.Email == "ana@example.com"
				})},
			{"nothing", store.Filter{Email: "nobody@example.com"}, nil},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 2, 100} {
				t.Run(fmt.Sprintf("%s/limit %d", tt.name, limit), func(t *testing.T) {
					f := tt.filter
					f.Limit = limit
					var got []uuid.UUID
					for pages := 0; ; pages++ {
						if pages > len(all) {
							t.Fatal("pagination does not end")
						}
						page, err := s.List(ctx, f)
						if err != nil {
							t.Fatal(err)
						}
						if len(page.Bookings) > limit {
							t.Fatalf("page of %d, limit %d", len(page.Bookings), limit)
						}
						got = append(got, ids(page.Bookings)...)
						if page.Next == "" {
							break
						}
						f.Cursor = page.Next
					}
					if !slices.Equal(got, tt.want) {
						t.Fatalf("got %v\nwant %v", got, tt.want)
					}
				})
			}
		}

		_, err := s.List(ctx, store.Filter{Limit: 5, Cursor: "not-a-cursor"})
		if fields, ok := validate.Fields(err); !ok || fields[0].Field != "cursor" {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

// TestWorkQueues checks which bookings the expiry sweep and the reconciler
// select.
func TestWorkQueues(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		s := open(t, gdb)
		type row struct {
			name      string
			b         booking.Booking
			leased    bool
			overdue   bool
			unsettled bool
		}
		mk := func(mutate func(b *booking.Booking)) booking.Booking {
			b := awaiting(t, "ana@example.com", t0.Add(time.Minute))
			mutate(&b)
			return b
		}
		to := func(b *booking.Booking, s booking.Status) {
			if err := b.Transition(s, "test", t0); err != nil {
				t.Fatal(err)
			}
		}
		past := t0.Add(-time.Minute)
		pending := booking.New(uuid.Must(uuid.NewV7()), uuid.New(), uuid.New(), 1, booking.Customer{Name: "A", Email: "a@example.com"}, t0)
		rejectedHoldUnknown := pending
		rejectedHoldUnknown.ID = uuid.Must(uuid.NewV7())
		to(&rejectedHoldUnknown, booking.StatusRejected)
		rejectedSoldOut := rejectedHoldUnknown
		rejectedSoldOut.ID = uuid.Must(uuid.NewV7())
		rejectedSoldOut.Hold = booking.HoldNone

		rows := []row{
			{name: "awaiting, in time", b: mk(func(*booking.Booking) {})},
			{name: "awaiting, overdue", b: mk(func(b *booking.Booking) { b.HoldExpiresAt = &past }), overdue: true},
			{name: "awaiting, overdue, leased", b: mk(func(b *booking.Booking) { b.HoldExpiresAt = &past }), leased: true},
			{name: "awaiting, charge in flight", b: mk(func(b *booking.Booking) { b.ChargeInFlight = true }), unsettled: true},
			{name: "awaiting, charge in flight, leased", b: mk(func(b *booking.Booking) { b.ChargeInFlight = true }), leased: true},
			{name: "confirmed", b: mk(func(b *booking.Booking) { to(b, booking.StatusConfirmed); b.HoldExpiresAt = &past })},
			{name: "confirmed, cancel requested", b: mk(func(b *booking.Booking) { to(b, booking.StatusConfirmed); b.CancelRequested = true }), unsettled: true},
			{name: "cancelled, seats released", b: mk(func(b *booking.Booking) {
				to(b, booking.StatusCancelled)
				b.Hold = booking.HoldReleased
				b.CancelRequested = true
			})},
			{name: "expired, hold still held", b: mk(func(b *booking.Booking) { to(b, booking.StatusExpired) }), unsettled: true},
			{name: "pending", b: pending, unsettled: true},
			{name: "rejected, hold unknown", b: rejectedHoldUnknown, unsettled: true},
			{name: "rejected, sold out", b: rejectedSoldOut},
		}
		var wantOverdue, wantUnsettled []uuid.UUID
		for _, r := range rows {
			until := t0.Add(-time.Second)
			if r.leased {
				until = t0.Add(time.Minute)
			}
			if err := s.Create(ctx, r.b, store.Lease{Owner: "x", Until: until}); err != nil {
				t.Fatalf("%s: %v", r.name, err)
			}
			if r.overdue {
				wantOverdue = append(wantOverdue, r.b.ID)
			}
			if r.unsettled {
				wantUnsettled = append(wantUnsettled, r.b.ID)
			}
		}
		name := func(ids []uuid.UUID) []string {
			var out []string
			for _, id := range ids {
				for _, r := range rows {
					if r.b.ID == id {
						out = append(out, r.name)
					}
				}
			}
			slices.Sort(out)
			return out
		}
		overdue, err := s.Overdue(ctx, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := name(overdue), name(wantOverdue); !slices.Equal(got, want) {
			t.Errorf("overdue: %q, want %q", got, want)
		}
		unsettledIDs, err := s.Unsettled(ctx, t0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := name(unsettledIDs), name(wantUnsettled); !slices.Equal(got, want) {
			t.Errorf("unsettled: %q, want %q", got, want)
		}
	})
}

func TestProcessedEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		s := open(t, gdb)
		seen, err := s.EventProcessed(ctx, "evt_1")
		if err != nil || seen {
			t.Fatalf("before: %v %v", seen, err)
		}
		first, err := s.MarkEventProcessed(ctx, "evt_1", "payment_intent.succeeded", t0)
		if err != nil || !first {
			t.Fatalf("first mark: %v %v", first, err)
		}
		again, err := s.MarkEventProcessed(ctx, "evt_1", "payment_intent.succeeded", t0)
		if err != nil || again {
			t.Fatalf("second mark: %v %v, want false, nil", again, err)
		}
		seen, err = s.EventProcessed(ctx, "evt_1")
		if err != nil || !seen {
			t.Fatalf("after: %v %v", seen, err)
		}
	})
}

// Migrating twice (a restart, a second replica) is a no-op.
func TestMigrateIsRepeatable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		open(t, gdb)
		open(t, gdb)
	})
}
