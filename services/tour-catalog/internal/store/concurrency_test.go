package store

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// eachReplicaPair runs fn once per backend with two stores on two separate
// pools of one migrated database: two replicas of the service.
func eachReplicaPair(t *testing.T, fn func(t *testing.T, replicas [2]*Store, gdb *gorm.DB)) {
	t.Helper()
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			cfg := dbtest.Config(t, b)
			g1, g2 := dbtest.OpenConfig(t, cfg), dbtest.OpenConfig(t, cfg)
			if err := Migrate(t.Context(), g1); err != nil {
				t.Fatal(err)
			}
			fn(t, [2]*Store{New(g1), New(g2)}, g1)
		})
	}
}

// race runs n calls of fn at once, released together, and waits for all.
func race(n int, fn func(i int)) {
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			fn(i)
		})
	}
	start.Done()
	done.Wait()
}

func TestConcurrentHoldsNeverOverbook(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		tour := mustTour(t, r[0], newTourInput("Iceland"))
		dep := mustDeparture(t, r[0], tour.ID, "2027-06-01", 10)

		const n = 100
		errs := make([]error, n)
		race(n, func(i int) {
			_, _, errs[i] = r[i%2].PlaceHold(t.Context(), dep.ID, uuid.New(), 1, time.Hour, t0)
		})
		ok, full := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case errors.Is(err, catalog.ErrSeatsUnavailable):
				full++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		if ok != 10 || full != 90 {
			t.Fatalf("%d holds placed and %d refused, want 10 and 90", ok, full)
		}
		if got := assertSeatsInvariant(t, gdb, dep.ID); got != 10 {
			t.Fatalf("seats reserved = %d, want 10", got)
		}
	})
}

func TestConcurrentReplaysOfOneBooking(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		tour := mustTour(t, r[0], newTourInput("Lisbon"))
		// Capacity 2 and 2 seats: a replay that lost the race must still
		// find the winner's hold, not report the departure full.
		for _, capacity := range []int{2, 50} {
			dep := mustDeparture(t, r[0], tour.ID, "2027-06-01", capacity)
			booking := uuid.New()
			const n = 20
			holds := make([]catalog.Hold, n)
			created := make([]bool, n)
			errs := make([]error, n)
			race(n, func(i int) {
				holds[i], created[i], errs[i] = r[i%2].PlaceHold(t.Context(), dep.ID, booking, 2, time.Hour, t0)
			})
			creators := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("capacity %d, replay %d: %v", capacity, i, errs[i])
				}
				if created[i] {
					creators++
				}
				if holds[i].ID != holds[0].ID {
					t.Fatalf("capacity %d: two holds for one booking: %s and %s", capacity, holds[0].ID, holds[i].ID)
				}
			}
			if creators != 1 {
				t.Fatalf("capacity %d: %d calls report creating the hold, want 1", capacity, creators)
			}
			if got := assertSeatsInvariant(t, gdb, dep.ID); got != 2 {
				t.Fatalf("capacity %d: seats reserved = %d, want 2", capacity, got)
			}
		}
	})
}

func TestConcurrentReleasesGiveSeatsBackOnce(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		tour := mustTour(t, r[0], newTourInput("Dolomites"))
		dep := mustDeparture(t, r[0], tour.ID, "2027-06-01", 10)
		keep := mustHold(t, r[0], dep.ID, 3, time.Hour)
		h := mustHold(t, r[0], dep.ID, 4, time.Hour)
		confirmed := mustHold(t, r[0], dep.ID, 2, time.Hour)
		if _, err := r[0].ConfirmHold(t.Context(), confirmed.ID, t0); err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		race(n, func(i int) {
			target := h.ID
			if i%2 == 1 {
				target = confirmed.ID
			}
			_, errs[i] = r[i%2].ReleaseHold(t.Context(), target, t0)
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := assertSeatsInvariant(t, gdb, dep.ID); got != keep.Seats {
			t.Fatalf("seats reserved = %d, want %d", got, keep.Seats)
		}
	})
}

func TestConcurrentSweepersReleaseEachHoldOnce(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, r[0], newTourInput("Provence"))
		deps := []catalog.Departure{
			mustDeparture(t, r[0], tour.ID, "2027-06-01", 100),
			mustDeparture(t, r[0], tour.ID, "2027-07-01", 100),
			mustDeparture(t, r[0], tour.ID, "2027-08-01", 100),
		}
		const holds = 60
		for i := range holds {
			mustHold(t, r[0], deps[i%3].ID, 1+i%3, time.Minute)
		}
		after := t0.Add(time.Minute)

		// Two replicas, each sweeping in small batches until it finds
		// nothing, at the same time.
		totals := make([]int, 2)
		errs := make([]error, 2)
		race(2, func(i int) {
			for {
				n, err := r[i].ReleaseExpired(ctx, after, 7)
				totals[i] += n
				if err != nil || n == 0 {
					errs[i] = err
					return
				}
			}
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if totals[0]+totals[1] != holds {
			t.Fatalf("released %d + %d, want %d in all", totals[0], totals[1], holds)
		}
		for _, d := range deps {
			if got := assertSeatsInvariant(t, gdb, d.ID); got != 0 {
				t.Fatalf("departure still reserves %d", got)
			}
		}
	})
}

func TestConfirmRacingTheSweeper(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, r[0], newTourInput("Brittany"))
		dep := mustDeparture(t, r[0], tour.ID, "2027-06-01", 100)
		var ids []uuid.UUID
		for range 20 {
			ids = append(ids, mustHold(t, r[0], dep.ID, 2, time.Minute).ID)
		}
		expiry := t0.Add(time.Minute)

		// Each confirm comes in just before expiry by its own clock while
		// a sweeper on the other replica, whose clock is just past it,
		// releases what it can. Every hold must end in exactly one state.
		confirmErrs := make([]error, len(ids))
		race(len(ids)+1, func(i int) {
			if i == len(ids) {
				_, _ = r[1].ReleaseExpired(ctx, expiry, 0)
				return
			}
			_, confirmErrs[i] = r[0].ConfirmHold(ctx, ids[i], expiry.Add(-time.Microsecond))
		})
		confirmed := 0
		for i, id := range ids {
			h, err := r[0].GetHold(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case confirmErrs[i] == nil && h.Status == catalog.HoldConfirmed:
				confirmed++
			case errors.Is(confirmErrs[i], catalog.ErrHoldExpired) && h.Status == catalog.HoldReleased:
			default:
				t.Fatalf("hold %d: confirm said %v, status %s", i, confirmErrs[i], h.Status)
			}
		}
		if got := assertSeatsInvariant(t, gdb, dep.ID); got != 2*confirmed {
			t.Fatalf("seats reserved = %d for %d confirmed holds", got, confirmed)
		}
	})
}
