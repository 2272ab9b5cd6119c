package httpserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/problem"
)

type payload struct {
	Name  string `json:"name"`
	Seats int    `json:"seats"`
}

func newServer(t *testing.T, logs io.Writer, cfg httpserver.Config) *httpserver.Server {
	t.Helper()
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httpserver.New(cfg, log, health.New(time.Second), metrics.New("test"))
	srv.Engine.GET("/panic", func(c *gin.Context) { panic("secret internal detail") })
	srv.Engine.POST("/echo", func(c *gin.Context) {
		var p payload
		if err := httpserver.DecodeJSON(c, &p); err != nil {
			problem.Write(c, err.(*problem.Problem))
			return
		}
		c.JSON(http.StatusOK, p)
	})
	srv.Engine.POST("/private", httpserver.RequireBearer("old-token", "new-token"), func(c *gin.Context) { c.Status(http.StatusNoContent) })
	srv.Engine.POST("/action", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	return srv
}

func do(t *testing.T, h http.Handler, method, path, contentType, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body == "" {
		req = httptest.NewRequest(method, path, nil)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func problemOf(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != problem.ContentType {
		t.Fatalf("content type %q, want %q (body %s)", ct, problem.ContentType, rec.Body)
	}
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("problem body: %v", err)
	}
	if int(m["status"].(float64)) != rec.Code {
		t.Fatalf("status member %v differs from HTTP status %d", m["status"], rec.Code)
	}
	return m
}

func TestErrorResponses(t *testing.T) {
	big := `{"name":"` + strings.Repeat("x", httpserver.DefaultBodyLimit) + `"}`
	cases := []struct {
		name, method, path, ctype, body string
		header                          []string
		status                          int
		code                            string
	}{
		{"panic", "GET", "/panic", "", "", nil, 500, "internal_error"},
		{"unknown route", "GET", "/nope", "", "", nil, 404, "not_found"},
		{"wrong method", "DELETE", "/echo", "", "", nil, 405, "method_not_allowed"},
		{"malformed json", "POST", "/echo", "application/json", `{"name":`, nil, 400, "malformed_json"},
		{"not an object", "POST", "/echo", "application/json", `[1,2]`, nil, 400, "malformed_json"},
		{"two values", "POST", "/echo", "application/json", `{} {}`, nil, 400, "malformed_json"},
		{"empty body", "POST", "/echo", "application/json", `   `, nil, 400, "malformed_json"},
		{"wrong type", "POST", "/echo", "application/json", `{"seats":"two"}`, nil, 422, "validation_failed"},
		{"overflow", "POST", "/echo", "application/json", `{"seats":99999999999999999999}`, nil, 422, "validation_failed"},
		{"unknown field", "POST", "/echo", "application/json", `{"seat":2}`, nil, 422, "validation_failed"},
		{"too large", "POST", "/echo", "application/json", big, nil, 413, "payload_too_large"},
		{"wrong media type", "POST", "/echo", "text/plain", `{"name":"a"}`, nil, 415, "unsupported_media_type"},
		{"no media type", "POST", "/echo", "", `{"name":"a"}`, nil, 415, "unsupported_media_type"},
		{"no token", "POST", "/private", "", "", nil, 401, "unauthorized"},
		{"wrong token", "POST", "/private", "", "", []string{"Authorization", "Bearer nope"}, 401, "unauthorized"},
		{"wrong scheme", "POST", "/private", "", "", []string{"Authorization", "Basic old-token"}, 401, "unauthorized"},
	}
	var logs bytes.Buffer
	srv := newServer(t, &logs, httpserver.Config{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(t, srv.Engine, tc.method, tc.path, tc.ctype, tc.body, tc.header...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (body %.200s)", rec.Code, tc.status, rec.Body)
			}
			p := problemOf(t, rec)
			if p["code"] != tc.code {
				t.Fatalf("code %v, want %s", p["code"], tc.code)
			}
			if strings.Contains(rec.Body.String(), "secret internal detail") || strings.Contains(rec.Body.String(), "goroutine") {
				t.Fatalf("the body leaks internals: %s", rec.Body)
			}
		})
	}
	if !strings.Contains(logs.String(), "secret internal detail") {
		t.Error("the panic must be logged")
	}
}

func TestSuccessPaths(t *testing.T) {
	srv := newServer(t, io.Discard, httpserver.Config{})
	rec := do(t, srv.Engine, "POST", "/echo", "application/json; charset=utf-8", `{"name":"Alps","seats":2}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"seats":2`) {
		t.Fatalf("echo: %d %s", rec.Code, rec.Body)
	}
	for _, tok := range []string{"old-token", "new-token"} {
		if rec := do(t, srv.Engine, "POST", "/private", "", "", "Authorization", "Bearer "+tok); rec.Code != 204 {
			t.Fatalf("token %s: %d", tok, rec.Code)
		}
	}
	if rec := do(t, srv.Engine, "POST", "/action", "", ""); rec.Code != 204 {
		t.Fatalf("a POST without a body needs no content type: %d", rec.Code)
	}
	rec = do(t, srv.Engine, "GET", "/metrics", "", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `http_requests_total{method="POST",route="/echo",service="test",status="200"} 1`) {
		t.Fatalf("metrics: %d %.2000s", rec.Code, rec.Body)
	}
	if !strings.Contains(rec.Body.String(), "go_goroutines") || !strings.Contains(rec.Body.String(), "process_") {
		t.Fatal("metrics lack the Go and process collectors")
	}
}

func TestRequestID(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, &logs, httpserver.Config{})
	rec := do(t, srv.Engine, "GET", "/healthz", "", "", "X-Request-ID", "abc-123")
	if got := rec.Header().Get("X-Request-ID"); got != "abc-123" {
		t.Fatalf("echoed id %q", got)
	}
	if !strings.Contains(logs.String(), `"request_id":"abc-123"`) {
		t.Fatalf("access log lacks the id: %s", logs.String())
	}
	rec = do(t, srv.Engine, "GET", "/healthz", "", "", "X-Request-ID", "bad id\twith spaces")
	if got := rec.Header().Get("X-Request-ID"); got == "" || strings.ContainsAny(got, " \t") {
		t.Fatalf("an unsafe id must be replaced, got %q", got)
	}
}

