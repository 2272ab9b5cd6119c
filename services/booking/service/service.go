// Package service assembles the booking service: its configuration, the
// database, the clients of the catalog and the gateway, the routes, and the
// workers that expire unpaid bookings and reconcile interrupted ones.
// cmd/booking runs it as a process; integration tests run it in-process on a
// loopback port.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/pkg/worker"
	"github.com/tourism-go/tourism/services/booking/internal/api"
	"github.com/tourism-go/tourism/services/booking/internal/features"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/peers"
	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// DefaultPort is booking's port in the course.
const DefaultPort = 3002

// operationTimeout bounds the peer calls of one request (or of one booking
// in a worker pass). It stays under the HTTP server's 30 s write timeout,
// so a client hears 503/504 from us rather than a dropped connection, and
// under the idempotency lease, so a retry never runs beside its original.
const operationTimeout = 20 * time.Second

// keyRetention is how long Idempotency-Keys are kept (DESIGN §2: at least 24 h).
const keyRetention = 25 * time.Hour

// Config is every variable booking reads; .env.example documents each.
type Config struct {
	config.Common
	// CatalogURL is tour-catalog's root URL.
	CatalogURL string `env:"CATALOG_URL"`
	// CatalogServiceToken is the bearer token of the catalog's hold endpoints.
	CatalogServiceToken string `env:"CATALOG_SERVICE_TOKEN"`
	// CatalogTimeout bounds one attempt of a catalog call.
	CatalogTimeout time.Duration `env:"CATALOG_TIMEOUT"`
	// PaymentURL is payment-gateway's root URL.
	PaymentURL string `env:"PAYMENT_URL"`
	// PaymentAPIKey is booking's merchant secret key at the gateway.
	PaymentAPIKey string `env:"PAYMENT_API_KEY"`
	// PaymentTimeout bounds one attempt of a gateway call.
	PaymentTimeout time.Duration `env:"PAYMENT_TIMEOUT"`
	// WebhookSecret verifies the gateway's webhooks; comma-separated, any
	// one matching is enough, so a secret can be rotated without downtime.
	WebhookSecret string `env:"WEBHOOK_SECRET"`
	// HoldTTL is how long a customer has to pay.
	HoldTTL time.Duration `env:"BOOKING_HOLD_TTL" envDefault:"15m"`
	// HoldMargin is how much longer the catalog holds the seats than the
	// customer has to pay, so that a payment found at the deadline can
	// still confirm them. It must cover a sweep interval and a slow pass.
	HoldMargin time.Duration `env:"BOOKING_HOLD_MARGIN"`
	// SweepInterval is how often the expiry and reconcile workers run.
	SweepInterval time.Duration `env:"BOOKING_SWEEP_INTERVAL"`
	// AdminToken opens GET /v1/bookings; comma-separated for rotation.
	AdminToken string `env:"BOOKING_ADMIN_TOKEN"`
}

// DefaultConfig is the configuration before the environment is read, with
// every default set, so that a test can start the service from it without
// an environment.
func DefaultConfig() Config {
	return Config{
		Common: config.Common{
			Port: DefaultPort, SQLitePath: "data/booking.db",
			DBMaxOpenConns: 10, DBMaxIdleConns: 10, DBConnLifetime: 30 * time.Minute,
			LogLevel: "info", LogFormat: "json", ShutdownTimeout: 15 * time.Second,
		},
		CatalogURL:     "http://localhost:3001",
		CatalogTimeout: 2 * time.Second,
		PaymentURL:     "http://localhost:3004",
		PaymentTimeout: 5 * time.Second,
		HoldTTL:        15 * time.Minute,
		HoldMargin:     2 * time.Minute,
		SweepInterval:  15 * time.Second,
	}
}

