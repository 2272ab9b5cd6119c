package service_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/services/booking/service"
)

var secrets = []string{
	"CATALOG_SERVICE_TOKEN=service-token-0123456789",
	"PAYMENT_API_KEY=sk_test_booking123",
	"WEBHOOK_SECRET=whsec_test",
	"BOOKING_ADMIN_TOKEN=admin-token-0123456789",
}

func TestEnvExampleMatchesConfig(t *testing.T) {
	if err := config.CheckExample("../.env.example", service.Config{}); err != nil {
		t.Fatal(err)
	}
}

// DefaultConfig and the env tags give the same defaults, so a test that
// starts the service from DefaultConfig runs what a bare process runs.
func TestDefaultsAgreeWithTheEnvironment(t *testing.T) {
	loaded := service.DefaultConfig()
	if err := config.Load(&loaded, secrets); err != nil {
		t.Fatal(err)
	}
	want := service.DefaultConfig()
	want.CatalogServiceToken, want.PaymentAPIKey = "service-token-0123456789", "sk_test_booking123"
	want.WebhookSecret, want.AdminToken = "whsec_test", "admin-token-0123456789"
	if loaded != want {
		t.Fatalf("loaded %+v\nwant   %+v", loaded, want)
	}
	if loaded.Port != 3002 || loaded.SQLitePath != "data/booking.db" || loaded.HoldTTL != 15*time.Minute ||
		loaded.CatalogURL != "http://localhost:3001" || loaded.PaymentURL != "http://localhost:3004" {
		t.Fatalf("defaults: %+v", loaded)
	}
}

func TestInvalidConfigIsReportedPerVariable(t *testing.T) {
	cfg := service.DefaultConfig()
	err := config.Load(&cfg, []string{
		"CATALOG_URL=localhost:3001", "PAYMENT_URL=ftp://gateway", "BOOKING_HOLD_TTL=soon", "BOOKING_SWEEP_INTERVAL=2m",
		"CATALOG_SERVICE_TOKEN=short", "BOOKING_ADMIN_TOKEN=",
	})
	var cerr *config.Error
	if !errors.As(err, &cerr) || config.ExitCode(err) != 2 {
		t.Fatalf("got %v, want a configuration error", err)
	}
	var vars []string
	for _, p := range cerr.Problems {
		name, _, _ := strings.Cut(p, ":")
		vars = append(vars, name)
	}
	for _, want := range []string{
		"CATALOG_URL", "PAYMENT_URL", "BOOKING_HOLD_TTL", "BOOKING_HOLD_MARGIN",
		"CATALOG_SERVICE_TOKEN", "PAYMENT_API_KEY", "WEBHOOK_SECRET", "BOOKING_ADMIN_TOKEN",
	} {
		if !slices.Contains(vars, want) {
			t.Errorf("no problem reported for %s in %q", want, cerr.Problems)
		}
	}
}

func TestHoldTTLWithMarginFitsTheCatalog(t *testing.T) {
	cfg := service.DefaultConfig()
	err := config.Load(&cfg, append([]string{"BOOKING_HOLD_TTL=59m"}, secrets...))
	if err == nil || !strings.Contains(err.Error(), "BOOKING_HOLD_TTL") {
		t.Fatalf("got %v, want BOOKING_HOLD_TTL refused", err)
	}
}

// Run starts on a loopback port with SQLite, serves probes, metrics and the
// routes, and stops cleanly when its context ends.
func TestRunServesAndStops(t *testing.T) {
	cfg := service.DefaultConfig()
	if err := config.Load(&cfg, secrets); err != nil {
		t.Fatal(err)
	}
	cfg.Port = 0 // any free port
	cfg.SQLitePath = t.TempDir() + "/booking.db"
	cfg.CatalogURL, cfg.PaymentURL = "http://127.0.0.1:1", "http://127.0.0.1:1" // nothing listens there

	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, app.Build{Version: "test"}, cfg, io.Discard, func(a net.Addr) { addrs <- a })
	}()
	var base string
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("Run ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}

	get := func(path string, header ...string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/readyz"); code != 200 || !strings.Contains(body, `"schema":"ok"`) {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	if code, _ := get("/v1/bookings"); code != 401 {
		t.Fatalf("admin list without a token: %d", code)
	}
	if code, body := get("/v1/bookings", "Authorization", "Bearer admin-token-0123456789"); code != 200 || !strings.Contains(body, `"data":[]`) {
		t.Fatalf("admin list: %d %s", code, body)
	}
	// With the catalog unreachable a booking is refused fast with 503.
	start := time.Now()
	resp, err := http.Post(base+"/v1/bookings", "application/json", strings.NewReader(
		`{"departure_id":"0195f0a8-3c4e-7c35-9b1e-1f2a3b4c5d6e","seats":1,"customer":{"name":"Ana","email":"ana@example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || time.Since(start) > 10*time.Second {
		t.Fatalf("create with the catalog down: %d after %s", resp.StatusCode, time.Since(start))
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "http_requests_total") {
		t.Fatalf("/metrics: %d", code)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not stop")
	}
}

func TestRunRefusesABadConfigBeforeOpeningAnything(t *testing.T) {
	cfg := service.DefaultConfig()
	cfg.SQLitePath = t.TempDir() + "/booking.db"
	err := service.Run(context.Background(), app.Build{}, cfg, io.Discard, nil)
	if config.ExitCode(err) != 2 || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Fatalf("got %v, want a configuration error naming the missing secrets", err)
	}
}
