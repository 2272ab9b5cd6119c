package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/store"
	fakes "github.com/tourism-go/tourism/services/booking/internal/testutil"
)

const (
	holdTTL    = 15 * time.Minute
	holdMargin = 2 * time.Minute
)

var (
	t0       = time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	price    = booking.Money{Amount: 12900, Currency: "EUR"}
	goodCard = booking.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	badCard  = booking.Card{Number: "4000000000009995", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	customer = booking.Customer{Name: "Ana Lima", Email: "ana@example.com"}
)

// env is the flow over a real store, with fake peers used to inject faults.
type env struct {
	t        *testing.T
	gdb      *gorm.DB
	clock    *fakes.Clock
	catalog  *fakes.Catalog
	payments *fakes.Payments
	store    *store.Store
	flow     *flow.Service
	metrics  *metrics.Registry
	dep      uuid.UUID
}

func newEnv(t *testing.T, gdb *gorm.DB) *env {
	t.Helper()
	if err := store.Migrate(t.Context(), gdb); err != nil {
		t.Fatal(err)
	}
	clock := fakes.NewClock(t0)
	e := &env{
		t: t, gdb: gdb, clock: clock,
		catalog:  fakes.NewCatalog(clock.Now),
		payments: fakes.NewPayments(clock.Now),
		store:    store.New(gdb),
		metrics:  metrics.NewRegistry(),
	}
	e.flow = e.newFlow(e.store, e.metrics)
	e.dep = e.catalog.AddDeparture(4, price)
	return e
}

func (e *env) newFlow(s *store.Store, reg *metrics.Registry) *flow.Service {
	e.t.Helper()
	f, err := flow.New(s, e.catalog, e.payments, flow.Options{
		HoldTTL: holdTTL, HoldMargin: holdMargin, OperationTimeout: 5 * time.Second,
		Metrics: reg, Now: e.clock.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

func (e *env) create(seats int) booking.Booking {
	e.t.Helper()
	b, err := e.flow.Create(e.t.Context(), booking.Request{DepartureID: e.dep.String(), Seats: seats, Customer: customer})
	if err != nil {
		e.t.Fatalf("create: %v", err)
	}
	return b
}

func (e *env) get(id uuid.UUID) booking.Booking {
	e.t.Helper()
	b, err := e.store.Get(e.t.Context(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) reconcile() {
	e.t.Helper()
	if err := e.flow.Reconcile(e.t.Context()); err != nil {
		e.t.Fatalf("reconcile: %v", err)
	}
}

// unsettled reports whether the reconciler still has work on b.
func (e *env) unsettled(id uuid.UUID) bool {
	ids, err := e.store.Unsettled(e.t.Context(), e.clock.Now().Add(time.Hour), 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range ids {
		if u == id {
			return true
		}
	}
	return false
}

// transitions reads booking_transitions_total{from,to} from the
// exposition, as Prometheus would.
func (e *env) transitions(from, to booking.Status) float64 {
	e.t.Helper()
	var text strings.Builder
	if err := e.metrics.WriteText(&text); err != nil {
		e.t.Fatal(err)
	}
	series := fmt.Sprintf("booking_transitions_total{from=%q,to=%q} ", from, to)
	for line := range strings.Lines(text.String()) {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				e.t.Fatal(err)
			}
			return n
		}
	}
	return 0
}

func statuses(b booking.Booking) string {
	var s []string
	for _, h := range b.History {
		s = append(s, string(h.Status))
	}
	return strings.Join(s, ">")
}

func TestCreateHoldsSeats(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(3)
		if b.Status != booking.StatusAwaitingPayment || b.Total != (booking.Money{Amount: 38700, Currency: "EUR"}) {
			t.Fatalf("created: %+v", b)
		}
		if !b.HoldExpiresAt.Equal(t0.Add(holdTTL)) {
			t.Fatalf("hold_expires_at %v, want now + BOOKING_HOLD_TTL", b.HoldExpiresAt)
		}
		hold, ok := e.catalog.HoldOf(b.ID)
		if !ok || hold.ID != b.HoldID || hold.Status != "held" {
			t.Fatalf("catalog hold: %+v %v", hold, ok)
		}
		// The catalog keeps the seats HoldMargin longer than the customer gets.
		if !hold.ExpiresAt.Equal(t0.Add(holdTTL + holdMargin)) {
			t.Fatalf("catalog hold expires %v, want %v", hold.ExpiresAt, t0.Add(holdTTL+holdMargin))
		}
		if e.catalog.Reserved(e.dep) != 3 {
			t.Fatalf("reserved %d", e.catalog.Reserved(e.dep))
		}
		if got := e.get(b.ID); statuses(got) != "pending>awaiting_payment" || got.TourID == uuid.Nil {
			t.Fatalf("stored: %+v", got)
		}
		if e.transitions(booking.StatusPending, booking.StatusAwaitingPayment) != 1 {
			t.Fatal("booking_transitions_total{pending,awaiting_payment} not counted")
		}
	})
}

func TestCreateRefusals(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()

		// Sold out: rejected, nothing held, nothing left to reconcile.
		b, err := e.flow.Create(ctx, booking.Request{DepartureID: e.dep.String(), Seats: 5, Customer: customer})
		if !errors.Is(err, booking.ErrSeatsUnavailable) {
			t.Fatalf("sold out: %v", err)
		}
		got := e.get(b.ID)
		if got.Status != booking.StatusRejected || got.History[1].Reason != "seats unavailable" || e.unsettled(b.ID) {
			t.Fatalf("sold-out booking: %+v", got)
		}

		// Closed departure: rejected too.
		closed := e.catalog.AddDeparture(4, price)
		e.catalog.CloseDeparture(closed)
		if _, err := e.flow.Create(ctx, booking.Request{DepartureID: closed.String(), Seats: 1, Customer: customer}); !errors.Is(err, booking.ErrDepartureClosed) {
			t.Fatalf("closed: %v", err)
		}

		// Unknown departure: nothing stored at all.
		if _, err := e.flow.Create(ctx, booking.Request{DepartureID: uuid.NewString(), Seats: 1, Customer: customer}); !errors.Is(err, booking.ErrDepartureNotFound) {
			t.Fatalf("unknown departure: %v", err)
		}
		// Catalog down before anything is stored: an upstream error, no booking.
		e.catalog.FailBefore(fakes.On(fakes.Down, fakes.CallDeparture))
		if _, err := e.flow.Create(ctx, booking.Request{DepartureID: e.dep.String(), Seats: 1, Customer: customer}); !errors.Is(err, booking.ErrUpstreamUnavailable) {
			t.Fatalf("catalog down: %v", err)
		}
		e.catalog.Heal()
		page, _ := e.store.List(ctx, store.Filter{Limit: 10})
		if len(page.Bookings) != 2 {
			t.Fatalf("%d bookings stored, want 2", len(page.Bookings))
		}
		if e.catalog.Reserved(e.dep) != 0 || e.catalog.Reserved(closed) != 0 {
			t.Fatal("a refused booking holds seats")
		}
		if e.transitions(booking.StatusPending, booking.StatusRejected) != 2 {
			t.Fatal("rejections not counted")
		}
	})
}

// The catalog fails while seats are being held: the client gets an upstream
// error at once, the booking is rejected, and no seat stays held once the
// compensation (immediate, or the reconciler's once the catalog is back)
// has run.
func TestCreateWithCatalogDownLeavesNoOrphanHold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fault injects the failure of the hold call.
		fault func(c *fakes.Catalog)
		// healBeforeCompensation: the catalog recovers at once, so the
		// immediate compensation can do the job.
		healAtOnce bool
		wantErr    error
	}{
		{"down before the hold", func(c *fakes.Catalog) {
			c.FailBefore(fakes.On(fakes.Down, fakes.CallPlaceHold, fakes.CallReleaseHold))
		}, false, booking.ErrUpstreamUnavailable},
		{"answer lost, catalog back at once", func(c *fakes.Catalog) { c.FailAfter(fakes.Once(fakes.On(fakes.Slow, fakes.CallPlaceHold))) }, true, booking.ErrUpstreamTimeout},
		{"answer lost, catalog then down", func(c *fakes.Catalog) {
			c.FailAfter(fakes.On(fakes.Slow, fakes.CallPlaceHold))
			c.FailBefore(fakes.On(fakes.Down, fakes.CallReleaseHold))
		}, false, booking.ErrUpstreamTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
				e := newEnv(t, gdb)
				tt.fault(e.catalog)
				b, err := e.flow.Create(t.Context(), booking.Request{DepartureID: e.dep.String(), Seats: 2, Customer: customer})
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("create: %v, want %v", err, tt.wantErr)
				}
				got := e.get(b.ID)
				if got.Status != booking.StatusRejected || !strings.HasPrefix(got.History[1].Reason, "catalog unavailable") {
					t.Fatalf("booking: %+v", got)
				}
				if tt.healAtOnce {
					if e.catalog.Reserved(e.dep) != 0 || e.unsettled(b.ID) {
						t.Fatalf("immediate compensation left %d seats held", e.catalog.Reserved(e.dep))
					}
					return
				}
				if !e.unsettled(b.ID) {
					t.Fatal("a booking whose hold may exist is not queued for the reconciler")
				}
				e.catalog.Heal()
				e.reconcile()
				if e.catalog.Reserved(e.dep) != 0 {
					t.Fatalf("%d seats still held after the reconciler ran", e.catalog.Reserved(e.dep))
				}
				if e.unsettled(b.ID) {
					t.Fatal("still unsettled after the reconciler ran")
				}
				if got := e.get(b.ID); got.Status != booking.StatusRejected {
					t.Fatalf("status %s", got.Status)
				}
			})
		})
	}
}