func TestGracefulShutdown(t *testing.T) {
	srv := newServer(t, io.Discard, httpserver.Config{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second, ShutdownDelay: 300 * time.Millisecond})
	release := make(chan struct{})
	srv.Engine.GET("/slow", func(c *gin.Context) {
		<-release
		c.String(http.StatusOK, "done")
	})
	ctx, cancel := context.WithCancel(context.Background())
	addrCh := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run(ctx, func(a net.Addr) { addrCh <- a }) }()
	base := "http://" + (<-addrCh).String()

	slowResult := make(chan string, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slowResult <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slowResult <- string(b)
	}()
	waitFor(t, func() bool { return get(base+"/readyz") == 200 })
	time.Sleep(50 * time.Millisecond) // let /slow arrive
	cancel()
	// During the delay the listener is open and readiness says 503.
	waitFor(t, func() bool { return get(base+"/readyz") == 503 })
	close(release)
	if got := <-slowResult; got != "done" {
		t.Fatalf("the in-flight request did not finish: %q", got)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if code := get(base + "/healthz"); code != 0 {
		t.Fatalf("still serving after shutdown: %d", code)
	}
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMapper(t *testing.T) {
	errSold := errors.New("not enough seats left")
	var logs bytes.Buffer
	m := problem.NewMapper(slog.New(slog.NewTextHandler(&logs, nil)), problem.Rule{Err: errSold, Status: 409, Code: "seats_unavailable"})
	ctx := context.Background()
	if p := m.Problem(ctx, errors.Join(errors.New("ctx"), errSold)); p.Status != 409 || p.Code != "seats_unavailable" || p.Detail != "not enough seats left" {
		t.Fatalf("mapped: %+v", p)
	}
	p := m.Problem(ctx, errors.New("db password=hunter2 refused"))
	if p.Status != 500 || strings.Contains(p.Detail, "hunter2") {
		t.Fatalf("unknown error: %+v", p)
	}
	if !strings.Contains(logs.String(), "hunter2") {
		t.Fatal("the cause of a 500 must be logged")
	}
	body, _ := problem.New(402, "card_declined", "declined").With("decline_code", "insufficient_funds").MarshalJSON()
	if !strings.Contains(string(body), `"decline_code":"insufficient_funds"`) {
		t.Fatalf("extension missing: %s", body)
	}
}

// With Pprof on, the named profiles answer: a goroutine dump is what one
// reaches for when a service hangs.
func TestPprofProfiles(t *testing.T) {
	srv := newServer(t, io.Discard, httpserver.Config{Pprof: true})
	for path, want := range map[string]string{
		"/debug/pprof/":                  "Types of profiles available",
		"/debug/pprof/goroutine?debug=1": "goroutine profile:",
		"/debug/pprof/heap?debug=1":      "heap profile:",
	} {
		rec := do(t, srv.Engine, http.MethodGet, path, "", "")
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d %.80q, want 200 with %q", path, rec.Code, rec.Body.String(), want)
		}
	}
	if rec := do(t, newServer(t, io.Discard, httpserver.Config{}).Engine, http.MethodGet, "/debug/pprof/goroutine", "", ""); rec.Code != http.StatusNotFound {
		t.Errorf("pprof off: GET /debug/pprof/goroutine = %d, want 404", rec.Code)
	}
}

// The access log's level says who must act: ERROR for a bug (500), WARN
// for a dependency that is not there (502, 503, 504), DEBUG for a probe
// that answered, INFO for the rest.
func TestAccessLogLevels(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	cases := []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/x", http.StatusOK, "INFO"},
		{"/v1/x", http.StatusNotFound, "INFO"},
		{"/v1/x", http.StatusInternalServerError, "ERROR"},
		{"/v1/x", http.StatusServiceUnavailable, "WARN"},
		{"/v1/x", http.StatusBadGateway, "WARN"},
		{"/v1/x", http.StatusGatewayTimeout, "WARN"},
		{"/readyz", http.StatusOK, "DEBUG"},
		{"/readyz", http.StatusServiceUnavailable, "WARN"},
	}
	for _, tc := range cases {
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		e := gin.New()
		e.Use(httpserver.AccessLog(log))
		e.GET(tc.path, func(c *gin.Context) { c.Status(tc.status) })
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, tc.path, nil))
		var line struct {
			Level  string `json:"level"`
			Status int    `json:"status"`
		}
		if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
			t.Fatalf("%s %d: log %q: %v", tc.path, tc.status, logs.String(), err)
		}
		if line.Level != tc.want || line.Status != tc.status {
			t.Errorf("%s %d: logged at %s (status %d), want %s", tc.path, tc.status, line.Level, line.Status, tc.want)
		}
	}
}
