// Package app is the start-up and shutdown skeleton every service shares:
// main calls Main, which runs the service's run function under a context
// that SIGTERM and SIGINT cancel; run builds a Foundation (logger, database,
// health, metrics, HTTP server), adds its routes and workers, and calls
// Foundation.Run, which stops things in the order DESIGN §2 gives.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/logging"
	"github.com/tourism-go/tourism/pkg/metrics"
)

// Build identifies the binary; main fills it from -ldflags.
type Build struct {
	Service string
	Version string
	Commit  string
}

// RunFunc is a service's real main: it returns when ctx is cancelled and
// shutdown is complete, or with the error that stopped it.
type RunFunc func(ctx context.Context, environ []string, stdout io.Writer) error

// Main runs run and returns the process exit status. `<binary> healthcheck`
// instead probes the running service's /readyz, for the image's
// HEALTHCHECK: a scratch image has no shell or curl to do it.
func Main(defaultPort int, run RunFunc) int {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		return Probe(os.Getenv("PORT"), defaultPort, 2*time.Second)
	}
	if err := config.LoadDotEnv(".env"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Environ(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return config.ExitCode(err)
	}
	return 0
}

// Foundation is what every service is built on.
type Foundation struct {
	Log     *slog.Logger
	DB      *gorm.DB
	Server  *httpserver.Server
	Metrics *metrics.Metrics
	Health  *health.Health

	workers []func(context.Context)
}

// New opens the database (waiting up to dbWait for it to accept
// connections, since a database container may still be starting) and builds
// the server with /healthz, /readyz and /metrics.
func New(ctx context.Context, b Build, c config.Common, stdout io.Writer, dbWait time.Duration) (*Foundation, error) {
	log, err := logging.New(stdout, c.LogLevel, c.LogFormat, b.Service)
	if err != nil {
		return nil, &config.Error{Problems: []string{err.Error()}}
	}
	log.Info("starting", "version", b.Version, "commit", b.Commit, "database", dbKind(c))
	gdb, err := openWithRetry(ctx, c.DB(), log, dbWait)
	if err != nil {
		return nil, err
	}
	h := health.New(2 * time.Second)
	h.AddCheck("database", func(ctx context.Context) error { return db.Ping(ctx, gdb) })
	m := metrics.New(b.Service)
	srv := httpserver.New(httpserver.Config{
		Addr:            c.Addr(),
		ShutdownTimeout: c.ShutdownTimeout,
		ShutdownDelay:   c.ShutdownDelay,
		Pprof:           c.PprofEnabled,
	}, log, h, m)
	return &Foundation{Log: log, DB: gdb, Server: srv, Metrics: m, Health: h}, nil
}

func dbKind(c config.Common) string {
	if c.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite:" + c.SQLitePath
}

func openWithRetry(ctx context.Context, cfg db.Config, log *slog.Logger, wait time.Duration) (*gorm.DB, error) {
	deadline := time.Now().Add(wait)
	delay := 250 * time.Millisecond
	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		gdb, err := db.Open(attemptCtx, cfg, log)
		cancel()
		if err == nil {
			return gdb, nil
		}
		if ctx.Err() != nil || time.Now().Add(delay).After(deadline) {
			return nil, err
		}
		log.Warn("database not reachable yet, retrying", "err", err, "in", delay.String())
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 4*time.Second)
	}
}

// Go registers a background worker. It starts with Run and gets a context
// that is cancelled once the HTTP server has drained.
func (f *Foundation) Go(worker func(ctx context.Context)) {
	f.workers = append(f.workers, worker)
}

// Run starts the workers and serves until ctx is cancelled, then: readiness
// turns 503, in-flight requests finish, workers stop, the pool closes.
// ready, when not nil, is told the listening address.
func (f *Foundation) Run(ctx context.Context, ready func(net.Addr)) error {
	workerCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, w := range f.workers {
		wg.Go(func() { w(workerCtx) })
	}
	err := f.Server.Run(ctx, ready)
	// Workers outlive the listener by design: a request that was in flight
	// may have queued work they finish. They stop now.
	stopWorkers()
	wg.Wait()
	if cerr := db.Close(f.DB); cerr != nil && err == nil {
		err = fmt.Errorf("close database: %w", cerr)
	}
	f.Log.Info("stopped")
	return err
}
