package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func TestPlaceHold(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Mont Blanc"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 10)
		booking := uuid.New()

		h, created, err := s.PlaceHold(ctx, dep.ID, booking, 3, 15*time.Minute, t0)
		if err != nil || !created {
			t.Fatalf("place: %v created=%v", err, created)
		}
		if h.DepartureID != dep.ID || h.BookingID != booking || h.Seats != 3 || h.Status != catalog.HoldHeld ||
			h.UnitPrice != tour.Price || !h.ExpiresAt.Equal(t0.Add(15*time.Minute)) || h.ReleaseReason != "" {
			t.Fatalf("hold = %+v", h)
		}
		if got, err := s.GetHold(ctx, h.ID); err != nil || got != h {
			t.Fatalf("get hold: %+v %v", got, err)
		}

		// Replay: the same hold, no new seats, even with another TTL.
		again, created, err := s.PlaceHold(ctx, dep.ID, booking, 3, time.Hour, t0.Add(time.Minute))
		if err != nil || created || again != h {
			t.Fatalf("replay: %+v created=%v err=%v", again, created, err)
		}
		if n := assertSeatsInvariant(t, gdb, dep.ID); n != 3 {
			t.Fatalf("seats reserved = %d after a replay", n)
		}

		// The same booking asking for something else is a conflict.
		other := mustDeparture(t, s, tour.ID, "2027-07-01", 10)
		_, _, err = s.PlaceHold(ctx, dep.ID, booking, 4, time.Hour, t0)
		wantErr(t, err, catalog.ErrBookingMismatch)
		_, _, err = s.PlaceHold(ctx, other.ID, booking, 3, time.Hour, t0)
		wantErr(t, err, catalog.ErrBookingMismatch)
		assertSeatsInvariant(t, gdb, other.ID)

		// Not enough seats: 7 left.
		_, _, err = s.PlaceHold(ctx, dep.ID, uuid.New(), 8, time.Hour, t0)
		wantErr(t, err, catalog.ErrSeatsUnavailable)
		mustHold(t, s, dep.ID, 7, time.Hour)
		_, _, err = s.PlaceHold(ctx, dep.ID, uuid.New(), 1, time.Hour, t0)
		wantErr(t, err, catalog.ErrSeatsUnavailable)
		// A replay of an existing booking still answers when full.
		if _, created, err := s.PlaceHold(ctx, dep.ID, booking, 3, time.Hour, t0); err != nil || created {
			t.Fatalf("replay on a full departure: created=%v err=%v", created, err)
		}

		_, _, err = s.PlaceHold(ctx, uuid.New(), uuid.New(), 1, time.Hour, t0)
		wantErr(t, err, catalog.ErrNotFound)
		// The departure starts on 2027-06-01: closed from the day after.
		_, _, err = s.PlaceHold(ctx, other.ID, uuid.New(), 1, time.Hour, time.Date(2027, 7, 2, 0, 0, 0, 0, time.UTC))
		wantErr(t, err, catalog.ErrDepartureClosed)
		if _, _, err := s.PlaceHold(ctx, other.ID, uuid.New(), 1, time.Hour, time.Date(2027, 7, 1, 23, 0, 0, 0, time.UTC)); err != nil {
			t.Fatalf("hold on the day of departure: %v", err)
		}

		for _, tc := range []struct {
			seats   int
			ttl     time.Duration
			booking uuid.UUID
			field   string
		}{
			{0, time.Hour, uuid.New(), "seats"},
			{21, time.Hour, uuid.New(), "seats"},
			{1, 29 * time.Second, uuid.New(), "ttl_seconds"},
			{1, time.Hour + time.Second, uuid.New(), "ttl_seconds"},
			{1, time.Hour, uuid.Nil, "booking_id"},
		} {
			_, _, err := s.PlaceHold(ctx, dep.ID, tc.booking, tc.seats, tc.ttl, t0)
			wantInvalid(t, err, tc.field)
		}
		assertSeatsInvariant(t, gdb, dep.ID)
		assertSeatsInvariant(t, gdb, other.ID)
	})
}

func TestPlaceHoldUsesTheEffectivePrice(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		tour := mustTour(t, s, newTourInput("Lisbon"))
		price := catalog.Money{Amount: 59000, Currency: "EUR"}
		dep, err := s.CreateDeparture(t.Context(), tour.ID, catalog.NewDeparture{StartsOn: "2027-06-01", Capacity: 4, Price: &price}, t0)
		if err != nil {
			t.Fatal(err)
		}
		h := mustHold(t, s, dep.ID, 2, time.Hour)
		if h.UnitPrice != price || h.Total() != (catalog.Money{Amount: 118000, Currency: "EUR"}) {
			t.Fatalf("unit price %v total %v", h.UnitPrice, h.Total())
		}
	})
}

