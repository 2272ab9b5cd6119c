package store

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func TestCreateAndGetDeparture(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Dolomites"))

		plain := mustDeparture(t, s, tour.ID, "2027-06-01", 16)
		if plain.Price != tour.Price || plain.PriceOverride != nil || plain.SeatsAvailable() != 16 ||
			plain.StartsOn != catalog.NewDate(2027, time.June, 1) || plain.TourID != tour.ID {
			t.Fatalf("departure without override: %+v", plain)
		}
		override := catalog.Money{Amount: 90000, Currency: "EUR"}
		cheap, err := s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{StartsOn: "2027-06-08", Capacity: 8, Price: &override}, t0)
		if err != nil {
			t.Fatal(err)
		}
		if cheap.Price != override || cheap.PriceOverride == nil || *cheap.PriceOverride != override {
			t.Fatalf("departure with override: %+v", cheap)
		}
		for _, want := range []catalog.Departure{plain, cheap} {
			got, err := s.GetDeparture(ctx, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID != want.ID || got.Price != want.Price || got.StartsOn != want.StartsOn ||
				got.Capacity != want.Capacity || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Fatalf("read back %+v, want %+v", got, want)
			}
		}
		// Without an override, the effective price follows the tour's.
		newPrice := catalog.Money{Amount: 120000, Currency: "EUR"}
		if _, err := s.UpdateTour(ctx, tour.ID, catalog.TourPatch{Price: &newPrice}, t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetDeparture(ctx, plain.ID); got.Price != newPrice {
			t.Fatalf("price after tour change = %v", got.Price)
		}

		_, err = s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{StartsOn: "2027-03-14", Capacity: 8}, t0)
		wantInvalid(t, err, "starts_on")
		_, err = s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{StartsOn: "2027-06-01", Capacity: 8,
			Price: &catalog.Money{Amount: 1000, Currency: "USD"}}, t0)
		wantInvalid(t, err, "price.currency")
		_, err = s.CreateDeparture(ctx, uuid.New(), catalog.NewDeparture{StartsOn: "2027-06-01", Capacity: 8}, t0)
		wantErr(t, err, catalog.ErrNotFound)
		_, err = s.GetDeparture(ctx, uuid.New())
		wantErr(t, err, catalog.ErrNotFound)
	})
}

func TestListAndUpcomingDepartures(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Lisbon"))
		other := mustTour(t, s, newTourInput("Porto"))
		mustDeparture(t, s, other.ID, "2027-06-01", 5)

		// A departure scheduled long ago, now in the past.
		past, err := s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{StartsOn: "2027-01-10", Capacity: 5}, t0.AddDate(0, -6, 0))
		if err != nil {
			t.Fatal(err)
		}
		var want []uuid.UUID
		want = append(want, past.ID)
		// Two on one day: the id orders them.
		for _, day := range []string{"2027-03-15", "2027-05-01", "2027-05-01", "2027-09-30"} {
			want = append(want, mustDeparture(t, s, tour.ID, day, 5).ID)
		}
		if want[2].String() > want[3].String() {
			want[2], want[3] = want[3], want[2]
		}

		for _, limit := range []int{1, 2, 5, 10} {
			var got []uuid.UUID
			page := catalog.Page{Limit: limit}
			for range 10 {
				deps, next, err := s.ListDepartures(ctx, tour.ID, page)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range deps {
					got = append(got, d.ID)
				}
				if next == "" {
					break
				}
				page.Cursor = next
			}
			if len(got) != len(want) {
				t.Fatalf("limit %d: %d departures, want %d", limit, len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("limit %d: order %v, want %v", limit, got, want)
				}
			}
		}
		_, _, err = s.ListDepartures(ctx, uuid.New(), catalog.Page{})
		wantErr(t, err, catalog.ErrNotFound)
		_, _, err = s.ListDepartures(ctx, tour.ID, catalog.Page{Cursor: "garbage"})
		wantInvalid(t, err, "cursor")

		// Upcoming: today (t0 is 2027-03-15) onwards, soonest first.
		up, err := s.UpcomingDepartures(ctx, tour.ID, catalog.Today(t0))
		if err != nil {
			t.Fatal(err)
		}
		if len(up) != 4 || up[0].ID != want[1] || up[3].ID != want[4] {
			t.Fatalf("upcoming = %+v", up)
		}
		if up, _ := s.UpcomingDepartures(ctx, uuid.New(), catalog.Today(t0)); len(up) != 0 {
			t.Fatalf("upcoming of no tour = %v", up)
		}
	})
}

func TestUpdateDeparture(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Iceland"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 10)
		mustHold(t, s, dep.ID, 4, time.Hour)
		later := t0.Add(time.Hour)

		four, three, twenty := 4, 3, 20
		got, err := s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Capacity: &four}, later)
		if err != nil || got.Capacity != 4 || got.SeatsAvailable() != 0 || !got.UpdatedAt.Equal(later) {
			t.Fatalf("capacity down to reserved: %+v %v", got, err)
		}
		_, err = s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Capacity: &three}, later)
		wantErr(t, err, catalog.ErrCapacityBelowReserved)
		price := catalog.Money{Amount: 5000, Currency: "EUR"}
		got, err = s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Capacity: &twenty, Price: &price}, later)
		if err != nil || got.Capacity != 20 || got.Price != price {
			t.Fatalf("capacity up and price: %+v %v", got, err)
		}
		// A hold placed now gets the new price; the earlier one kept its own.
		h := mustHold(t, s, dep.ID, 1, time.Hour)
		if h.UnitPrice != price {
			t.Fatalf("unit price = %v", h.UnitPrice)
		}

		_, err = s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Price: &catalog.Money{Amount: 5000, Currency: "GBP"}}, later)
		wantInvalid(t, err, "price.currency")
		zero := 0
		_, err = s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Capacity: &zero}, later)
		wantInvalid(t, err, "capacity")
		_, err = s.UpdateDeparture(ctx, uuid.New(), catalog.DeparturePatch{Capacity: &twenty}, later)
		wantErr(t, err, catalog.ErrNotFound)
		assertSeatsInvariant(t, gdb, dep.ID)
	})
}
