// Package health serves the liveness and readiness probes.
//
// /healthz answers 200 whenever the process can serve HTTP at all: an
// orchestrator restarts a container whose liveness fails, so it must not
// depend on the database (a database outage would otherwise restart every
// replica for nothing). /readyz answers 503 while a dependency the service
// cannot work without is unreachable, or once shutdown has begun, so that
// traffic is routed elsewhere without restarting anything.
package health

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// Check reports whether one dependency is usable.
type Check func(ctx context.Context) error

type namedCheck struct {
	name  string
	check Check
}

// Health holds the readiness checks and the shutting-down flag.
type Health struct {
	checks       []namedCheck
	shuttingDown atomic.Bool
	timeout      time.Duration
}

// New returns a Health whose checks each get timeout to answer.
func New(timeout time.Duration) *Health {
	return &Health{timeout: timeout}
}

// AddCheck adds a readiness check; call it before serving.
func (h *Health) AddCheck(name string, c Check) {
	h.checks = append(h.checks, namedCheck{name, c})
}

// SetShuttingDown turns readiness to 503 for good.
func (h *Health) SetShuttingDown() { h.shuttingDown.Store(true) }

// ShuttingDown reports whether shutdown has begun.
func (h *Health) ShuttingDown() bool { return h.shuttingDown.Load() }

// Liveness is the /healthz handler.
func (h *Health) Liveness(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Readiness is the /readyz handler.
func (h *Health) Readiness(c *gin.Context) {
	status, body := h.Ready(c.Request.Context())
	c.Header("Cache-Control", "no-store")
	c.JSON(status, body)
}

// Ready runs the checks and returns the status and body of /readyz.
func (h *Health) Ready(ctx context.Context) (int, gin.H) {
	if h.shuttingDown.Load() {
		return http.StatusServiceUnavailable, gin.H{"status": "shutting_down"}
	}
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	results := gin.H{}
	ok := true
	for _, nc := range h.checks {
		if err := nc.check(ctx); err != nil {
			ok = false
			// The reason stays generic: /readyz is public and an error
			// string may name hosts or users.
			results[nc.name] = "unavailable"
			continue
		}
		results[nc.name] = "ok"
	}
	if !ok {
		return http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": results}
	}
	return http.StatusOK, gin.H{"status": "ok", "checks": results}
}
