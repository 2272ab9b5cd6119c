package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// benchStores runs fn once per backend on a migrated store with one tour.
func benchStores(b *testing.B, fn func(b *testing.B, s *Store, tour catalog.Tour)) {
	for _, backend := range dbtest.Backends(b) {
		b.Run("db="+string(backend), func(b *testing.B) {
			gdb := dbtest.Open(b, backend)
			if err := Migrate(b.Context(), gdb); err != nil {
				b.Fatal(err)
			}
			s := New(gdb)
			tour, err := s.CreateTour(b.Context(), newTourInput("Benchmark"), t0)
			if err != nil {
				b.Fatal(err)
			}
			fn(b, s, tour)
		})
	}
}

// departures hands out departures with a free seat, making a new one (off
// the clock) when the current one is full.
type departures struct {
	s    *Store
	tour uuid.UUID
	cur  uuid.UUID
	left int
	n    int
}

func (d *departures) next(b *testing.B) uuid.UUID { return d.nextTimed(b, true) }

// nextTimed is next; timed says whether the caller's timer is running, so
// that a caller that stopped it does not find it started again.
func (d *departures) nextTimed(b *testing.B, timed bool) uuid.UUID {
	if d.left == 0 {
		b.StopTimer()
		dep, err := d.s.CreateDeparture(b.Context(), d.tour, catalog.NewDeparture{
			StartsOn: catalog.Today(t0).AddDays(30 + d.n).String(), Capacity: catalog.MaxCapacity}, t0)
		if err != nil {
			b.Fatal(err)
		}
		d.cur, d.left = dep.ID, catalog.MaxCapacity
		d.n++
		if timed {
			b.StartTimer()
		}
	}
	d.left--
	return d.cur
}

// BenchmarkPlaceHold is the hold's conditional update: one seat of a new
// booking, in the transaction that checks the booking, takes the seat,
// reads the price and inserts the hold.
func BenchmarkPlaceHold(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store, tour catalog.Tour) {
		deps := &departures{s: s, tour: tour.ID}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, created, err := s.PlaceHold(b.Context(), deps.next(b), uuid.New(), 1, time.Hour, t0); err != nil || !created {
				b.Fatalf("place hold: created=%v %v", created, err)
			}
		}
	})
}

// BenchmarkPlaceHoldReplay is a retried hold request: the booking's hold
// exists and is returned.
func BenchmarkPlaceHoldReplay(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store, tour catalog.Tour) {
		dep := (&departures{s: s, tour: tour.ID}).next(b)
		booking := uuid.New()
		if _, _, err := s.PlaceHold(b.Context(), dep, booking, 1, time.Hour, t0); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, created, err := s.PlaceHold(b.Context(), dep, booking, 1, time.Hour, t0); err != nil || created {
				b.Fatalf("replay: created=%v %v", created, err)
			}
		}
	})
}

// BenchmarkConfirmHold is the second conditional update of a booking: held
// and unexpired to confirmed.
func BenchmarkConfirmHold(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store, tour catalog.Tour) {
		deps := &departures{s: s, tour: tour.ID}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			h, _, err := s.PlaceHold(b.Context(), deps.nextTimed(b, false), uuid.New(), 1, time.Hour, t0)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if _, err := s.ConfirmHold(b.Context(), h.ID, t0); err != nil {
				b.Fatal(fmt.Errorf("confirm: %w", err))
			}
		}
	})
}
