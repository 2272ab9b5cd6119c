package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

func (h *Handler) createIntent(c *gin.Context) {
	var req createIntentRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	in, err := payment.NewIntent(store.NewID(store.IntentIDPrefix), payment.IntentParams{
		Amount:      req.Amount,
		Currency:    req.Currency,
		Description: req.Description,
		Metadata:    req.Metadata,
	}, h.clock())
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.store.CreateIntent(c.Request.Context(), in); err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Location", "/v1/payment_intents/"+in.ID)
	c.JSON(http.StatusCreated, renderIntent(in))
}

func (h *Handler) getIntent(c *gin.Context) {
	in, err := h.store.Intent(c.Request.Context(), c.Param("intent"))
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, renderIntent(in))
}

// confirmIntent charges the card. Its outcomes: 200 and the succeeded
// intent; 402 card_declined, the intent back to requires_payment_method
// with its last_payment_error; 422 for a card that is not one; 409 for an
// intent that succeeded or was canceled, also when another confirm won a
// race for it.
func (h *Handler) confirmIntent(c *gin.Context) {
	var req confirmRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	if req.Card == nil {
		h.fail(c, &validate.Error{Fields: []validate.FieldError{{Field: "card", Detail: "is required"}}})
		return
	}
	ctx := c.Request.Context()
	in, err := h.store.Intent(ctx, c.Param("intent"))
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.clock()
	decline, err := in.Confirm(*req.Card, now)
	if err != nil {
		h.fail(c, underCard(err))
		return
	}
	typ := payment.EventIntentSucceeded
	if decline != nil {
		typ = payment.EventIntentPaymentFailed
	}
	ev, err := newEvent(c, typ, renderIntent(in))
	if err == nil {
		err = h.store.SaveConfirmation(ctx, in, ev, now)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	// The intent's card is its CardDetails: brand and last four only.
	h.log.InfoContext(ctx, "payment intent confirmed", "intent_id", in.ID, "status", in.Status,
		"amount", in.Amount, "currency", in.Currency, "card_brand", in.Card.Brand, "card_last4", in.Card.Last4,
		"decline_code", declineCode(decline), "request_id", requestid.From(ctx))
	if decline != nil {
		problem.Write(c, problem.New(http.StatusPaymentRequired, decline.Code, decline.Message).
			With("decline_code", decline.DeclineCode).
			With("payment_intent", in.ID))
		return
	}
	c.JSON(http.StatusOK, renderIntent(in))
}

// underCard moves the domain's card field problems ("number") under the
// request's "card" member ("card.number"), keeping ErrIncorrectNumber
// visible to errors.Is.
func underCard(err error) error {
	if _, ok := validate.Fields(err); !ok {
		return err
	}
	var v validate.Collector
	v.Merge("card", err)
	if errors.Is(err, payment.ErrIncorrectNumber) {
		return fmt.Errorf("%w: %w", payment.ErrIncorrectNumber, v.Err())
	}
	return v.Err()
}

func declineCode(d *payment.Decline) string {
	if d == nil {
		return ""
	}
	return string(d.DeclineCode)
}

// cancelIntent takes no parameters; a body, if any, is not read.
func (h *Handler) cancelIntent(c *gin.Context) {
	ctx := c.Request.Context()
	in, err := h.store.Intent(ctx, c.Param("intent"))
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := in.Cancel(); err != nil {
		h.fail(c, err)
		return
	}
	now := h.clock()
	ev, err := newEvent(c, payment.EventIntentCanceled, renderIntent(in))
	if err == nil {
		err = h.store.SaveCancellation(ctx, in, ev, now)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, renderIntent(in))
}

// createRefund refunds part or all of a succeeded intent. The domain
// checks the amount against what it read; the store checks it again in
// the UPDATE that applies it, which is what holds under concurrent refunds.
func (h *Handler) createRefund(c *gin.Context) {
	var req refundRequest
	if err := httpserver.DecodeJSON(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	if req.PaymentIntent == "" {
		h.fail(c, &validate.Error{Fields: []validate.FieldError{{Field: "payment_intent", Detail: "is required"}}})
		return
	}
	ctx := c.Request.Context()
	in, err := h.store.Intent(ctx, req.PaymentIntent)
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.clock()
	r, err := in.Refund(store.NewID(store.RefundIDPrefix), req.Amount, now)
	if err != nil {
		h.fail(c, err)
		return
	}
	ev, err := newEvent(c, payment.EventRefundSucceeded, renderRefund(r))
	if err == nil {
		err = h.store.SaveRefund(ctx, r, ev, now)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, renderRefund(r))
}

// newEvent is the event of a state change: the object as this API renders
// it, and the request's id, which the webhook will carry.
func newEvent(c *gin.Context, typ payment.EventType, object any) (store.NewEvent, error) {
	b, err := json.Marshal(object)
	if err != nil {
		return store.NewEvent{}, fmt.Errorf("encode %s object: %w", typ, err)
	}
	return store.NewEvent{Type: typ, Object: b, RequestID: requestid.From(c.Request.Context())}, nil
}

// Lists: ?limit= (default 20, max 100) and an opaque ?cursor= (DESIGN §2).
const (
	defaultLimit = 20
	maxLimit     = 100
)

// listEvents pages through the event log, newest first.
func (h *Handler) listEvents(c *gin.Context) {
	var v validate.Collector
	limit := defaultLimit
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if v.Check(err == nil && n >= 1 && n <= maxLimit, "limit", fmt.Sprintf("must be a whole number from 1 to %d", maxLimit)) {
			limit = n
		}
	}
	var after store.EventCursor
	if s, ok := c.GetQuery("cursor"); ok {
		cur, err := parseCursor(s)
		if v.Check(err == nil, "cursor", "is not a cursor this API returned") {
			after = cur
		}
	}
	if err := v.Err(); err != nil {
		h.fail(c, err)
		return
	}
	events, next, err := h.store.EventPage(c.Request.Context(), after, limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	page := eventPageJSON{Data: make([]eventJSON, len(events))}
	for i, e := range events {
		page.Data[i] = renderEvent(e)
	}
	if next != 0 {
		s := formatCursor(next)
		page.NextCursor = &s
	}
	c.JSON(http.StatusOK, page)
}

func (h *Handler) getEvent(c *gin.Context) {
	e, attempts, err := h.store.EventByID(c.Request.Context(), c.Param("event"))
	if err != nil {
		h.fail(c, err)
		return
	}
	out := renderEvent(e)
	out.Delivery.History = make([]attemptJSON, len(attempts))
	for i, a := range attempts {
		out.Delivery.History[i] = renderAttempt(a)
	}
	c.JSON(http.StatusOK, out)
}

// Cursors are opaque to clients (DESIGN §2): base64 of a versioned
// position, so that the format can change without clients noticing.
const cursorPrefix = "e1:"

func formatCursor(c store.EventCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(int64(c), 10)))
}

func parseCursor(s string) (store.EventCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, err
	}
	rest, ok := bytes.CutPrefix(raw, []byte(cursorPrefix))
	if !ok {
		return 0, errors.New("unknown cursor version")
	}
	n, err := strconv.ParseInt(string(rest), 10, 64)
	if err != nil || n <= 0 {
		return 0, errors.New("bad cursor position")
	}
	return store.EventCursor(n), nil
}
