package flow_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/peers"
	"github.com/tourism-go/tourism/services/booking/internal/store"
	fakes "github.com/tourism-go/tourism/services/booking/internal/testutil"
)

// flowWith is the flow over e's store and clock with other peers: the
// service as it runs when a secret is missing (peers.Unconfigured).
func (e *env) flowWith(c flow.Catalog, p flow.Payments) *flow.Service {
	e.t.Helper()
	f, err := flow.New(e.store, c, p, flow.Options{
		HoldTTL: holdTTL, HoldMargin: holdMargin, OperationTimeout: 5 * time.Second, Now: e.clock.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return f
}

// sweep runs both workers' passes, which must not fail.
func sweep(t *testing.T, f *flow.Service) {
	t.Helper()
	if err := f.ExpireOverdue(t.Context()); err != nil {
		t.Fatalf("expiry pass: %v", err)
	}
	if err := f.Reconcile(t.Context()); err != nil {
		t.Fatalf("reconcile pass: %v", err)
	}
}

// Without PAYMENT_API_KEY the sweeps neither fail nor guess: a booking
// whose payment must be checked at the gateway stays exactly as it was,
// while an unpaid one with no payment still expires through the catalog.
// Once the key is back, the sweep settles the rest.
func TestSweepWithoutPaymentKey(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		unpaid, declined, paidLost := e.awaiting()
		e.clock.Advance(holdTTL)

		keyless := e.flowWith(e.catalog, peers.Unconfigured{Off: &features.Off{Variable: "PAYMENT_API_KEY", Effect: "off"}})
		before := map[string]booking.Booking{"declined": e.get(declined.ID), "paid": e.get(paidLost.ID)}
		reads := e.payments.Calls(fakes.CallReadIntent)
		sweep(t, keyless)
		sweep(t, keyless) // a second tick finds the same and stays quiet

		if got := e.get(unpaid.ID); got.Status != booking.StatusExpired || got.Hold != booking.HoldReleased {
			t.Fatalf("unpaid booking: %s, hold %s; want expired through the catalog", got.Status, got.Hold)
		}
		for name, b := range before {
			if got := e.get(b.ID); !reflect.DeepEqual(got, b) {
				t.Errorf("%s booking changed without the gateway:\n%+v\nwas\n%+v", name, got, b)
			}
		}
		if n := e.payments.Calls(fakes.CallReadIntent); n != reads {
			t.Errorf("%d gateway reads without a key", n-reads)
		}
		if e.catalog.Reserved(e.dep) != 2 {
			t.Fatalf("reserved %d, want the two seats awaiting the gateway", e.catalog.Reserved(e.dep))
		}

		sweep(t, e.flow)
		if got := e.get(paidLost.ID); got.Status != booking.StatusConfirmed {
			t.Fatalf("paid booking: %s, want confirmed once the key is back", got.Status)
		}
		if got := e.get(declined.ID); got.Status != booking.StatusExpired {
			t.Fatalf("declined booking: %s, want expired once the key is back", got.Status)
		}
	})
}

// Without CATALOG_SERVICE_TOKEN no booking is created (nothing stored), and
// the sweeps leave the bookings whose seats they cannot release as they
// are: not expired with the seats still held, and not taken for holding
// none when the catalog was never asked.
func TestWithoutCatalogToken(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		e := newEnv(t, gdb)
		ctx := t.Context()
		unpaid := e.create(1)
		// Rejected while the hold's answer was lost: a hold may exist,
		// and only the catalog can say.
		e.catalog.FailAfter(fakes.On(fakes.Slow, fakes.CallPlaceHold))
		lost, err := e.flow.Create(ctx, booking.Request{DepartureID: e.dep.String(), Seats: 2, Customer: customer})
		if !errors.Is(err, booking.ErrUpstreamTimeout) {
			t.Fatalf("create: %v", err)
		}
		e.catalog.Heal()
		e.clock.Advance(holdTTL)
		tokenless := e.flowWith(peers.Unconfigured{Off: &features.Off{Variable: "CATALOG_SERVICE_TOKEN", Effect: "off"}}, e.payments)

		_, err = tokenless.Create(ctx, booking.Request{DepartureID: e.dep.String(), Seats: 1, Customer: customer})
		var off *features.Off
		if !errors.As(err, &off) || off.Variable != "CATALOG_SERVICE_TOKEN" {
			t.Fatalf("create: %v, want the missing token named", err)
		}
		if page, err := e.store.List(ctx, store.Filter{Limit: 10}); err != nil || len(page.Bookings) != 2 {
			t.Fatalf("%d bookings stored (%v), want only the two earlier ones", len(page.Bookings), err)
		}

		before := []booking.Booking{e.get(unpaid.ID), e.get(lost.ID)}
		sweep(t, tokenless)
		sweep(t, tokenless)
		for _, b := range before {
			if got := e.get(b.ID); !reflect.DeepEqual(got, b) {
				t.Errorf("booking changed without the catalog:\n%+v\nwas\n%+v", got, b)
			}
		}
		if e.catalog.Reserved(e.dep) != 3 {
			t.Fatalf("reserved %d, want 3 until the token is back", e.catalog.Reserved(e.dep))
		}
		sweep(t, e.flow)
		if got := e.get(unpaid.ID); got.Status != booking.StatusExpired || e.catalog.Reserved(e.dep) != 0 {
			t.Fatalf("once the token is back: %s, %d reserved", got.Status, e.catalog.Reserved(e.dep))
		}
	})
}
