// Package service assembles the tour catalog: its configuration, the
// database, the routes and the hold sweeper. cmd/tour-catalog runs it as a
// process; the integration tests run it in-process on a loopback port.
package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/pkg/worker"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/api"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/store"
)

// DefaultPort is the catalog's port in the course.
const DefaultPort = 3001

// Config is every variable the catalog reads; .env.example documents each.
type Config struct {
	config.Common
	// AdminToken guards catalog writes; comma-separated values allow
	// rotation. Empty: writes are closed.
	AdminToken string `env:"CATALOG_ADMIN_TOKEN"`
	// ServiceToken guards the hold endpoints booking calls; comma-separated
	// for rotation. Empty: holds are closed.
	ServiceToken string `env:"CATALOG_SERVICE_TOKEN"`
	SeedDemoData bool   `env:"SEED_DEMO_DATA" envDefault:"false"`
	// HoldSweepInterval is how often expired holds are released. Booking
	// releases its holds itself; the sweeper is the safety net for a booking
	// service that is down or lost track.
	HoldSweepInterval time.Duration `env:"HOLD_SWEEP_INTERVAL" envDefault:"30s"`
}

// DefaultConfig is the configuration before the environment is read.
func DefaultConfig() Config {
	return Config{Common: config.Common{Port: DefaultPort, SQLitePath: "data/tour-catalog.db"}}
}

// Validate reports every invalid value.
func (c Config) Validate(v *validate.Collector) {
	c.Common.Validate(v)
	for _, t := range config.List(c.AdminToken) {
		v.Check(len(t) >= 16, "CATALOG_ADMIN_TOKEN", "each token must be at least 16 characters")
	}
	for _, t := range config.List(c.ServiceToken) {
		v.Check(len(t) >= 16, "CATALOG_SERVICE_TOKEN", "each token must be at least 16 characters")
	}
	v.Check(c.HoldSweepInterval >= time.Second, "HOLD_SWEEP_INTERVAL", "must be at least 1s")
}

// Run serves the catalog until ctx is cancelled. ready, when not nil, is told
// the listening address.
func Run(ctx context.Context, b app.Build, cfg Config, stdout io.Writer, ready func(net.Addr)) error {
	b.Service = "tour-catalog"
	f, err := app.New(ctx, b, cfg.Common, stdout, 30*time.Second)
	if err != nil {
		return err
	}
	// Migrate before serving: /readyz must not say ready on an old schema.
	if err := store.Migrate(ctx, f.DB); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	st := store.New(f.DB)
	f.Health.AddCheck("schema", st.Ready)
	if cfg.SeedDemoData {
		n, err := st.SeedDemoData(ctx, time.Now())
		if err != nil {
			return fmt.Errorf("seed demo data: %w", err)
		}
		f.Log.Info("demo data seeded", "tours_created", n)
	}
	tokens := api.Tokens{Admin: config.List(cfg.AdminToken), Service: config.List(cfg.ServiceToken)}
	if len(tokens.Admin) == 0 {
		f.Log.Warn("CATALOG_ADMIN_TOKEN is empty: catalog writes answer 401")
	}
	if len(tokens.Service) == 0 {
		f.Log.Warn("CATALOG_SERVICE_TOKEN is empty: hold endpoints answer 401")
	}
	api.New(st, f.Log, time.Now).Register(f.Server.Engine, tokens)

	f.Go(func(ctx context.Context) {
		worker.Every(ctx, f.Log, "hold-sweeper", cfg.HoldSweepInterval, func(ctx context.Context) error {
			return sweepExpiredHolds(ctx, st, f.Log)
		})
	})
	return f.Run(ctx, ready)
}

type expiredHoldReleaser interface {
	ReleaseExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// sweepExpiredHolds releases expired holds in batches until a batch comes
// back short, so a backlog clears in one tick without one huge transaction.
func sweepExpiredHolds(ctx context.Context, st expiredHoldReleaser, log *slog.Logger) error {
	total := 0
	for {
		n, err := st.ReleaseExpired(ctx, time.Now(), store.DefaultSweepLimit)
		total += n
		if err != nil {
			return fmt.Errorf("release expired holds: %w", err)
		}
		if n < store.DefaultSweepLimit || ctx.Err() != nil {
			break
		}
	}
	if total > 0 {
		log.InfoContext(ctx, "expired holds released", "count", total)
	}
	return nil
}
