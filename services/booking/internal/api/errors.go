package api

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
)

// Problem codes of booking beyond DESIGN §2's shared ones.
const (
	CodeSeatsUnavailable  = "seats_unavailable"
	CodeDepartureNotFound = "departure_not_found"
	CodeDepartureClosed   = "departure_closed"
	CodeHoldExpired       = "hold_expired"
	CodeNotPayable        = "booking_not_payable"
	CodeCardDeclined      = "card_declined"
	// CodeNotConfigured: the route is switched off because a variable it
	// needs is not set (package features). A 503 like an outage, but a
	// retry does not help until an operator sets the variable the detail
	// names, hence its own code rather than upstream_unavailable or
	// service_unavailable, which both mean "retry shortly".
	CodeNotConfigured = "not_configured"
)

// newErrorMapper is the one place where booking's errors become HTTP
// answers (codes from DESIGN §2 and §4).
func newErrorMapper(log *slog.Logger) *problem.Mapper {
	return problem.NewMapper(log,
		problem.Rule{Err: booking.ErrNotFound, Status: http.StatusNotFound, Code: problem.CodeNotFound, Detail: "No booking has this id."},
		problem.Rule{Err: booking.ErrDepartureNotFound, Status: http.StatusUnprocessableEntity, Code: CodeDepartureNotFound, Detail: "The catalog has no departure with this id."},
		problem.Rule{Err: booking.ErrSeatsUnavailable, Status: http.StatusConflict, Code: CodeSeatsUnavailable, Detail: "Not enough seats are left on this departure."},
		problem.Rule{Err: booking.ErrDepartureClosed, Status: http.StatusConflict, Code: CodeDepartureClosed, Detail: "This departure takes no new bookings."},
		problem.Rule{Err: booking.ErrHoldExpired, Status: http.StatusConflict, Code: CodeHoldExpired, Detail: "The seats are no longer held for this booking; any payment taken was refunded."},
		problem.Rule{Err: booking.ErrNotPayable, Status: http.StatusConflict, Code: CodeNotPayable, Detail: "This booking is not awaiting payment."},
		problem.Rule{Err: booking.ErrNotCancellable, Status: http.StatusConflict, Code: problem.CodeConflict, Detail: "A rejected or expired booking cannot be cancelled."},
		problem.Rule{Err: booking.ErrInvalidTransition, Status: http.StatusConflict, Code: problem.CodeConflict},
		problem.Rule{Err: booking.ErrBusy, Status: http.StatusConflict, Code: problem.CodeConflict, Detail: "The booking is being updated by another request; retry shortly."},
		problem.Rule{Err: booking.ErrStale, Status: http.StatusConflict, Code: problem.CodeConflict, Detail: "The booking changed while this request ran; retry."},
		problem.Rule{Err: booking.ErrCardDeclined, Status: http.StatusPaymentRequired, Code: CodeCardDeclined, Detail: "The card was declined; the booking can still be paid with another card."},
		// DESIGN §2: a slow peer is a 504, still upstream_unavailable.
		problem.Rule{Err: booking.ErrUpstreamTimeout, Status: http.StatusGatewayTimeout, Code: problem.CodeUpstreamUnavailable, Detail: "A service booking depends on did not answer in time; retry shortly."},
		problem.Rule{Err: booking.ErrUpstreamUnavailable, Status: http.StatusServiceUnavailable, Code: problem.CodeUpstreamUnavailable, Detail: "A service booking depends on is unavailable; retry shortly."},
		// fail puts the variable's name in the detail.
		problem.Rule{Err: features.ErrNotConfigured, Status: http.StatusServiceUnavailable, Code: CodeNotConfigured, Detail: "A setting this request needs is not set on the server."},
		db.UnavailableRule(),
	)
}

// fail answers err as a problem. A decline carries the issuer's
// decline_code; a part switched off names the variable to set; a busy
// booking says when to retry; an answer about a booking that exists (one
// rejected while being created) names it.
func (h *Handler) fail(c *gin.Context, err error, b booking.Booking) {
	p := h.errors.Problem(c.Request.Context(), err)
	var declined *booking.DeclineError
	if errors.As(err, &declined) {
		p = p.With("decline_code", declined.DeclineCode)
	}
	var off *features.Off
	if errors.As(err, &off) {
		cp := *p
		cp.Detail = off.Error() + "."
		p = &cp
	}
	if errors.Is(err, booking.ErrBusy) {
		c.Header("Retry-After", "1")
	}
	if b.ID != uuid.Nil && p.Status != http.StatusNotFound && p.Status != http.StatusInternalServerError {
		p = p.With("booking_id", b.ID.String())
	}
	problem.Write(c, p)
}