// Validate reports every invalid value, one line per variable. The four
// secrets may be left unset (see features); one that is set must be valid,
// since a mistyped secret is an operator's error to hear about at once.
func (c Config) Validate(v *validate.Collector) {
	c.Common.Validate(v)
	checkURL(v, "CATALOG_URL", c.CatalogURL)
	checkURL(v, "PAYMENT_URL", c.PaymentURL)
	if c.CatalogServiceToken != "" {
		v.Check(len(c.CatalogServiceToken) >= 16 && !strings.ContainsAny(c.CatalogServiceToken, " ,"),
			"CATALOG_SERVICE_TOKEN", "must be the catalog's service token: at least 16 characters, no space or comma")
	}
	if c.PaymentAPIKey != "" {
		v.Check(!strings.ContainsAny(c.PaymentAPIKey, " ,"),
			"PAYMENT_API_KEY", "must be booking's secret key at the gateway (sk_test_...): no space or comma")
	}
	if c.WebhookSecret != "" {
		v.Check(len(webhook.ParseSecrets(c.WebhookSecret)) > 0, "WEBHOOK_SECRET", "must hold at least one secret the gateway signs webhooks with")
	}
	if c.AdminToken != "" {
		tokens := config.List(c.AdminToken)
		v.Check(len(tokens) > 0, "BOOKING_ADMIN_TOKEN", "must hold at least one bearer token for the admin list")
		for _, t := range tokens {
			v.Check(len(t) >= 16, "BOOKING_ADMIN_TOKEN", "each token must be at least 16 characters")
		}
	}
	v.Check(c.CatalogTimeout >= 100*time.Millisecond && c.CatalogTimeout <= 8*time.Second, "CATALOG_TIMEOUT", "must be between 100ms and 8s")
	v.Check(c.PaymentTimeout >= 100*time.Millisecond && c.PaymentTimeout <= 8*time.Second, "PAYMENT_TIMEOUT", "must be between 100ms and 8s")
	v.Check(c.SweepInterval >= time.Second && c.SweepInterval <= 10*time.Minute, "BOOKING_SWEEP_INTERVAL", "must be between 1s and 10m")
	v.Check(c.HoldMargin >= 2*c.SweepInterval && c.HoldMargin >= 10*time.Second, "BOOKING_HOLD_MARGIN",
		"must be at least 10s and twice BOOKING_SWEEP_INTERVAL, so the sweep can still confirm a late payment")
	// The catalog holds seats for at most an hour.
	v.Check(c.HoldTTL >= 10*time.Second && c.HoldTTL+c.HoldMargin <= flow.MaxCatalogHoldTTL, "BOOKING_HOLD_TTL",
		"must be at least 10s, and with BOOKING_HOLD_MARGIN at most 1h")
}

// features switches off what needs a secret that is not set; each Effect
// completes "<VARIABLE> is not set: ", in the start-up warning and in the
// 503's detail.
func (c Config) features() features.Set {
	var s features.Set
	if c.CatalogServiceToken == "" {
		s.Catalog = &features.Off{Variable: "CATALOG_SERVICE_TOKEN",
			Effect: "new bookings are refused, and no seats are confirmed or released, until it is"}
	}
	if c.PaymentAPIKey == "" {
		s.Payments = &features.Off{Variable: "PAYMENT_API_KEY",
			Effect: "payments are refused, and no payment is checked or refunded, until it is"}
	}
	if c.WebhookSecret == "" {
		s.Webhooks = &features.Off{Variable: "WEBHOOK_SECRET",
			Effect: "the payment gateway's webhooks are refused until it is"}
	}
	if c.AdminToken == "" {
		s.AdminList = &features.Off{Variable: "BOOKING_ADMIN_TOKEN",
			Effect: "the admin list GET /v1/bookings is closed until it is"}
	}
	return s
}

func checkURL(v *validate.Collector, name, raw string) {
	u, err := url.Parse(raw)
	v.Check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.RawQuery == "",
		name, "must be an http:// or https:// URL such as http://localhost:3001")
}

