package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func benchTours(n int) []catalog.Tour {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tours := make([]catalog.Tour, n)
	for i := range tours {
		tours[i] = catalog.Tour{
			ID: uuid.MustParse(fmt.Sprintf("0192f0a1-b2c3-7d4e-8f6a-%012d", i)), Slug: fmt.Sprintf("chamonix-trek-%d", i),
			Title: fmt.Sprintf("Chamonix trek %d", i), Summary: "A week of walking with a guide, nights in mountain huts.",
			Description: "Day by day: arrival, acclimatisation walk, three stages on marked trails, a rest day, the summit day and the way back down.",
			Destination: "Chamonix", DurationDays: 7, Difficulty: catalog.DifficultyModerate,
			Price: catalog.Money{Amount: 99000, Currency: "EUR"}, MaxGroupSize: 12, CreatedAt: created, UpdatedAt: created,
		}
	}
	return tours
}

// BenchmarkEncodeTourList is the search answer's encoding: domain tours to
// their JSON shape and through gin's JSON render, for a default page (20)
// and a full one (100).
func BenchmarkEncodeTourList(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	for _, n := range []int{20, 100} {
		b.Run(fmt.Sprintf("tours=%d", n), func(b *testing.B) {
			tours := benchTours(n)
			req := httptest.NewRequest(http.MethodGet, "/v1/tours", nil)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				c, _ := gin.CreateTestContext(w)
				c.Request = req
				out := make([]tourJSON, len(tours))
				for i, t := range tours {
					out[i] = toTourJSON(t)
				}
				c.JSON(http.StatusOK, newList(out, "opaque-cursor"))
				if w.Code != http.StatusOK {
					b.Fatal(w.Code)
				}
			}
		})
	}
}

// BenchmarkEncodeTourDetail is GET /v1/tours/{id}'s encoding: one tour
// with its upcoming departures.
func BenchmarkEncodeTourDetail(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	tour := benchTours(1)[0]
	deps := make([]catalog.Departure, 3)
	for i := range deps {
		deps[i] = catalog.Departure{ID: uuid.New(), TourID: tour.ID, StartsOn: catalog.NewDate(2027, time.June, 1+i),
			Capacity: 12, SeatsReserved: i, Price: tour.Price, CreatedAt: tour.CreatedAt, UpdatedAt: tour.UpdatedAt}
	}
	req := httptest.NewRequest(http.MethodGet, "/v1/tours/x", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = req
		detail := tourDetailJSON{tourJSON: toTourJSON(tour), Departures: make([]departureJSON, len(deps))}
		for i, d := range deps {
			detail.Departures[i] = toDepartureJSON(d)
		}
		c.JSON(http.StatusOK, detail)
	}
}
