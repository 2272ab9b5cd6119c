package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func (h *Handler) searchTours(c *gin.Context) {
	q, err := catalog.ParseSearch(c.Request.URL.Query())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	tours, next, err := h.store.SearchTours(c.Request.Context(), q)
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	out := make([]tourJSON, len(tours))
	for i, t := range tours {
		out[i] = toTourJSON(t)
	}
	c.JSON(http.StatusOK, newList(out, next))
}

func (h *Handler) getTour(c *gin.Context) {
	// One statement for the tour and its departures: this is the
	// catalog's most read page.
	tour, deps, err := h.store.TourDetail(c.Request.Context(), c.Param("tour"), catalog.Today(h.now()))
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	detail := tourDetailJSON{tourJSON: toTourJSON(tour), Departures: make([]departureJSON, len(deps))}
	for i, d := range deps {
		detail.Departures[i] = toDepartureJSON(d)
	}
	c.JSON(http.StatusOK, detail)
}

func (h *Handler) createTour(c *gin.Context) {
	var req createTourRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.errors.Respond(c, err)
		return
	}
	tour, err := h.store.CreateTour(c.Request.Context(), req.toDomain(), h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.Header("Location", "/v1/tours/"+tour.ID.String())
	c.JSON(http.StatusCreated, toTourJSON(tour))
}

func (h *Handler) updateTour(c *gin.Context) {
	id, ok := h.pathID(c, "tour", "tour")
	if !ok {
		return
	}
	var req patchTourRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.errors.Respond(c, err)
		return
	}
	tour, err := h.store.UpdateTour(c.Request.Context(), id, req.toDomain(), h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toTourJSON(tour))
}

func (h *Handler) archiveTour(c *gin.Context) {
	id, ok := h.pathID(c, "tour", "tour")
	if !ok {
		return
	}
	tour, err := h.store.ArchiveTour(c.Request.Context(), id, h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toTourJSON(tour))
}

func (h *Handler) listDepartures(c *gin.Context) {
	ctx := c.Request.Context()
	page, err := catalog.ParsePage(c.Request.URL.Query())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	// Accept the slug here too, as GET /v1/tours/{id_or_slug} does.
	tour, err := h.store.GetTour(ctx, c.Param("tour"))
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	deps, next, err := h.store.ListDepartures(ctx, tour.ID, page)
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	out := make([]departureJSON, len(deps))
	for i, d := range deps {
		out[i] = toDepartureJSON(d)
	}
	c.JSON(http.StatusOK, newList(out, next))
}

func (h *Handler) createDeparture(c *gin.Context) {
	id, ok := h.pathID(c, "tour", "tour")
	if !ok {
		return
	}
	var req createDepartureRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.errors.Respond(c, err)
		return
	}
	dep, err := h.store.CreateDeparture(c.Request.Context(), id,
		catalog.NewDeparture{StartsOn: req.StartsOn, Capacity: req.Capacity, Price: req.Price}, h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.Header("Location", "/v1/departures/"+dep.ID.String())
	c.JSON(http.StatusCreated, toDepartureJSON(dep))
}

func (h *Handler) getDeparture(c *gin.Context) {
	id, ok := h.pathID(c, "departure", "departure")
	if !ok {
		return
	}
	dep, err := h.store.GetDeparture(c.Request.Context(), id)
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toDepartureJSON(dep))
}

// placeHold answers 201 for a new hold and 200 with the same hold when the
// booking already has one: booking may repeat the call after a timeout
// without reserving seats twice.
func (h *Handler) placeHold(c *gin.Context) {
	depID, ok := h.pathID(c, "departure", "departure")
	if !ok {
		return
	}
	var req placeHoldRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.errors.Respond(c, err)
		return
	}
	bookingID, ttl, err := catalog.HoldRequest{BookingID: req.BookingID, Seats: req.Seats, TTLSeconds: req.TTLSeconds}.Validate()
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	hold, created, err := h.store.PlaceHold(c.Request.Context(), depID, bookingID, req.Seats, ttl, h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/holds/"+hold.ID.String())
	}
	c.JSON(status, toHoldJSON(hold))
}

func (h *Handler) confirmHold(c *gin.Context) {
	id, ok := h.pathID(c, "hold", "hold")
	if !ok {
		return
	}
	hold, err := h.store.ConfirmHold(c.Request.Context(), id, h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toHoldJSON(hold))
}

// releaseHold gives the seats back once; releasing again is a 200 no-op so
// that cancellations and sweeps can be retried blindly.
func (h *Handler) releaseHold(c *gin.Context) {
	id, ok := h.pathID(c, "hold", "hold")
	if !ok {
		return
	}
	hold, err := h.store.ReleaseHold(c.Request.Context(), id, h.now())
	if err != nil {
		h.errors.Respond(c, err)
		return
	}
	c.JSON(http.StatusOK, toHoldJSON(hold))
}