// A creator that crashed between storing the booking and recording the
// hold leaves a pending booking: once its lease lapses, the reconciler
// rejects it and frees the seats.
func TestReconcileFinishesACrashedCreate(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()
		b := booking.New(uuid.Must(uuid.NewV7()), e.dep, uuid.New(), 2, customer, t0)
		if err := e.store.Create(ctx, b, store.Lease{Owner: "crashed", Until: t0.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.catalog.PlaceHold(ctx, e.dep, flow.HoldRequest{BookingID: b.ID, Seats: 2, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
		e.reconcile()
		if e.get(b.ID).Status != booking.StatusPending {
			t.Fatal("the reconciler took a booking whose creator may still be running")
		}
		e.clock.Advance(2 * time.Minute)
		e.reconcile()
		got := e.get(b.ID)
		if got.Status != booking.StatusRejected || got.History[1].Reason != "creation did not finish" {
			t.Fatalf("booking: %+v", got)
		}
		if e.catalog.Reserved(e.dep) != 0 {
			t.Fatal("seats still held")
		}
	})
}

func TestPay(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(2)
		paid, err := e.flow.Pay(t.Context(), b.ID, goodCard)
		if err != nil {
			t.Fatal(err)
		}
		if paid.Status != booking.StatusConfirmed || paid.PaymentIntentID == "" || statuses(paid) != "pending>awaiting_payment>confirmed" {
			t.Fatalf("paid: %+v", paid)
		}
		intent, _ := e.payments.IntentOf(b.ID)
		if intent.ID != paid.PaymentIntentID || intent.Amount != paid.Total || e.payments.Charges(intent.ID) != 1 {
			t.Fatalf("intent %+v, %d charges", intent, e.payments.Charges(intent.ID))
		}
		if hold, _ := e.catalog.HoldOf(b.ID); hold.Status != "confirmed" {
			t.Fatalf("hold %s", hold.Status)
		}
		// Paying again is refused and charges nothing.
		if _, err := e.flow.Pay(t.Context(), b.ID, goodCard); !errors.Is(err, booking.ErrNotPayable) {
			t.Fatalf("second pay: %v", err)
		}
		if e.payments.Charges(intent.ID) != 1 {
			t.Fatal("charged twice")
		}
		if _, err := e.flow.Pay(t.Context(), uuid.New(), goodCard); !errors.Is(err, booking.ErrNotFound) {
			t.Fatalf("unknown booking: %v", err)
		}
		if e.transitions(booking.StatusAwaitingPayment, booking.StatusConfirmed) != 1 {
			t.Fatal("confirmation not counted")
		}
	})
}

