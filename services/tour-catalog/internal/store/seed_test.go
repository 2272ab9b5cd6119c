package store

import (
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func TestSeedDemoData(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		n, err := s.SeedDemoData(ctx, t0)
		if err != nil || n != len(demoCatalogue()) {
			t.Fatalf("seeded %d (%v), want %d", n, err, len(demoCatalogue()))
		}
		tours, next, err := s.SearchTours(ctx, catalog.SearchQuery{Limit: 100})
		if err != nil || len(tours) != n || next != "" {
			t.Fatalf("search after seeding: %d tours, next %q, %v", len(tours), next, err)
		}
		today := catalog.Today(t0)
		for _, tour := range tours {
			deps, err := s.UpcomingDepartures(ctx, tour.ID, today)
			if err != nil || len(deps) < 2 || len(deps) > 4 {
				t.Fatalf("%s: %d upcoming departures (%v)", tour.Slug, len(deps), err)
			}
			for _, d := range deps {
				if d.SeatsAvailable() != d.Capacity || d.Price.Currency != tour.Price.Currency {
					t.Fatalf("%s: odd departure %+v", tour.Slug, d)
				}
			}
		}
		if _, err := s.GetTour(ctx, "tour-du-mont-blanc"); err != nil {
			t.Fatalf("expected slug: %v", err)
		}

		// A restart, a month later: nothing added.
		n, err = s.SeedDemoData(ctx, t0.AddDate(0, 1, 0))
		if err != nil || n != 0 {
			t.Fatalf("second seeding created %d (%v)", n, err)
		}
		var count int64
		gdb.Model(&departureModel{}).Count(&count)
		if want := demoDepartureCount(); count != int64(want) {
			t.Fatalf("%d departures after reseeding, want %d", count, want)
		}
	})
}

func TestSeedDemoDataFromTwoReplicasAtOnce(t *testing.T) {
	eachReplicaPair(t, func(t *testing.T, r [2]*Store, gdb *gorm.DB) {
		created := make([]int, 2)
		errs := make([]error, 2)
		race(2, func(i int) {
			created[i], errs[i] = r[i].SeedDemoData(t.Context(), t0.Add(time.Duration(i)*time.Second))
		})
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if created[0]+created[1] != len(demoCatalogue()) {
			t.Fatalf("replicas created %d + %d tours, want %d in all", created[0], created[1], len(demoCatalogue()))
		}
		var tours, deps int64
		gdb.Model(&tourModel{}).Count(&tours)
		gdb.Model(&departureModel{}).Count(&deps)
		if tours != int64(len(demoCatalogue())) || deps != int64(demoDepartureCount()) {
			t.Fatalf("%d tours and %d departures after concurrent seeding", tours, deps)
		}
	})
}

func demoDepartureCount() int {
	n := 0
	for _, d := range demoCatalogue() {
		n += len(d.departures)
	}
	return n
}
