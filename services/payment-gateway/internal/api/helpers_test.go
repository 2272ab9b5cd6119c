package api

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// The merchant keys: two, as during a rotation.
const (
	testKey    = "sk_test_apitests_current"
	rotatedKey = "sk_test_apitests_previous"
)

// t0 is the tests' clock: fixed, so that expiry checks are deterministic.
var t0 = time.Date(2027, time.March, 15, 10, 0, 0, 0, time.UTC)

// env is the gateway's HTTP API on one database, with its logs captured.
type env struct {
	t     testing.TB
	h     http.Handler
	store *store.Store
	gdb   *gorm.DB
	logs  *lockedBuffer
}

func newEnv(t testing.TB, gdb *gorm.DB) *env {
	t.Helper()
	if err := store.Migrate(t.Context(), gdb, idempotency.Models()...); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpserver.New(httpserver.Config{}, log, health.New(time.Second), metrics.New("test"))
	st := store.New(gdb)
	New(st, log, func() time.Time { return t0 }).Register(srv.Engine, []string{testKey, rotatedKey}, idempotency.NewStore(gdb))
	return &env{t: t, h: srv.Engine, store: st, gdb: gdb, logs: logs}
}

// with returns a copy of e that reports to t: a fuzz target must not call
// the *testing.F it was built with.
func (e *env) with(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

// eachEnv runs fn once per database backend.
func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) { fn(t, newEnv(t, gdb)) })
}

type response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// do sends a request with the merchant key; header adds name, value pairs
// (an "Authorization" pair replaces the key).
func (e *env) do(method, path, body string, header ...string) response {
	e.t.Helper()
	var req *http.Request
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	} else {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// object decodes a JSON object response.
func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response %d is not a JSON object: %v: %s", r.Code, err, r.Body)
	}
	return m
}

// problem checks that r is a problem+json with status and code, and
// returns it.
func (r response) problem(t testing.TB, status int, code string) map[string]any {
	t.Helper()
	if r.Code != status {
		t.Fatalf("status %d, want %d: %s", r.Code, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("content type %q, want %s", ct, problem.ContentType)
	}
	p := r.object(t)
	if p["code"] != code || p["status"] != float64(status) {
		t.Fatalf("problem %v, want code %s and status %d", p, code, status)
	}
	return p
}

// fields lists the field names of a validation problem.
func fields(p map[string]any) []string {
	var out []string
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// createIntent makes an intent for amount EUR and returns its id.
func (e *env) createIntent(amount int64) string {
	e.t.Helper()
	r := e.do("POST", "/v1/payment_intents", `{"amount":`+itoa(amount)+`,"currency":"EUR","description":"Alps trek"}`)
	if r.Code != http.StatusCreated {
		e.t.Fatalf("create intent: %d %s", r.Code, r.Body)
	}
	return r.object(e.t)["id"].(string)
}

// confirm confirms intent id with a card.
func (e *env) confirm(id, number, cvc string, month, year int, header ...string) response {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"card": map[string]any{
		"number": number, "exp_month": month, "exp_year": year, "cvc": cvc,
	}})
	return e.do("POST", "/v1/payment_intents/"+id+"/confirm", string(body), header...)
}

// paidIntent makes a succeeded intent of amount and returns its id.
func (e *env) paidIntent(amount int64) string {
	e.t.Helper()
	id := e.createIntent(amount)
	if r := e.confirm(id, "4242424242424242", "123", 12, 2030); r.Code != http.StatusOK {
		e.t.Fatalf("confirm: %d %s", r.Code, r.Body)
	}
	return id
}

func (e *env) count(query string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.gdb.Raw(query, args...).Scan(&n).Error; err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// lockedBuffer collects log lines written from many goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