func TestPayDeclineLeavesBookingPayable(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(1)
		_, err := e.flow.Pay(t.Context(), b.ID, badCard)
		var declined *booking.DeclineError
		if !errors.As(err, &declined) || declined.DeclineCode != "insufficient_funds" {
			t.Fatalf("pay: %v", err)
		}
		got := e.get(b.ID)
		if got.Status != booking.StatusAwaitingPayment || got.ChargeInFlight || got.PaymentAttempt != 2 {
			t.Fatalf("after decline: %+v", got)
		}
		// The same bad card again is declined again (a new attempt, not a
		// replay of the stored answer)...
		if _, err := e.flow.Pay(t.Context(), b.ID, badCard); !errors.As(err, &declined) {
			t.Fatalf("second decline: %v", err)
		}
		// ...and a good card is charged under its own key.
		paid, err := e.flow.Pay(t.Context(), b.ID, goodCard)
		if err != nil || paid.Status != booking.StatusConfirmed {
			t.Fatalf("pay with a good card: %v %+v", err, paid)
		}
		if n := e.payments.Calls(fakes.CallCreateIntent); n != 1 {
			t.Fatalf("%d intents created, want 1", n)
		}
		if e.payments.Charges(paid.PaymentIntentID) != 1 {
			t.Fatal("charges")
		}
	})
}

