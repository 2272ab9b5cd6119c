package idempotency_test

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/worker"
)

// A service migrates the table with its own, guards its POST routes and
// purges old keys in the background.
func Example() {
	var (
		ctx    context.Context
		gdb    *gorm.DB
		engine *gin.Engine
		log    *slog.Logger
	)
	if err := db.Migrate(ctx, gdb, idempotency.Models()); err != nil {
		log.Error("migrate", "err", err)
		return
	}
	keys := idempotency.NewStore(gdb)
	mw := idempotency.New(keys, idempotency.Options{
		// The gateway scopes keys by merchant key; its auth middleware,
		// which runs first, stores the key's id in the context.
		Scope: func(c *gin.Context) string { return c.GetString("api_key_id") },
		Log:   log,
	})
	engine.POST("/v1/payment_intents", mw.Handler(idempotency.Optional), func(c *gin.Context) {
		c.JSON(http.StatusCreated, gin.H{"id": "pi_1"})
	})
	go worker.Every(ctx, log, "idempotency-purge", time.Hour, func(ctx context.Context) error {
		_, err := keys.Purge(ctx, 24*time.Hour)
		return err
	})
}
