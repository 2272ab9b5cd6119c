// Command booking serves bookings on :3002: it holds seats at the catalog,
// takes payment through the gateway and keeps the two consistent.
// `booking healthcheck` probes a running instance (the image's HEALTHCHECK).
package main

import (
	"context"
	"io"
	"os"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/services/booking/service"
)

// Stamped at build time with -ldflags "-X main.version=... -X main.commit=...".
var version, commit = "dev", "none"

func main() {
	os.Exit(app.Main(service.DefaultPort, run))
}

func run(ctx context.Context, environ []string, stdout io.Writer) error {
	cfg := service.DefaultConfig()
	if err := config.Load(&cfg, environ); err != nil {
		return err
	}
	return service.Run(ctx, app.Build{Version: version, Commit: commit}, cfg, stdout, nil)
}