// The gateway fails while the card is being charged; paying again
// converges on one charge.
func TestPayRetryAfterGatewayFailureChargesOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fault   func(p *fakes.Payments)
		wantErr error
	}{
		{"500 before charging", func(p *fakes.Payments) {
			p.FailBefore(fakes.On(fakes.Down, fakes.CallConfirmIntent))
		}, booking.ErrUpstreamUnavailable},
		{"timeout before charging", func(p *fakes.Payments) {
			p.FailBefore(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
		}, booking.ErrUpstreamTimeout},
		{"charged, answer lost", func(p *fakes.Payments) {
			p.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
		}, booking.ErrUpstreamTimeout},
		{"gateway down from the start", func(p *fakes.Payments) {
			p.FailBefore(fakes.Always(fakes.Down))
		}, booking.ErrUpstreamUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
				e := newEnv(t, gdb)
				b := e.create(2)
				tt.fault(e.payments)
				_, err := e.flow.Pay(t.Context(), b.ID, goodCard)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("pay: %v, want %v", err, tt.wantErr)
				}
				if got := e.get(b.ID); got.Status != booking.StatusAwaitingPayment {
					t.Fatalf("status after the failure: %s", got.Status)
				}
				e.payments.Heal()
				paid, err := e.flow.Pay(t.Context(), b.ID, goodCard)
				if err != nil || paid.Status != booking.StatusConfirmed {
					t.Fatalf("retry: %v %+v", err, paid)
				}
				if n := e.payments.Charges(paid.PaymentIntentID); n != 1 {
					t.Fatalf("%d charges, want 1", n)
				}
			})
		})
	}
}

// The card was charged but booking stopped before recording it (the
// gateway's answer, or the catalog's, never came back). Whichever comes
// first converges on a confirmed booking with one charge: the gateway's
// webhook, the reconciler, or the customer paying again.
func TestChargeWithoutRecordConverges(t *testing.T) {
	t.Parallel()
	stops := map[string]func(e *env){
		"gateway answer lost": func(e *env) { e.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent)) },
		"catalog down after the charge": func(e *env) {
			e.catalog.FailBefore(fakes.On(fakes.Down, fakes.CallConfirmHold))
		},
	}
	converge := map[string]func(e *env, b booking.Booking){
		"webhook": func(e *env, b booking.Booking) {
			intent, _ := e.payments.IntentOf(b.ID)
			dup, err := e.flow.HandleEvent(e.t.Context(), flow.Event{ID: "evt_1", Type: flow.EventIntentSucceeded, Intent: &intent})
			if err != nil || dup {
				e.t.Fatalf("webhook: %v %v", dup, err)
			}
		},
		"reconciler": func(e *env, _ booking.Booking) { e.reconcile() },
		"pay again": func(e *env, b booking.Booking) {
			if _, err := e.flow.Pay(e.t.Context(), b.ID, goodCard); err != nil {
				e.t.Fatalf("pay again: %v", err)
			}
		},
	}
	for stopName, stop := range stops {
		for convName, conv := range converge {
			t.Run(stopName+"/"+convName, func(t *testing.T) {
				e := newEnv(t, dbtest.Open(t, dbtest.SQLite))
				b := e.create(2)
				stop(e)
				if _, err := e.flow.Pay(t.Context(), b.ID, goodCard); !errors.Is(err, booking.ErrUpstreamUnavailable) && !errors.Is(err, booking.ErrUpstreamTimeout) {
					t.Fatalf("pay: %v", err)
				}
				got := e.get(b.ID)
				if got.Status != booking.StatusAwaitingPayment || !got.ChargeInFlight || !e.unsettled(b.ID) {
					t.Fatalf("after the stop: %+v", got)
				}
				e.payments.Heal()
				e.catalog.Heal()
				conv(e, b)
				got = e.get(b.ID)
				if got.Status != booking.StatusConfirmed || got.ChargeInFlight {
					t.Fatalf("converged to %+v", got)
				}
				if n := e.payments.Charges(got.PaymentIntentID); n != 1 {
					t.Fatalf("%d charges", n)
				}
				if hold, _ := e.catalog.HoldOf(b.ID); hold.Status != "confirmed" {
					t.Fatalf("hold %s", hold.Status)
				}
			})
		}
	}
}

