// Package httpserver builds every service's HTTP server on gin with the same
// middleware (request id, access log, metrics, panic recovery, body size and
// media type checks), the health and metrics endpoints, and the graceful
// shutdown sequence of DESIGN §2.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/problem"
)

// DefaultBodyLimit is the largest request body accepted (413 above it).
const DefaultBodyLimit = 1 << 20

// Config holds the server's limits.
type Config struct {
	Addr string
	// ShutdownTimeout bounds how long in-flight requests may take to finish.
	ShutdownTimeout time.Duration
	// ShutdownDelay keeps serving with readiness at 503 before closing the
	// listener, so load balancers stop routing here first.
	ShutdownDelay time.Duration
	BodyLimit     int64
	Pprof         bool
}

// Server is a gin engine with the shared middleware, plus what it needs to
// start and stop.
type Server struct {
	Engine  *gin.Engine
	Health  *health.Health
	Metrics *metrics.Metrics
	log     *slog.Logger
	cfg     Config
	http    *http.Server
}

// New builds the engine with the shared middleware and the /healthz,
// /readyz and /metrics routes; the service adds its own routes to Engine.
func New(cfg Config, log *slog.Logger, h *health.Health, m *metrics.Metrics) *Server {
	if cfg.BodyLimit <= 0 {
		cfg.BodyLimit = DefaultBodyLimit
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	// gin's mode is process-wide; release mode only silences its debug
	// route listing, which would otherwise go to stdout past our logger.
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	// The services sit behind compose or an ingress; trusting no proxy
	// headers keeps ClientIP honest unless a deployment says otherwise.
	_ = e.SetTrustedProxies(nil)
	e.Use(
		RequestID(),
		AccessLog(log),
		m.Middleware(),
		Recovery(log),
		LimitBody(cfg.BodyLimit),
		RequireJSON(),
	)
	e.NoRoute(func(c *gin.Context) {
		problem.Write(c, problem.NotFound("No route matches "+c.Request.Method+" "+c.Request.URL.Path+"."))
	})
	e.NoMethod(func(c *gin.Context) {
		problem.Write(c, problem.New(http.StatusMethodNotAllowed, problem.CodeMethodNotAllowed,
			"Method "+c.Request.Method+" is not allowed on "+c.Request.URL.Path+"."))
	})
	e.GET("/healthz", h.Liveness)
	e.GET("/readyz", h.Readiness)
	e.GET("/metrics", gin.WrapH(m.Handler()))
	if cfg.Pprof {
		registerPprof(e)
	}
	s := &Server{Engine: e, Health: h, Metrics: m, log: log, cfg: cfg}
	s.http = &http.Server{
		Addr:              cfg.Addr,
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s
}

func registerPprof(e *gin.Engine) {
	g := e.Group("/debug/pprof")
	g.GET("/", gin.WrapF(pprof.Index))
	g.GET("/cmdline", gin.WrapF(pprof.Cmdline))
	g.GET("/profile", gin.WrapF(pprof.Profile))
	g.GET("/symbol", gin.WrapF(pprof.Symbol))
	g.GET("/trace", gin.WrapF(pprof.Trace))
	// The named profiles (goroutine, heap, allocs, block, mutex,
	// threadcreate). The name is gin's path parameter: r.PathValue only
	// knows net/http's own patterns, and is empty here.
	g.GET("/:name", func(c *gin.Context) {
		pprof.Handler(c.Param("name")).ServeHTTP(c.Writer, c.Request)
	})
}

// Run serves until ctx is done, then shuts down in the order DESIGN §2
// gives: readiness turns 503, the listener stays open for ShutdownDelay,
// then in-flight requests get ShutdownTimeout to finish. It returns nil
// after a clean shutdown. ready, when not nil, receives the bound address
// once the listener is open (tests listen on ":0").
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if ready != nil {
		ready(ln.Addr())
	}
	s.log.Info("listening", "addr", ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- s.http.Serve(ln) }()

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.Health.SetShuttingDown()
	s.log.Info("shutting down", "delay", s.cfg.ShutdownDelay.String(), "timeout", s.cfg.ShutdownTimeout.String())
	if s.cfg.ShutdownDelay > 0 {
		time.Sleep(s.cfg.ShutdownDelay)
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		_ = s.http.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
