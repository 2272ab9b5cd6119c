package store

import (
	"testing"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// BenchmarkTourDetail is GET /v1/tours/{id}'s read: a tour with three
// upcoming departures, by id.
func BenchmarkTourDetail(b *testing.B) {
	benchStores(b, func(b *testing.B, s *Store, tour catalog.Tour) {
		for _, day := range []string{"2027-06-01", "2027-06-08", "2027-06-15"} {
			if _, err := s.CreateDeparture(b.Context(), tour.ID, catalog.NewDeparture{StartsOn: day, Capacity: 12}, t0); err != nil {
				b.Fatal(err)
			}
		}
		key, today := tour.ID.String(), catalog.Today(t0)
		b.ReportAllocs()
		for b.Loop() {
			if _, deps, err := s.TourDetail(b.Context(), key, today); err != nil || len(deps) != 3 {
				b.Fatalf("%d departures, %v", len(deps), err)
			}
		}
	})
}