func TestPaidAfterHoldLapsedIsRefunded(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(2)
		// The catalog let the hold go (its sweeper, a clock ahead of ours)
		// while booking still takes the payment.
		e.catalog.ExpireHold(b.ID)
		got, err := e.flow.Pay(t.Context(), b.ID, goodCard)
		if !errors.Is(err, booking.ErrHoldExpired) {
			t.Fatalf("pay: %v, want ErrHoldExpired", err)
		}
		if got.Status != booking.StatusExpired || e.get(b.ID).Status != booking.StatusExpired {
			t.Fatalf("booking: %+v", got)
		}
		intent, _ := e.payments.IntentOf(b.ID)
		if intent.Status != flow.IntentSucceeded || intent.AmountRefunded != intent.Amount.Amount {
			t.Fatalf("intent not refunded: %+v", intent)
		}
		if e.catalog.Reserved(e.dep) != 0 || e.unsettled(b.ID) {
			t.Fatal("seats held or work left")
		}
	})
}

// awaiting returns three bookings awaiting payment, one seat each: one
// never paid, one declined, and one charged whose answer was lost and no
// webhook came, so that only the gateway can tell it was paid.
func (e *env) awaiting() (unpaid, declined, paidLost booking.Booking) {
	e.t.Helper()
	unpaid = e.create(1)
	declined = e.create(1)
	if _, err := e.flow.Pay(e.t.Context(), declined.ID, badCard); !errors.Is(err, booking.ErrCardDeclined) {
		e.t.Fatal(err)
	}
	paidLost = e.create(1)
	e.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
	_, _ = e.flow.Pay(e.t.Context(), paidLost.ID, goodCard)
	e.payments.Heal()
	return unpaid, declined, paidLost
}

// With a short TTL the booking lapses: the sweep expires it and frees the
// seats, and paying it afterwards is refused.
func TestExpiry(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()
		// The sweep must confirm the one paid, not expire it.
		unpaid, declined, paidLost := e.awaiting()

		if err := e.flow.ExpireOverdue(ctx); err != nil {
			t.Fatal(err)
		}
		if e.get(unpaid.ID).Status != booking.StatusAwaitingPayment {
			t.Fatal("expired before its deadline")
		}
		e.clock.Advance(holdTTL)
		if err := e.flow.ExpireOverdue(ctx); err != nil {
			t.Fatal(err)
		}
		for _, id := range []uuid.UUID{unpaid.ID, declined.ID} {
			got := e.get(id)
			if got.Status != booking.StatusExpired || got.Hold != booking.HoldReleased {
				t.Fatalf("overdue booking: %+v", got)
			}
			if _, err := e.flow.Pay(ctx, id, goodCard); !errors.Is(err, booking.ErrNotPayable) {
				t.Fatalf("paying an expired booking: %v", err)
			}
		}
		if got := e.get(paidLost.ID); got.Status != booking.StatusConfirmed {
			t.Fatalf("paid booking: %s, want confirmed", got.Status)
		}
		if e.catalog.Reserved(e.dep) != 1 {
			t.Fatalf("reserved %d, want the paid seat only", e.catalog.Reserved(e.dep))
		}
		if e.transitions(booking.StatusAwaitingPayment, booking.StatusExpired) != 2 {
			t.Fatal("expiries not counted")
		}
	})
}

// Paying at or after the deadline expires the booking at once and answers
// hold_expired.
func TestPayOverdueExpires(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(2)
		e.clock.Advance(holdTTL)
		got, err := e.flow.Pay(t.Context(), b.ID, goodCard)
		if !errors.Is(err, booking.ErrHoldExpired) || got.Status != booking.StatusExpired {
			t.Fatalf("pay: %v %s", err, got.Status)
		}
		if e.payments.Calls(fakes.CallCreateIntent) != 0 || e.catalog.Reserved(e.dep) != 0 {
			t.Fatal("charged or still holding seats")
		}
		if _, err := e.flow.Pay(t.Context(), b.ID, goodCard); !errors.Is(err, booking.ErrNotPayable) {
			t.Fatalf("pay again: %v", err)
		}
	})
}

