package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

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
		// A secret may be unset, but one that is set must be valid.
		"CATALOG_SERVICE_TOKEN=short", "PAYMENT_API_KEY=sk_test_a,sk_test_b", "WEBHOOK_SECRET= , ",
		"BOOKING_ADMIN_TOKEN=admin-token-0123456789,short",
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

// None of the four secrets is needed to start: the image runs bare, as the
// course runs it, with what needs a missing one switched off.
func TestSecretsMayBeUnset(t *testing.T) {
	for _, environ := range [][]string{
		nil,
		{"CATALOG_SERVICE_TOKEN=", "PAYMENT_API_KEY=", "WEBHOOK_SECRET=", "BOOKING_ADMIN_TOKEN="},
		secrets[:1],
		secrets[1:],
	} {
		cfg := service.DefaultConfig()
		if err := config.Load(&cfg, environ); err != nil {
			t.Errorf("%q: %v", environ, err)
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

	base, stop := start(t, cfg, io.Discard)
	get := func(path string, header ...string) (int, string) {
		return call(t, http.MethodGet, base+path, "", header...)
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
	began := time.Now()
	resp, err := http.Post(base+"/v1/bookings", "application/json", strings.NewReader(
		`{"departure_id":"0195f0a8-3c4e-7c35-9b1e-1f2a3b4c5d6e","seats":1,"customer":{"name":"Ana","email":"ana@example.com"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || time.Since(began) > 10*time.Second {
		t.Fatalf("create with the catalog down: %d after %s", resp.StatusCode, time.Since(began))
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "http_requests_total") {
		t.Fatalf("/metrics: %d", code)
	}

	stop()
}

func TestRunRefusesABadConfigBeforeOpeningAnything(t *testing.T) {
	cfg := service.DefaultConfig()
	cfg.SQLitePath = t.TempDir() + "/booking.db"
	cfg.CatalogServiceToken, cfg.WebhookSecret = "has a space in it", ","
	err := service.Run(context.Background(), app.Build{}, cfg, io.Discard, nil)
	if config.ExitCode(err) != 2 || !strings.Contains(err.Error(), "CATALOG_SERVICE_TOKEN") || !strings.Contains(err.Error(), "WEBHOOK_SECRET") {
		t.Fatalf("got %v, want a configuration error naming the invalid secrets", err)
	}
	if _, serr := os.Stat(cfg.SQLitePath); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the database was opened: %v", serr)
	}
}

// Without its secrets booking serves (ready: readiness is about the
// database) and reads bookings; each part a missing secret switches off
// answers 503 not_configured naming the variable, and the start-up log
// says what is off, once per variable.
func TestRunWithoutSecrets(t *testing.T) {
	cfg := service.DefaultConfig()
	cfg.Port = 0
	cfg.SQLitePath = t.TempDir() + "/booking.db"
	var logs bytes.Buffer
	base, stop := start(t, cfg, &logs)

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := call(t, "GET", base+path, ""); code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if code, _ := call(t, "GET", base+"/v1/bookings/"+uuid.NewString(), ""); code != 404 {
		t.Fatalf("a read by id: %d, want 404", code)
	}
	booking := "/v1/bookings/" + uuid.NewString()
	for _, tc := range []struct{ method, path, variable string }{
		{"POST", "/v1/bookings", "CATALOG_SERVICE_TOKEN"},
		{"POST", booking + "/payments", "PAYMENT_API_KEY"},
		{"POST", "/v1/webhooks/payments", "WEBHOOK_SECRET"},
		{"GET", "/v1/bookings", "BOOKING_ADMIN_TOKEN"},
	} {
		code, body := call(t, tc.method, base+tc.path, `{}`, "Authorization", "Bearer admin-token-0123456789")
		var p struct{ Code, Detail string }
		_ = json.Unmarshal([]byte(body), &p)
		if code != 503 || p.Code != "not_configured" || !strings.Contains(p.Detail, tc.variable) {
			t.Errorf("%s %s: %d %s, want 503 not_configured naming %s", tc.method, tc.path, code, body, tc.variable)
		}
	}

	stop()
	var warned []string
	for line := range strings.Lines(logs.String()) {
		var entry struct{ Level, Msg, Variable string }
		if json.Unmarshal([]byte(line), &entry) == nil && entry.Level == "WARN" && entry.Variable != "" {
			if !strings.HasPrefix(entry.Msg, entry.Variable+" is not set: ") || !strings.HasSuffix(entry.Msg, "; see .env.example") {
				t.Errorf("warning %q", entry.Msg)
			}
			warned = append(warned, entry.Variable)
		}
	}
	want := []string{"CATALOG_SERVICE_TOKEN", "PAYMENT_API_KEY", "WEBHOOK_SECRET", "BOOKING_ADMIN_TOKEN"}
	if !slices.Equal(warned, want) {
		t.Fatalf("warnings for %q, want one each for %q", warned, want)
	}
}

// start runs the service on cfg (Port 0: a free port) with its log in logs,
// and returns its base URL and a function that stops it and waits. logs may
// be read once stop has returned.
func start(t *testing.T, cfg service.Config, logs io.Writer) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, app.Build{Version: "test"}, cfg, logs, func(a net.Addr) { addrs <- a })
	}()
	select {
	case a := <-addrs:
		base = "http://" + a.String()
	case err := <-done:
		cancel()
		t.Fatalf("Run ended: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("not listening after 10s")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
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
	t.Cleanup(stop)
	return base, stop
}

// call sends a request with an optional JSON body; headers come as name,
// value pairs.
func call(t *testing.T, method, url, body string, header ...string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}
