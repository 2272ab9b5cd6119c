package store

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// TourDetail answers what GetTour and UpcomingDepartures answer together.
func TestTourDetailMatchesGetTourAndUpcoming(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		today := catalog.Today(t0)
		withDeps := mustTour(t, s, newTourInput("Lisbon"))
		// One in the past, two today or later, one with a price override.
		if _, err := s.CreateDeparture(ctx, withDeps.ID, catalog.NewDeparture{StartsOn: "2027-03-10", Capacity: 5}, t0.AddDate(0, -1, 0)); err != nil {
			t.Fatal(err)
		}
		mustDeparture(t, s, withDeps.ID, "2027-06-01", 8)
		override := catalog.Money{Amount: 5000, Currency: "EUR"}
		if _, err := s.CreateDeparture(ctx, withDeps.ID, catalog.NewDeparture{StartsOn: "2027-05-01", Capacity: 4, Price: &override}, t0); err != nil {
			t.Fatal(err)
		}
		mustHold(t, s, mustDeparture(t, s, withDeps.ID, "2027-03-15", 3).ID, 2, time.Hour)
		bare := mustTour(t, s, newTourInput("Porto"))

		for _, tour := range []catalog.Tour{withDeps, bare} {
			wantTour, err := s.GetTour(ctx, tour.ID.String())
			if err != nil {
				t.Fatal(err)
			}
			wantDeps, err := s.UpcomingDepartures(ctx, tour.ID, today)
			if err != nil {
				t.Fatal(err)
			}
			for _, key := range []string{tour.ID.String(), tour.Slug} {
				got, deps, err := s.TourDetail(ctx, key, today)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if got != wantTour {
					t.Fatalf("%s: tour %+v, want %+v", key, got, wantTour)
				}
				if len(deps) != len(wantDeps) {
					t.Fatalf("%s: %d departures, want %d", key, len(deps), len(wantDeps))
				}
				for i := range deps {
					g, w := deps[i], wantDeps[i]
					if g.ID != w.ID || g.StartsOn != w.StartsOn || g.Price != w.Price || g.SeatsReserved != w.SeatsReserved ||
						g.Capacity != w.Capacity || !g.CreatedAt.Equal(w.CreatedAt) || (g.PriceOverride == nil) != (w.PriceOverride == nil) {
						t.Fatalf("%s: departure %d is %+v, want %+v", key, i, g, w)
					}
				}
			}
		}
		if len(mustDetailDeps(t, s, withDeps.ID.String(), today)) != 3 {
			t.Fatal("want the three departures from today on")
		}
		for _, key := range []string{uuid.NewString(), "no-such-slug", "", "bad\xffutf8"} {
			_, _, err := s.TourDetail(ctx, key, today)
			wantErr(t, err, catalog.ErrNotFound)
		}
	})
}

func mustDetailDeps(t *testing.T, s *Store, key string, today catalog.Date) []catalog.Departure {
	t.Helper()
	_, deps, err := s.TourDetail(t.Context(), key, today)
	if err != nil {
		t.Fatal(err)
	}
	return deps
}