// Two replicas sweep at once, each with its own pool: every overdue
// booking's seats are released exactly once.
func TestExpiryOnTwoReplicas(t *testing.T) {
	t.Parallel()
	for _, backend := range dbtest.Backends(t) {
		t.Run(string(backend), func(t *testing.T) {
			cfg := dbtest.Config(t, backend)
			e := newEnv(t, dbtest.OpenConfig(t, cfg))
			e.dep = e.catalog.AddDeparture(20, price)
			const n = 12
			var ids []uuid.UUID
			for range n {
				ids = append(ids, e.create(1).ID)
			}
			other := e.newFlow(store.New(dbtest.OpenConfig(t, cfg)), nil)
			e.clock.Advance(holdTTL)

			var wg sync.WaitGroup
			errs := make(chan error, 2)
			for _, f := range []*flow.Service{e.flow, other} {
				wg.Go(func() { errs <- f.ExpireOverdue(context.Background()) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range ids {
				if s := e.get(id).Status; s != booking.StatusExpired {
					t.Fatalf("booking %s is %s", id, s)
				}
			}
			if got := e.catalog.Calls(fakes.CallReleaseHold); got != n {
				t.Fatalf("%d releases for %d bookings", got, n)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	type setup func(e *env) booking.Booking
	awaiting := func(e *env) booking.Booking { return e.create(2) }
	confirmed := func(e *env) booking.Booking {
		b, err := e.flow.Pay(e.t.Context(), e.create(2).ID, goodCard)
		if err != nil {
			e.t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name       string
		setup      setup
		want       error
		wantRefund bool
		reason     string
	}{
		{"awaiting payment", awaiting, nil, false, "cancelled by the customer"},
		{"confirmed", confirmed, nil, true, "cancelled by the customer; payment refunded"},
		{"awaiting, charged without record", func(e *env) booking.Booking {
			b := e.create(2)
			e.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
			_, _ = e.flow.Pay(e.t.Context(), b.ID, goodCard)
			e.payments.Heal()
			return b
		}, nil, true, "cancelled by the customer; payment refunded"},
		{"expired", func(e *env) booking.Booking {
			b := e.create(2)
			e.clock.Advance(holdTTL)
			if err := e.flow.ExpireOverdue(e.t.Context()); err != nil {
				e.t.Fatal(err)
			}
			return b
		}, booking.ErrNotCancellable, false, ""},
		{"rejected", func(e *env) booking.Booking {
			b, _ := e.flow.Create(e.t.Context(), booking.Request{DepartureID: e.dep.String(), Seats: 9, Customer: customer})
			return b
		}, booking.ErrNotCancellable, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
				e := newEnv(t, gdb)
				b := tt.setup(e)
				got, err := e.flow.Cancel(t.Context(), b.ID)
				if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
					t.Fatalf("cancel: %v, want %v", err, tt.want)
				}
				intent, hasIntent := e.payments.IntentOf(b.ID)
				refunded := hasIntent && intent.AmountRefunded > 0
				if refunded != tt.wantRefund {
					t.Fatalf("refunded %v, want %v", refunded, tt.wantRefund)
				}
				if tt.want != nil {
					return
				}
				if got.Status != booking.StatusCancelled || got.History[len(got.History)-1].Reason != tt.reason {
					t.Fatalf("cancelled: %+v", got)
				}
				if e.catalog.Reserved(e.dep) != 0 {
					t.Fatal("seats still held")
				}
				// Cancelling again answers the cancelled booking, touching nothing.
				calls := e.catalog.Calls(fakes.CallReleaseHold)
				again, err := e.flow.Cancel(t.Context(), b.ID)
				if err != nil || again.Status != booking.StatusCancelled || e.catalog.Calls(fakes.CallReleaseHold) != calls {
					t.Fatalf("cancel again: %v %+v", err, again)
				}
			})
		})
	}
}

// A cancellation interrupted after the refund (the catalog is down) blocks
// payment meanwhile, and is finished by the reconciler with one refund.
func TestInterruptedCancelIsFinished(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b, err := e.flow.Pay(t.Context(), e.create(2).ID, goodCard)
		if err != nil {
			t.Fatal(err)
		}
		e.catalog.FailBefore(fakes.Always(fakes.Down))
		if _, err := e.flow.Cancel(t.Context(), b.ID); !errors.Is(err, booking.ErrUpstreamUnavailable) {
			t.Fatalf("cancel: %v", err)
		}
		got := e.get(b.ID)
		if got.Status != booking.StatusConfirmed || !got.CancelRequested || !e.unsettled(b.ID) {
			t.Fatalf("interrupted cancel: %+v", got)
		}
		e.catalog.Heal()
		e.reconcile()
		if got := e.get(b.ID); got.Status != booking.StatusCancelled {
			t.Fatalf("after reconcile: %s", got.Status)
		}
		intent, _ := e.payments.IntentOf(b.ID)
		if intent.AmountRefunded != intent.Amount.Amount || e.payments.Calls(fakes.CallRefund) != 2 {
			// Two refund calls (one per try), one refund: the key makes the
			// second a replay.
			t.Fatalf("intent %+v after %d refund calls", intent, e.payments.Calls(fakes.CallRefund))
		}
		if e.catalog.Reserved(e.dep) != 0 {
			t.Fatal("seats still held")
		}
	})
}

func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()

		// A charge whose answer was lost: the event confirms the booking,
		// and its redelivery does nothing.
		b := e.create(2)
		e.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
		_, _ = e.flow.Pay(ctx, b.ID, goodCard)
		e.payments.Heal()
		intent, _ := e.payments.IntentOf(b.ID)
		ev := flow.Event{ID: "evt_1", Type: flow.EventIntentSucceeded, Intent: &intent}

		// While someone else works on the booking, the event is refused
		// unrecorded, so the gateway redelivers it.
		busy := store.Lease{Owner: "someone", Until: t0.Add(time.Minute)}
		if _, err := e.store.Claim(ctx, b.ID, busy, t0); err != nil {
			t.Fatal(err)
		}
		if _, err := e.flow.HandleEvent(ctx, ev); !errors.Is(err, booking.ErrBusy) {
			t.Fatalf("event on a busy booking: %v", err)
		}
		if err := e.store.Release(ctx, b.ID, "someone"); err != nil {
			t.Fatal(err)
		}

		dup, err := e.flow.HandleEvent(ctx, ev)
		if err != nil || dup || e.get(b.ID).Status != booking.StatusConfirmed {
			t.Fatalf("first delivery: %v %v %s", dup, err, e.get(b.ID).Status)
		}
		confirms := e.catalog.Calls(fakes.CallConfirmHold)
		dup, err = e.flow.HandleEvent(ctx, ev)
		if err != nil || !dup || e.catalog.Calls(fakes.CallConfirmHold) != confirms {
			t.Fatalf("redelivery: %v %v", dup, err)
		}

		// A charge for a booking that expired meanwhile is refunded.
		late := e.create(1)
		e.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
		_, _ = e.flow.Pay(ctx, late.ID, goodCard)
		e.payments.Heal()
		e.catalog.FailBefore(fakes.On(fakes.Down, fakes.CallConfirmHold)) // keeps the sweep from confirming it
		e.clock.Advance(holdTTL + holdMargin)
		e.catalog.ExpireHold(late.ID)
		e.catalog.Heal()
		if err := e.flow.ExpireOverdue(ctx); err != nil {
			t.Fatal(err)
		}
		lateIntent, _ := e.payments.IntentOf(late.ID)
		if got := e.get(late.ID); got.Status != booking.StatusExpired || lateIntent.AmountRefunded == 0 {
			t.Fatalf("late booking %s, intent %+v", got.Status, lateIntent)
		}
		lateIntent.AmountRefunded = 0 // the event as sent before the refund
		if _, err := e.flow.HandleEvent(ctx, flow.Event{ID: "evt_2", Type: flow.EventIntentSucceeded, Intent: &lateIntent}); err != nil {
			t.Fatal(err)
		}
		if refunded, _ := e.payments.IntentOf(late.ID); refunded.AmountRefunded != refunded.Amount.Amount {
			t.Fatalf("not refunded: %+v", refunded)
		}

		// Events about nothing booking knows are recorded and ignored.
		stranger := flow.Intent{ID: "pi_x", Status: flow.IntentSucceeded, Amount: price, Metadata: map[string]string{"booking_id": uuid.NewString()}}
		for i, ev := range []flow.Event{
			{ID: "evt_3", Type: flow.EventIntentSucceeded, Intent: &stranger},
			{ID: "evt_4", Type: "refund.succeeded"},
			{ID: "evt_5", Type: "payment_intent.payment_failed", Intent: &flow.Intent{ID: "pi_y"}},
		} {
			if dup, err := e.flow.HandleEvent(ctx, ev); err != nil || dup {
				t.Fatalf("event %d: %v %v", i, dup, err)
			}
		}
	})
}

func TestInvalidInputTouchesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, dbtest.SQLite))
	if _, err := e.flow.Create(t.Context(), booking.Request{Seats: 0}); err == nil || !strings.Contains(err.Error(), "departure_id") {
		t.Fatalf("create: %v", err)
	}
	b := e.create(1)
	_, err := e.flow.Pay(t.Context(), b.ID, booking.Card{Number: "4242424242424241", ExpMonth: 1, ExpYear: 2030, CVC: "1"})
	if err == nil || !strings.Contains(err.Error(), "card.number") || !strings.Contains(err.Error(), "card.cvc") {
		t.Fatalf("pay: %v", err)
	}
	if e.catalog.Calls(fakes.CallDeparture) != 1 || e.payments.Calls(fakes.CallCreateIntent) != 0 {
		t.Fatal("invalid input reached a peer")
	}
}

// Customers double-clicking "pay" (requests without an Idempotency-Key, on
// any replica) race on one booking: one request charges, the others are
// told the booking is busy or already paid, and the card is charged once.
func TestConcurrentPaymentsChargeOnce(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		b := e.create(2)
		const n = 6
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				_, err := e.flow.Pay(context.Background(), b.ID, goodCard)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		succeeded := 0
		for err := range errs {
			switch {
			case err == nil:
				succeeded++
			case errors.Is(err, booking.ErrBusy), errors.Is(err, booking.ErrNotPayable):
			default:
				t.Fatalf("unexpected error: %v", err)
			}
		}
		got := e.get(b.ID)
		if succeeded != 1 || got.Status != booking.StatusConfirmed || e.payments.Charges(got.PaymentIntentID) != 1 {
			t.Fatalf("%d succeeded, booking %s, %d charges", succeeded, got.Status, e.payments.Charges(got.PaymentIntentID))
		}
	})
}

