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
	"github.com/tourism-go/tourism/services/booking/internal/features"
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
	// Features switches routes off: one whose part is off answers 503
	// not_configured before anything else runs (no idempotency record, no
	// read of the body, no peer call).
	Features features.Set
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

	on := h.cfg.Features
	v1 := r.Group("/v1")
	v1.POST("/bookings", h.needs(on.Catalog), idempotent, h.create)
	v1.GET("/bookings", h.needs(on.AdminList), admin, h.list)
	v1.GET("/bookings/:booking", h.get)
	// Paying needs the catalog too: a charge whose seats cannot be
	// confirmed would wait for its refund until the token is set.
	v1.POST("/bookings/:booking/payments", h.needs(on.Payments, on.Catalog), idempotent, h.pay)
	// Cancel is left on: the flow does what it can without the peer that
	// is off, records the request, and answers not_configured if it must.
	v1.POST("/bookings/:booking/cancel", h.cancel)
	v1.POST("/webhooks/payments", h.needs(on.Webhooks), h.paymentWebhook)
}

// needs switches a route off while any of parts is off: it answers 503
// not_configured naming the first missing variable. Without a webhook
// secret that is a 503 rather than the 401 of a bad signature: nothing was
// forged, the receiver is not set up.
func (h *Handler) needs(parts ...*features.Off) gin.HandlerFunc {
	for _, off := range parts {
		if off != nil {
			return func(c *gin.Context) { h.fail(c, off, booking.Booking{}) }
		}
	}
	return func(c *gin.Context) { c.Next() }
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
