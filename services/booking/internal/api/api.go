// Package api is the booking service's HTTP layer: the route table of
// DESIGN §4, request decoding and validation, the JSON shape of a booking,
// and the gateway's webhook receiver. Handlers read like the contract:
// decode, call the flow, encode; every error goes through the one mapper in
// errors.go.
package api

import (
	"context"
	"log/slog"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// Bookings is what the handlers need of the flow.
type Bookings interface {
	Create(ctx context.Context, r booking.Request) (booking.Booking, error)
	Get(ctx context.Context, id uuid.UUID) (booking.Booking, error)
	List(ctx context.Context, f store.Filter) (store.Page, error)
	Pay(ctx context.Context, id uuid.UUID, card booking.Card) (booking.Booking, error)
	Cancel(ctx context.Context, id uuid.UUID) (booking.Booking, error)
	HandleEvent(ctx context.Context, ev flow.Event) (duplicate bool, err error)
}

// Config is what the routes need besides the flow.
type Config struct {
	// AdminTokens open the admin list; empty keeps it closed (401).
	AdminTokens []string
	// Webhooks verifies the gateway's signatures.
	Webhooks webhook.Verifier
	// Idempotency serves Idempotency-Key on the POSTs that create a booking
	// or a payment.
	Idempotency *idempotency.Middleware
	Log         *slog.Logger
}

// Handler serves the booking routes.
type Handler struct {
	bookings Bookings
	cfg      Config
	log      *slog.Logger
	errors   *problem.Mapper
}

// New returns a handler over bookings.
func New(bookings Bookings, cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{bookings: bookings, cfg: cfg, log: log, errors: newErrorMapper(log)}
}

// Register adds the routes of DESIGN §4 to r.
func (h *Handler) Register(r gin.IRouter) {
	admin := httpserver.RequireBearer(h.cfg.AdminTokens...)
	// The key is optional: a client without one gets no replay, but the
	// flow's own idempotency (one intent per booking) still prevents a
	// double charge.
	idempotent := func(c *gin.Context) { c.Next() }
	if h.cfg.Idempotency != nil {
		idempotent = h.cfg.Idempotency.Handler(idempotency.Optional)
	}

	v1 := r.Group("/v1")
	v1.POST("/bookings", idempotent, h.create)
	v1.GET("/bookings", admin, h.list)
	v1.GET("/bookings/:booking", h.get)
	v1.POST("/bookings/:booking/payments", idempotent, h.pay)
	v1.POST("/bookings/:booking/cancel", h.cancel)
	v1.POST("/webhooks/payments", h.paymentWebhook)
}

// pathID parses the booking id of the path; a malformed id cannot name a
// booking, so it is a 404 like any unknown id.
func (h *Handler) pathID(c *gin.Context) (uuid.UUID, bool) {
	raw := c.Param("booking")
	id, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		problem.Write(c, problem.NotFound("No booking has this id."))
		return uuid.Nil, false
	}
	return id, true
}