func TestConfirmHold(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Provence"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 20)
		ttl := 10 * time.Minute
		expiry := t0.Add(ttl)

		// Held and unexpired, up to the last microsecond.
		h := mustHold(t, s, dep.ID, 2, ttl)
		got, err := s.ConfirmHold(ctx, h.ID, expiry.Add(-time.Microsecond))
		if err != nil || got.Status != catalog.HoldConfirmed || !got.UpdatedAt.Equal(expiry.Add(-time.Microsecond)) {
			t.Fatalf("confirm: %+v %v", got, err)
		}
		// Again, even long after expiry: the same confirmed hold.
		again, err := s.ConfirmHold(ctx, h.ID, expiry.Add(time.Hour))
		if err != nil || again != got {
			t.Fatalf("confirm again: %+v %v", again, err)
		}

		// Expired (at ExpiresAt exactly) and never swept: refused, and
		// its seats go back at once.
		late := mustHold(t, s, dep.ID, 3, ttl)
		_, err = s.ConfirmHold(ctx, late.ID, expiry)
		wantErr(t, err, catalog.ErrHoldExpired)
		if got, _ := s.GetHold(ctx, late.ID); got.Status != catalog.HoldReleased || got.ReleaseReason != catalog.ReleasedOnExpiry {
			t.Fatalf("expired hold after confirm: %+v", got)
		}
		_, err = s.ConfirmHold(ctx, late.ID, expiry)
		wantErr(t, err, catalog.ErrHoldExpired)

		// Released by request: hold_released, also after its expiry.
		gone := mustHold(t, s, dep.ID, 1, ttl)
		if _, err := s.ReleaseHold(ctx, gone.ID, t0); err != nil {
			t.Fatal(err)
		}
		_, err = s.ConfirmHold(ctx, gone.ID, t0)
		wantErr(t, err, catalog.ErrHoldReleased)
		_, err = s.ConfirmHold(ctx, gone.ID, expiry.Add(time.Hour))
		wantErr(t, err, catalog.ErrHoldReleased)

		// Swept by the sweeper: hold_expired.
		swept := mustHold(t, s, dep.ID, 1, ttl)
		if n, err := s.ReleaseExpired(ctx, expiry, 0); err != nil || n != 1 {
			t.Fatalf("sweep: %d %v", n, err)
		}
		_, err = s.ConfirmHold(ctx, swept.ID, expiry)
		wantErr(t, err, catalog.ErrHoldExpired)

		_, err = s.ConfirmHold(ctx, uuid.New(), t0)
		wantErr(t, err, catalog.ErrNotFound)
		if n := assertSeatsInvariant(t, gdb, dep.ID); n != 2 {
			t.Fatalf("seats reserved = %d, want the confirmed 2", n)
		}
	})
}

func TestReleaseHold(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Brittany"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 10)
		held := mustHold(t, s, dep.ID, 2, time.Hour)
		confirmed := mustHold(t, s, dep.ID, 3, time.Hour)
		if _, err := s.ConfirmHold(ctx, confirmed.ID, t0); err != nil {
			t.Fatal(err)
		}
		if n := assertSeatsInvariant(t, gdb, dep.ID); n != 5 {
			t.Fatalf("reserved = %d", n)
		}

		at := t0.Add(time.Minute)
		for _, h := range []catalog.Hold{held, confirmed} {
			got, err := s.ReleaseHold(ctx, h.ID, at)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != catalog.HoldReleased || got.ReleaseReason != catalog.ReleasedByRequest ||
				got.ReleasedAt == nil || !got.ReleasedAt.Equal(at) {
				t.Fatalf("released: %+v", got)
			}
			// Repeating it changes nothing and gives nothing back.
			again, err := s.ReleaseHold(ctx, h.ID, at.Add(time.Hour))
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("release again: %+v %v", again, err)
			}
		}
		if n := assertSeatsInvariant(t, gdb, dep.ID); n != 0 {
			t.Fatalf("reserved = %d after releasing everything", n)
		}
		_, err := s.ReleaseHold(ctx, uuid.New(), at)
		wantErr(t, err, catalog.ErrNotFound)
	})
}

func TestReleaseExpired(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Corsica"))
		a := mustDeparture(t, s, tour.ID, "2027-06-01", 20)
		b := mustDeparture(t, s, tour.ID, "2027-07-01", 20)

		short, long := time.Minute, time.Hour
		var expiring []catalog.Hold
		for _, dep := range []catalog.Departure{a, b, a, b, a} {
			expiring = append(expiring, mustHold(t, s, dep.ID, 2, short))
		}
		alive := mustHold(t, s, a.ID, 1, long)
		confirmed := mustHold(t, s, b.ID, 4, short)
		if _, err := s.ConfirmHold(ctx, confirmed.ID, t0); err != nil {
			t.Fatal(err)
		}
		released := mustHold(t, s, a.ID, 1, short)
		if _, err := s.ReleaseHold(ctx, released.ID, t0); err != nil {
			t.Fatal(err)
		}

		// Before expiry: nothing to do.
		if n, err := s.ReleaseExpired(ctx, t0.Add(short-time.Microsecond), 0); err != nil || n != 0 {
			t.Fatalf("early sweep released %d (%v)", n, err)
		}
		// In batches of 2: 2, 2, 1, then nothing.
		now := t0.Add(short)
		for i, want := range []int{2, 2, 1, 0} {
			n, err := s.ReleaseExpired(ctx, now, 2)
			if err != nil || n != want {
				t.Fatalf("sweep %d: released %d (%v), want %d", i, n, err, want)
			}
		}
		for _, h := range expiring {
			got, _ := s.GetHold(ctx, h.ID)
			if got.Status != catalog.HoldReleased || got.ReleaseReason != catalog.ReleasedOnExpiry {
				t.Fatalf("expired hold not released: %+v", got)
			}
		}
		for id, want := range map[uuid.UUID]catalog.HoldStatus{alive.ID: catalog.HoldHeld, confirmed.ID: catalog.HoldConfirmed} {
			if got, _ := s.GetHold(ctx, id); got.Status != want {
				t.Fatalf("hold %s is %s, want %s", id, got.Status, want)
			}
		}
		if n := assertSeatsInvariant(t, gdb, a.ID); n != 1 {
			t.Fatalf("departure a reserves %d, want 1", n)
		}
		if n := assertSeatsInvariant(t, gdb, b.ID); n != 4 {
			t.Fatalf("departure b reserves %d, want 4", n)
		}
	})
}
