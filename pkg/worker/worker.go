// Package worker runs the services' background loops (hold sweeper, booking
// expiry, webhook dispatcher): one function called at an interval until the
// context ends, with jitter so that replicas started together do not fire in
// lockstep, and with errors logged rather than fatal, since the next tick
// retries.
package worker

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Every calls fn every interval (±10% jitter) until ctx is done. A call is
// given ctx, so shutdown interrupts it.
func Every(ctx context.Context, log *slog.Logger, name string, interval time.Duration, fn func(context.Context) error) {
	log = log.With("worker", name)
	log.InfoContext(ctx, "worker started", "interval", interval.String())
	defer log.Info("worker stopped")
	for {
		jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(interval))
		t := time.NewTimer(interval + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "worker run failed", "err", err)
		}
	}
}
