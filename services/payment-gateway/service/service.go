// Package service assembles the payment gateway: its configuration, the
// database, the routes, the webhook dispatcher and the idempotency key
// purge. cmd/payment-gateway runs it as a process; the integration tests
// run it in-process on a loopback port.
package service

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/pkg/worker"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/api"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/webhooks"
)

// DefaultPort is the gateway's port in the course.
const DefaultPort = 3004

// Idempotency keys are kept for a day (DESIGN §2: at least 24 h); the
// purge runs hourly, so a key lives between 24 and 25 hours.
const (
	idempotencyKeyTTL   = 24 * time.Hour
	idempotencyPurgeDue = time.Hour
)

// Config is every variable the gateway reads; .env.example documents each.
type Config struct {
	config.Common
	// APIKeys are the merchant secret keys (sk_test_...), comma-separated
	// so that a new key can be added before the old one is retired.
	APIKeys string `env:"PAYMENT_API_KEY"`
	// WebhookURL receives the events; empty records them without
	// delivering them (they are delivered once a URL is configured).
	WebhookURL string `env:"WEBHOOK_URL"`
	// WebhookSecret signs deliveries; comma-separated, each signs.
	WebhookSecret      string        `env:"WEBHOOK_SECRET"`
	WebhookMaxAttempts int           `env:"WEBHOOK_MAX_ATTEMPTS" envDefault:"12"`
	WebhookTimeout     time.Duration `env:"WEBHOOK_TIMEOUT" envDefault:"10s"`
	WebhookInterval    time.Duration `env:"WEBHOOK_DISPATCH_INTERVAL" envDefault:"1s"`
	WebhookBackoffBase time.Duration `env:"WEBHOOK_BACKOFF_BASE" envDefault:"5s"`
	WebhookBackoffMax  time.Duration `env:"WEBHOOK_BACKOFF_MAX" envDefault:"10m"`
	WebhookConcurrency int           `env:"WEBHOOK_CONCURRENCY" envDefault:"4"`
}

// DefaultConfig is the configuration before the environment is read.
func DefaultConfig() Config {
	return Config{Common: config.Common{Port: DefaultPort, SQLitePath: "data/payment-gateway.db"}}
}

// keyPrefix starts every secret key: a key is recognisable in a config
// file, and a publishable key or a token for another service pasted by
// mistake is refused at start. The gateway is a simulator, so there are
// only test keys.
const keyPrefix = "sk_test_"

// minKeySecret is the shortest random part a key may have after its prefix.
const minKeySecret = 8

// Validate reports every invalid value. A secret is never quoted back: the
// message names the variable and the position of the bad entry.
func (c Config) Validate(v *validate.Collector) {
	c.Common.Validate(v)
	keys := config.List(c.APIKeys)
	v.Check(len(keys) > 0, "PAYMENT_API_KEY", "is required: one or more comma-separated secret keys such as "+keyPrefix+"...")
	for i, k := range keys {
		v.Check(validKey(k), "PAYMENT_API_KEY",
			fmt.Sprintf("entry %d must be %s followed by at least %d letters, digits or underscores", i+1, keyPrefix, minKeySecret))
	}
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		v.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
			"WEBHOOK_URL", "must be an absolute http:// or https:// URL")
		v.Check(len(webhook.ParseSecrets(c.WebhookSecret)) > 0, "WEBHOOK_SECRET", "is required when WEBHOOK_URL is set")
	}
	v.Check(c.WebhookMaxAttempts >= 1 && c.WebhookMaxAttempts <= 100, "WEBHOOK_MAX_ATTEMPTS", "must be between 1 and 100")
	v.Check(c.WebhookTimeout >= 100*time.Millisecond && c.WebhookTimeout <= 5*time.Minute, "WEBHOOK_TIMEOUT", "must be between 100ms and 5m")
	v.Check(c.WebhookInterval >= 10*time.Millisecond && c.WebhookInterval <= time.Hour, "WEBHOOK_DISPATCH_INTERVAL", "must be between 10ms and 1h")
	v.Check(c.WebhookBackoffBase >= time.Millisecond, "WEBHOOK_BACKOFF_BASE", "must be at least 1ms")
	v.Check(c.WebhookBackoffMax >= c.WebhookBackoffBase && c.WebhookBackoffMax <= 24*time.Hour,
		"WEBHOOK_BACKOFF_MAX", "must be at least WEBHOOK_BACKOFF_BASE and at most 24h")
	v.Check(c.WebhookConcurrency >= 1 && c.WebhookConcurrency <= 64, "WEBHOOK_CONCURRENCY", "must be between 1 and 64")
}

func validKey(k string) bool {
	secret, ok := strings.CutPrefix(k, keyPrefix)
	if !ok || len(secret) < minKeySecret {
		return false
	}
	for _, r := range secret {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Run serves the gateway until ctx is cancelled. ready, when not nil, is
// told the listening address.
func Run(ctx context.Context, b app.Build, cfg Config, stdout io.Writer, ready func(net.Addr)) error {
	b.Service = "payment-gateway"
	f, err := app.New(ctx, b, cfg.Common, stdout, 30*time.Second)
	if err != nil {
		return err
	}
	// Migrate before serving: /readyz must not say ready on an old schema.
	// The idempotency keys share the transaction, and its lock.
	if err := store.Migrate(ctx, f.DB, idempotency.Models()...); err != nil {
		_ = db.Close(f.DB)
		return fmt.Errorf("migrate: %w", err)
	}
	st := store.New(f.DB)
	f.Health.AddCheck("schema", st.Ready)
	keys := idempotency.NewStore(f.DB)
	api.New(st, f.Log, time.Now).Register(f.Server.Engine, config.List(cfg.APIKeys), keys)

	if cfg.WebhookURL == "" {
		f.Log.Warn("WEBHOOK_URL is empty: events are recorded but not delivered")
	} else {
		d, err := webhooks.New(st, webhooks.Config{
			URL:         cfg.WebhookURL,
			Secrets:     webhook.ParseSecrets(cfg.WebhookSecret),
			MaxAttempts: cfg.WebhookMaxAttempts,
			Timeout:     cfg.WebhookTimeout,
			Interval:    cfg.WebhookInterval,
			BackoffBase: cfg.WebhookBackoffBase,
			BackoffMax:  cfg.WebhookBackoffMax,
			Concurrency: cfg.WebhookConcurrency,
			UserAgent:   b.Service + "/" + b.Version,
		}, f.Log, f.Metrics.Registry)
		if err != nil {
			_ = db.Close(f.DB)
			return err
		}
		f.Go(d.Run)
	}
	f.Go(func(ctx context.Context) {
		worker.Every(ctx, f.Log, "idempotency-purge", idempotencyPurgeDue, func(ctx context.Context) error {
			n, err := keys.Purge(ctx, idempotencyKeyTTL)
			if n > 0 {
				f.Log.InfoContext(ctx, "idempotency keys purged", "count", n)
			}
			return err
		})
	})
	return f.Run(ctx, ready)
}
