package service_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/payment-gateway/service"
)

const apiKey = "sk_test_service_tests"

// merchant is a webhook receiver as booking runs one: it verifies the
// signature and answers 401 to a bad one.
type merchant struct {
	*httptest.Server
	down bool // answer 503 to everything

	mu  sync.Mutex
	got []received
}

type received struct {
	ID, Type, RequestID string
	Err                 error
	Status              int // what the merchant answered
}

func newMerchant(t *testing.T, secret string) *merchant {
	m := &merchant{}
	v := webhook.Verifier{Secrets: webhook.ParseSecrets(secret)}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct{ ID, Type string }
		_ = json.Unmarshal(body, &ev)
		rec := received{ID: ev.ID, Type: ev.Type, RequestID: r.Header.Get(requestid.Header), Err: v.Verify(r.Header.Get(webhook.Header), body)}
		m.mu.Lock()
		switch {
		case m.down:
			rec.Status = http.StatusServiceUnavailable
		case rec.Err != nil:
			rec.Status = http.StatusUnauthorized
		default:
			rec.Status = http.StatusNoContent
		}
		m.got = append(m.got, rec)
		m.mu.Unlock()
		w.WriteHeader(rec.Status)
	}))
	t.Cleanup(m.Close)
	return m
}

func (m *merchant) setDown(down bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.down = down
}

func (m *merchant) accepted() []received {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []received
	for _, r := range m.got {
		if r.Status == http.StatusNoContent {
			out = append(out, r)
		}
	}
	return out
}

// running is a gateway started with Run in this process.
type running struct {
	base string
	stop func() error
}

func start(t *testing.T, cfg service.Config) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- service.Run(ctx, app.Build{Version: "test"}, cfg, io.Discard, func(a net.Addr) { addr <- a })
	}()
	var r running
	select {
	case a := <-addr:
		r.base = "http://127.0.0.1:" + portOf(a)
	case err := <-done:
		cancel()
		t.Fatalf("Run returned at start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the gateway did not start")
	}
	stopped := false
	r.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = r.stop() })
	return &r
}

func portOf(a net.Addr) string {
	_, port, _ := net.SplitHostPort(a.String())
	return port
}

func (r *running) call(t *testing.T, method, path, body string, header ...string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, r.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
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
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// testConfig is a gateway on a loopback port of its own with db as its
// database, delivering to url.
func testConfig(t *testing.T, dbURL, sqlitePath, url string) service.Config {
	cfg := service.DefaultConfig()
	cfg.Port = 0
	cfg.DatabaseURL, cfg.SQLitePath = dbURL, sqlitePath
	cfg.DBMaxOpenConns, cfg.DBMaxIdleConns = 5, 5
	cfg.LogLevel, cfg.LogFormat = "info", "json"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.APIKeys = apiKey
	cfg.WebhookURL, cfg.WebhookSecret = url, "whsec_old,whsec_new"
	cfg.WebhookMaxAttempts = 20
	cfg.WebhookTimeout = 2 * time.Second
	cfg.WebhookInterval = 20 * time.Millisecond
	cfg.WebhookBackoffBase, cfg.WebhookBackoffMax = 10*time.Millisecond, 50*time.Millisecond
	cfg.WebhookConcurrency = 4
	return cfg
}

// eachDatabase runs fn with a fresh database per backend, as Config fields.
func eachDatabase(t *testing.T, fn func(t *testing.T, dbURL, sqlitePath string)) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			c := dbtest.Config(t, b)
			path := c.SQLitePath
			if c.URL == "" {
				path = filepath.Join(t.TempDir(), "gateway.db")
			}
			fn(t, c.URL, path)
		})
	}
}

// The whole service in-process: probes, a payment, its signed webhook
// carrying the request's id, and a clean stop.
func TestRunServesAndDelivers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL, sqlitePath string) {
		m := newMerchant(t, "whsec_new")
		gw := start(t, testConfig(t, dbURL, sqlitePath, m.URL))

		if code, body := gw.call(t, "GET", "/readyz", ""); code != 200 || body["status"] != "ok" {
			t.Fatalf("readyz: %d %v", code, body)
		}
		code, in := gw.call(t, "POST", "/v1/payment_intents", `{"amount":12900,"currency":"EUR"}`)
		if code != 201 {
			t.Fatalf("create: %d %v", code, in)
		}
		id := in["id"].(string)
		card := `{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2099,"cvc":"123"}}`
		if code, body := gw.call(t, "POST", "/v1/payment_intents/"+id+"/confirm", card, requestid.Header, "req-confirm-1"); code != 200 {
			t.Fatalf("confirm: %d %v", code, body)
		}
		waitFor(t, "the webhook", func() bool { return len(m.accepted()) == 1 })
		got := m.accepted()[0]
		if got.Type != "payment_intent.succeeded" || got.RequestID != "req-confirm-1" {
			t.Fatalf("webhook %+v", got)
		}
		waitFor(t, "the event marked delivered", func() bool {
			_, page := gw.call(t, "GET", "/v1/events", "")
			data, _ := page["data"].([]any)
			return len(data) == 1 && data[0].(map[string]any)["delivery"].(map[string]any)["state"] == "delivered"
		})
		resp, err := http.Get(gw.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		metrics, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(metrics), `webhook_delivery_attempts_total{outcome="delivered"} 1`) {
			t.Fatalf("metrics lack the delivery:\n%.3000s", metrics)
		}
		if err := gw.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}
	})
}

// Events written while the receiver is down survive a restart of the
// gateway and are delivered by the next process.
func TestRestartLosesNoEvent(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL, sqlitePath string) {
		m := newMerchant(t, "whsec_old")
		m.setDown(true)
		cfg := testConfig(t, dbURL, sqlitePath, m.URL)
		gw := start(t, cfg)
		var ids []string
		for range 5 {
			_, in := gw.call(t, "POST", "/v1/payment_intents", `{"amount":500,"currency":"EUR"}`)
			id := in["id"].(string)
			if code, _ := gw.call(t, "POST", "/v1/payment_intents/"+id+"/cancel", ""); code != 200 {
				t.Fatalf("cancel: %d", code)
			}
			ids = append(ids, id)
		}
		waitFor(t, "failed attempts", func() bool {
			m.mu.Lock()
			defer m.mu.Unlock()
			return len(m.got) >= 5
		})
		if err := gw.stop(); err != nil {
			t.Fatalf("stop: %v", err)
		}

		m.setDown(false)
		gw = start(t, cfg)
		waitFor(t, "every event after the restart", func() bool { return len(m.accepted()) >= len(ids) })
		seen := map[string]bool{}
		for _, r := range m.accepted() {
			if r.Type != "payment_intent.canceled" {
				t.Fatalf("webhook %+v", r)
			}
			seen[r.ID] = true
		}
		if len(seen) != len(ids) {
			t.Fatalf("%d distinct events delivered, want %d", len(seen), len(ids))
		}
	})
}

func TestRunStopsOnAnUnreachableDatabase(t *testing.T) {
	cfg := testConfig(t, "postgres://nobody:nothing@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := service.Run(ctx, app.Build{}, cfg, io.Discard, nil); err == nil {
		t.Fatal("Run started without a database")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
