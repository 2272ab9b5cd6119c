package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// List page sizes (DESIGN §2).
const (
	defaultLimit = 20
	maxLimit     = 100
)

func (h *Handler) create(c *gin.Context) {
	var req createRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	b, err := h.bookings.Create(c.Request.Context(), req.domain())
	if err != nil {
		h.fail(c, err, b)
		return
	}
	c.Header("Location", "/v1/bookings/"+b.ID.String())
	c.JSON(http.StatusCreated, toBookingJSON(b))
}

func (h *Handler) get(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	b, err := h.bookings.Get(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

func (h *Handler) list(c *gin.Context) {
	filter, err := parseFilter(c.Request.URL.Query())
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	page, err := h.bookings.List(c.Request.Context(), filter)
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	out := listJSON{Data: make([]bookingJSON, 0, len(page.Bookings))}
	for _, b := range page.Bookings {
		out.Data = append(out.Data, toBookingJSON(b))
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	c.JSON(http.StatusOK, out)
}

// parseFilter reads the admin list's query: status, email, limit, cursor.
func parseFilter(q map[string][]string) (store.Filter, error) {
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	var v validate.Collector
	f := store.Filter{Limit: defaultLimit, Email: strings.TrimSpace(get("email")), Cursor: get("cursor")}
	if s := get("status"); s != "" {
		status, err := booking.ParseStatus(s)
		if v.Check(err == nil, "status", "must be one of "+statusList()) {
			f.Status = status
		}
	}
	v.Check(len(f.Email) <= booking.MaxEmailLength, "email", "must be at most 254 characters")
	if s := get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil && n >= 1 && n <= maxLimit, "limit", "must be a whole number between 1 and 100") {
			f.Limit = n
		}
	}
	return f, v.Err()
}

func statusList() string {
	var names []string
	for _, s := range booking.Statuses() {
		names = append(names, string(s))
	}
	return strings.Join(names, ", ")
}

func (h *Handler) pay(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	var req payRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	if req.Card == nil {
		h.fail(c, &validate.Error{Fields: []validate.FieldError{{Field: "card", Detail: "is required"}}}, booking.Booking{})
		return
	}
	card := booking.Card{Number: req.Card.Number, ExpMonth: req.Card.ExpMonth, ExpYear: req.Card.ExpYear, CVC: req.Card.CVC}
	b, err := h.bookings.Pay(c.Request.Context(), id, card)
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

func (h *Handler) cancel(c *gin.Context) {
	id, ok := h.pathID(c)
	if !ok {
		return
	}
	b, err := h.bookings.Cancel(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	c.JSON(http.StatusOK, toBookingJSON(b))
}

// paymentWebhook receives the gateway's events. The signature is checked on
// the raw bytes before anything is decoded; every refusal is the same 401,
// and only the log says why. A failure to apply the event is a non-2xx
// answer, so the gateway delivers it again.
func (h *Handler) paymentWebhook(c *gin.Context) {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			problem.Write(c, problem.New(http.StatusRequestEntityTooLarge, problem.CodePayloadTooLarge, "The event is larger than the limit."))
			return
		}
		problem.Write(c, problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body could not be read."))
		return
	}
	if err := h.cfg.Webhooks.Verify(c.GetHeader(webhook.Header), body); err != nil {
		h.log.WarnContext(c.Request.Context(), "webhook refused", "err", err)
		problem.Write(c, problem.New(http.StatusUnauthorized, problem.CodeUnauthorized, "The webhook signature is missing, wrong or stale."))
		return
	}
	var ev eventJSON
	if err := json.Unmarshal(body, &ev); err != nil {
		problem.Write(c, problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The event is not valid JSON."))
		return
	}
	var v validate.Collector
	v.Check(ev.ID != "" && len(ev.ID) <= 255, "id", "is required, at most 255 characters")
	v.Check(ev.Type != "" && len(ev.Type) <= 64, "type", "is required, at most 64 characters")
	if err := v.Err(); err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	event := flow.Event{ID: ev.ID, Type: ev.Type}
	if strings.HasPrefix(ev.Type, "payment_intent.") && ev.Data.Object != nil {
		intent := ev.Data.Object.domain()
		event.Intent = &intent
	}
	duplicate, err := h.bookings.HandleEvent(c.Request.Context(), event)
	if err != nil {
		h.fail(c, err, booking.Booking{})
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": true, "duplicate": duplicate})
}
