// Package api is the payment gateway's HTTP layer: the route table of
// DESIGN §5, request decoding, and the JSON shapes of intents, refunds and
// events. Handlers read like the contract: decode, call the domain, save,
// encode; every error goes through the one mapper in errors.go.
//
// Every route needs a merchant secret key (Authorization: Bearer
// sk_test_...); every POST accepts an Idempotency-Key, scoped by the
// merchant key that sent it.
//
// A card number reaches this package inside a payment.Card and goes no
// further than payment.Intent.Confirm: nothing here logs, stores or
// returns more of it than brand, last four digits and expiry.
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// Store is what the handlers need of the storage layer.
type Store interface {
	CreateIntent(ctx context.Context, in *payment.Intent) error
	Intent(ctx context.Context, id string) (*payment.Intent, error)
	SaveConfirmation(ctx context.Context, in *payment.Intent, ev store.NewEvent, now time.Time) error
	SaveCancellation(ctx context.Context, in *payment.Intent, ev store.NewEvent, now time.Time) error
	SaveRefund(ctx context.Context, r payment.Refund, ev store.NewEvent, now time.Time) error
	EventPage(ctx context.Context, after store.EventCursor, limit int) ([]store.LoggedEvent, store.EventCursor, error)
	EventByID(ctx context.Context, id string) (store.LoggedEvent, []store.Attempt, error)
}

// Handler serves the gateway's routes.
type Handler struct {
	store  Store
	now    func() time.Time
	log    *slog.Logger
	errors *problem.Mapper
}

// New returns a handler over store; now is the clock (time.Now in
// production, a fixed clock in tests).
func New(store Store, log *slog.Logger, now func() time.Time) *Handler {
	return &Handler{store: store, now: now, log: log, errors: newErrorMapper(log)}
}

// Register adds the routes of DESIGN §5 to r, behind the merchant keys
// apiKeys (several allow rotation), with idempotency keys kept in keys.
func (h *Handler) Register(r gin.IRouter, apiKeys []string, keys *idempotency.Store) {
	once := idempotency.New(keys, idempotency.Options{Scope: merchantScope, Log: h.log}).Handler(idempotency.Optional)

	v1 := r.Group("/v1", httpserver.RequireBearer(apiKeys...))
	v1.POST("/payment_intents", once, h.createIntent)
	v1.GET("/payment_intents/:intent", h.getIntent)
	v1.POST("/payment_intents/:intent/confirm", once, h.confirmIntent)
	v1.POST("/payment_intents/:intent/cancel", once, h.cancelIntent)
	v1.POST("/refunds", once, h.createRefund)
	v1.GET("/events", h.listEvents)
	v1.GET("/events/:event", h.getEvent)
}

// merchantScope names whose idempotency keys a request uses: the merchant
// key it authenticated with, as a digest, so that the secret itself is
// never written to the database. RequireBearer has already checked the
// header, so its token is one of the configured keys.
func merchantScope(c *gin.Context) string {
	_, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	token = strings.TrimSpace(token)
	if token == "" {
		return "" // the middleware answers 500: a wiring mistake
	}
	sum := sha256.Sum256([]byte(token))
	return "merchant:" + hex.EncodeToString(sum[:16])
}

// clock is now truncated to microseconds, the precision the database
// keeps, so that an intent's created_at reads the same in the response
// that created it and in every later one.
func (h *Handler) clock() time.Time { return h.now().UTC().Truncate(time.Microsecond) }
