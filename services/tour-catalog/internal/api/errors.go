package api

import (
	"log/slog"
	"net/http"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// newErrorMapper is the one place where the catalog's domain errors become
// HTTP answers (codes from DESIGN §2 and §3).
func newErrorMapper(log *slog.Logger) *problem.Mapper {
	return problem.NewMapper(log,
		problem.Rule{Err: catalog.ErrNotFound, Status: http.StatusNotFound, Code: problem.CodeNotFound, Detail: "No such tour, departure or hold."},
		problem.Rule{Err: catalog.ErrSlugTaken, Status: http.StatusConflict, Code: "slug_taken", Detail: "Another tour already uses this slug."},
		problem.Rule{Err: catalog.ErrTourArchived, Status: http.StatusConflict, Code: "tour_archived", Detail: "The tour is archived."},
		problem.Rule{Err: catalog.ErrDepartureClosed, Status: http.StatusConflict, Code: "departure_closed", Detail: "The departure has already started."},
		problem.Rule{Err: catalog.ErrSeatsUnavailable, Status: http.StatusConflict, Code: "seats_unavailable", Detail: "Not enough seats are left on this departure."},
		problem.Rule{Err: catalog.ErrCapacityBelowReserved, Status: http.StatusConflict, Code: "capacity_below_reserved", Detail: "The capacity cannot go below the seats already reserved."},
		problem.Rule{Err: catalog.ErrHoldExpired, Status: http.StatusConflict, Code: "hold_expired", Detail: "The hold has expired."},
		problem.Rule{Err: catalog.ErrHoldReleased, Status: http.StatusConflict, Code: "hold_released", Detail: "The hold was released."},
		problem.Rule{Err: catalog.ErrBookingMismatch, Status: http.StatusConflict, Code: problem.CodeConflict, Detail: "This booking already holds different seats."},
		db.UnavailableRule(),
	)
}