// Run serves booking until ctx is cancelled. ready, when not nil, is told
// the listening address.
func Run(ctx context.Context, b app.Build, cfg Config, stdout io.Writer, ready func(net.Addr)) error {
	b.Service = "booking"
	// Config.Load validated already; a caller that built cfg by hand (a
	// test) gets the same check, except that it may ask for port 0: any
	// free port, reported to ready.
	check := cfg
	if check.Port == 0 {
		check.Port = DefaultPort
	}
	var v validate.Collector
	check.Validate(&v)
	if fields, ok := validate.Fields(v.Err()); ok {
		cerr := &config.Error{}
		for _, f := range fields {
			cerr.Problems = append(cerr.Problems, f.Field+": "+f.Detail)
		}
		return cerr
	}
	f, err := app.New(ctx, b, cfg.Common, stdout, 30*time.Second)
	if err != nil {
		return err
	}
	// Migrate before serving: /readyz must not say ready on an old schema.
	if err := store.Migrate(ctx, f.DB, idempotency.Models()...); err != nil {
		return errors.Join(fmt.Errorf("migrate: %w", err), db.Close(f.DB))
	}
	st := store.New(f.DB)
	f.Health.AddCheck("schema", st.Ready)

	// A missing secret switches off what needs it instead of stopping the
	// process, so that the image runs bare, as the course runs it; readiness
	// stays about the database. Each is said once, here.
	on := cfg.features()
	for _, off := range on.Missing() {
		f.Log.Warn(off.Error()+"; see .env.example", "variable", off.Variable)
	}
	catalogClient, err := peerClient(cfg.CatalogURL, cfg.CatalogServiceToken, cfg.CatalogTimeout, b, f)
	if err != nil {
		return errors.Join(fmt.Errorf("catalog client: %w", err), db.Close(f.DB))
	}
	paymentClient, err := peerClient(cfg.PaymentURL, cfg.PaymentAPIKey, cfg.PaymentTimeout, b, f)
	if err != nil {
		return errors.Join(fmt.Errorf("payment client: %w", err), db.Close(f.DB))
	}
	var catalog flow.Catalog = peers.NewCatalog(catalogClient)
	if on.Catalog != nil {
		catalog = peers.Unconfigured{Off: on.Catalog}
	}
	var payments flow.Payments = peers.NewPayments(paymentClient)
	if on.Payments != nil {
		payments = peers.Unconfigured{Off: on.Payments}
	}
	bookings, err := flow.New(st, catalog, payments, flow.Options{
		HoldTTL: cfg.HoldTTL, HoldMargin: cfg.HoldMargin, OperationTimeout: operationTimeout,
		Log: f.Log, Metrics: f.Metrics.Registry,
	})
	if err != nil {
		return errors.Join(err, db.Close(f.DB))
	}
	keys := idempotency.NewStore(f.DB)
	api.New(bookings, api.Config{
		Features:    on,
		AdminTokens: config.List(cfg.AdminToken),
		Webhooks:    webhook.Verifier{Secrets: webhook.ParseSecrets(cfg.WebhookSecret), Tolerance: webhook.DefaultTolerance},
		Idempotency: idempotency.New(keys, idempotency.Options{Log: f.Log}),
		Log:         f.Log,
	}).Register(f.Server.Engine)

	f.Go(func(ctx context.Context) {
		worker.Every(ctx, f.Log, "booking-expiry", cfg.SweepInterval, bookings.ExpireOverdue)
	})
	f.Go(func(ctx context.Context) {
		worker.Every(ctx, f.Log, "booking-reconciler", cfg.SweepInterval, bookings.Reconcile)
	})
	f.Go(func(ctx context.Context) {
		worker.Every(ctx, f.Log, "idempotency-purge", time.Hour, func(ctx context.Context) error {
			_, err := keys.Purge(ctx, keyRetention)
			return err
		})
	})
	err = f.Run(ctx, ready)
	catalogClient.CloseIdleConnections()
	paymentClient.CloseIdleConnections()
	return err
}

// peerClient is the HTTP client of one peer. A call gets two attempts'
// worth of time: enough to retry a lost connection, while a peer that hangs
// is given up on in about twice its timeout.
func peerClient(baseURL, token string, attempt time.Duration, b app.Build, f *app.Foundation) (*httpclient.Client, error) {
	return httpclient.New(httpclient.Options{
		BaseURL:        baseURL,
		Token:          token,
		AttemptTimeout: attempt,
		Deadline:       2*attempt + 500*time.Millisecond,
		UserAgent:      "booking/" + b.Version,
		Log:            f.Log,
	})
}
