// Package api is the tour catalog's HTTP layer: the route table of DESIGN §3,
// request decoding and validation, and the JSON shapes of tours, departures
// and holds. Handlers read like the contract: decode, call the store, encode;
// every error goes through the one mapper in errors.go.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// Store is what the handlers need of the storage layer.
type Store interface {
	CreateTour(ctx context.Context, n catalog.NewTour, now time.Time) (catalog.Tour, error)
	UpdateTour(ctx context.Context, id uuid.UUID, p catalog.TourPatch, now time.Time) (catalog.Tour, error)
	ArchiveTour(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Tour, error)
	GetTour(ctx context.Context, idOrSlug string) (catalog.Tour, error)
	SearchTours(ctx context.Context, q catalog.SearchQuery) ([]catalog.Tour, string, error)
	CreateDeparture(ctx context.Context, tourID uuid.UUID, n catalog.NewDeparture, now time.Time) (catalog.Departure, error)
	GetDeparture(ctx context.Context, id uuid.UUID) (catalog.Departure, error)
	ListDepartures(ctx context.Context, tourID uuid.UUID, page catalog.Page) ([]catalog.Departure, string, error)
	TourDetail(ctx context.Context, idOrSlug string, today catalog.Date) (catalog.Tour, []catalog.Departure, error)
	PlaceHold(ctx context.Context, departureID, bookingID uuid.UUID, seats int, ttl time.Duration, now time.Time) (catalog.Hold, bool, error)
	ConfirmHold(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Hold, error)
	ReleaseHold(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Hold, error)
}

// Tokens are the bearer tokens of the two protected audiences. Empty lists
// leave those routes closed (every call 401), which is the safe default for a
// catalog started with no configuration.
type Tokens struct {
	Admin   []string
	Service []string
}

// Handler serves the catalog's routes.
type Handler struct {
	store  Store
	now    func() time.Time
	errors *problem.Mapper
}

// New returns a handler over store; now is the clock (time.Now in
// production, a fixed clock in tests).
func New(store Store, log *slog.Logger, now func() time.Time) *Handler {
	return &Handler{store: store, now: now, errors: newErrorMapper(log)}
}

// Register adds the routes of DESIGN §3 to r.
func (h *Handler) Register(r gin.IRouter, tokens Tokens) {
	admin := httpserver.RequireBearer(tokens.Admin...)
	service := httpserver.RequireBearer(tokens.Service...)

	v1 := r.Group("/v1")
	v1.GET("/tours", h.searchTours)
	v1.GET("/tours/:tour", h.getTour)
	v1.POST("/tours", admin, h.createTour)
	v1.PATCH("/tours/:tour", admin, h.updateTour)
	v1.DELETE("/tours/:tour", admin, h.archiveTour)
	v1.GET("/tours/:tour/departures", h.listDepartures)
	v1.POST("/tours/:tour/departures", admin, h.createDeparture)
	v1.GET("/departures/:departure", h.getDeparture)
	v1.POST("/departures/:departure/holds", service, h.placeHold)
	v1.POST("/holds/:hold/confirm", service, h.confirmHold)
	v1.POST("/holds/:hold/release", service, h.releaseHold)
}

// pathID parses the UUID in path parameter name; a malformed id cannot name
// anything, so it is a 404 like any unknown id.
func (h *Handler) pathID(c *gin.Context, name, what string) (uuid.UUID, bool) {
	id, err := uuid.Parse(c.Param(name))
	if err != nil {
		problem.Write(c, problem.NotFound("No "+what+" has the id "+quote(c.Param(name))+"."))
		return uuid.Nil, false
	}
	return id, true
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return "\"" + s + "\""
}