// A database outage right after the charge leaves the booking leased by an
// operation that could neither record the charge nor give the lease up.
// Once the database is back, the next reconciler pass gives the lease up
// and settles the booking, long before the lease would have expired (the
// clock does not move here).
func TestLeaseStrandedByADatabaseOutageIsGivenUpOnceItIsBack(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()
		outage := dbtest.NewOutage(t, gdb)
		b := e.create(2)
		e.payments.FailAfter(func(call string) error {
			if call == fakes.CallConfirmIntent {
				outage.Start()
			}
			return nil
		})
		if _, err := e.flow.Pay(ctx, b.ID, goodCard); !errors.Is(err, dbtest.ErrOutage) {
			t.Fatalf("pay with the database gone after the charge: %v", err)
		}
		e.payments.Heal()
		if err := e.flow.Reconcile(ctx); !errors.Is(err, dbtest.ErrOutage) {
			t.Fatalf("reconcile while the database is down: %v", err)
		}
		outage.End()

		intent, _ := e.payments.IntentOf(b.ID)
		ev := flow.Event{ID: "evt_1", Type: flow.EventIntentSucceeded, Intent: &intent}
		if _, err := e.flow.HandleEvent(ctx, ev); !errors.Is(err, booking.ErrBusy) {
			t.Fatalf("event before the reconciler ran: %v (want the lease still held)", err)
		}
		e.reconcile()
		got := e.get(b.ID)
		if got.Status != booking.StatusConfirmed || got.ChargeInFlight {
			t.Fatalf("after one reconciler pass: %s, charge in flight %v", got.Status, got.ChargeInFlight)
		}
		if n := e.payments.Charges(got.PaymentIntentID); n != 1 {
			t.Fatalf("%d charges", n)
		}
		if dup, err := e.flow.HandleEvent(ctx, ev); err != nil || dup {
			t.Fatalf("event after: dup %v, %v", dup, err)
		}

		// A claim that failed is remembered too (its answer may be what was
		// lost), but a lease someone else holds is not ours to give up.
		other := e.create(1)
		outage.Start()
		if _, err := e.flow.Pay(ctx, other.ID, goodCard); !errors.Is(err, dbtest.ErrOutage) {
			t.Fatalf("pay with the database down: %v", err)
		}
		outage.End()
		theirs := store.Lease{Owner: "someone", Until: e.clock.Now().Add(time.Minute)}
		if _, err := e.store.Claim(ctx, other.ID, theirs, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.reconcile()
		if _, err := e.store.Claim(ctx, other.ID, store.Lease{Owner: "me", Until: e.clock.Now().Add(time.Minute)}, e.clock.Now()); !errors.Is(err, booking.ErrBusy) {
			t.Fatalf("someone else's lease: claim answered %v, want busy", err)
		}
	})
}
