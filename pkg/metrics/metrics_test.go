package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/metrics"
)

// server is a gin engine with m's middleware, two routes and /metrics;
// without the middleware when middleware is false.
func server(m *metrics.Metrics, middleware bool) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	if middleware {
		e.Use(m.Middleware())
	}
	e.GET("/tours/:id", func(c *gin.Context) { c.Status(http.StatusOK) })
	e.POST("/tours", func(c *gin.Context) { c.Status(http.StatusCreated) })
	e.GET("/metrics", gin.WrapH(m.Handler()))
	return e
}

func serve(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestMiddlewareRecordsRoutePattern(t *testing.T) {
	m := metrics.New("tour-catalog")
	e := server(m, true)
	for _, r := range []struct{ method, path string }{
		{"GET", "/tours/1"}, {"GET", "/tours/2"}, {"POST", "/tours"}, {"GET", "/no/such/path"}, {"GET", "/tours/3"},
		{"BREW", "/no/such/path"}, {"X-ANY-TOKEN", "/tours"},
	} {
		serve(e, r.method, r.path)
	}
	got := text(t, m.Registry)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/tours/:id",service="tour-catalog",status="200"} 3`,
		`http_requests_total{method="POST",route="/tours",service="tour-catalog",status="201"} 1`,
		`http_requests_total{method="GET",route="unmatched",service="tour-catalog",status="404"} 1`,
		`http_requests_total{method="other",route="unmatched",service="tour-catalog",status="404"} 2`,
		`http_request_duration_seconds_count{method="GET",route="/tours/:id",service="tour-catalog"} 3`,
		`http_request_duration_seconds_bucket{method="GET",route="unmatched",service="tour-catalog",le="+Inf"} 1`,
		"# HELP http_request_duration_seconds HTTP request latency, by method and route.",
		"# HELP http_requests_total HTTP requests served, by method, route and status.",
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(got, "/tours/1") || strings.Contains(got, "/no/such/path") || strings.Contains(got, "BREW") {
		t.Errorf("a raw path became a label:\n%s", got)
	}
	if n := strings.Count(got, `le="0.0025"`); n != 4 {
		t.Errorf("%d histogram series, want 4 (one per method and route)", n)
	}
}

func TestHandler(t *testing.T) {
	m := metrics.New("booking")
	h := m.Handler()
	for _, tc := range []struct {
		method   string
		status   int
		wantBody bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
		{http.MethodPost, http.StatusMethodNotAllowed, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			rec := serve(h, tc.method, "/metrics")
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d", rec.Code, tc.status)
			}
			if tc.status != http.StatusOK {
				if allow := rec.Header().Get("Allow"); allow != "GET, HEAD" {
					t.Errorf("Allow %q", allow)
				}
				return
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			body := rec.Body.String()
			if got := strings.Contains(body, "# TYPE go_goroutines gauge\n"); got != tc.wantBody {
				t.Errorf("body has go_goroutines: %v, want %v:\n%s", got, tc.wantBody, body)
			}
		})
	}
}

func TestRuntimeMetrics(t *testing.T) {
	got := text(t, metrics.New("payment-gateway").Registry)
	want := []string{"go_goroutines", "go_memstats_heap_alloc_bytes"}
	if _, err := os.Stat("/proc/self/stat"); err == nil {
		want = append(want, "process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds")
	}
	for _, name := range want {
		var value string
		for line := range strings.Lines(got) {
			if v, ok := strings.CutPrefix(line, name+" "); ok {
				value = strings.TrimSpace(v)
			}
		}
		if value == "" || value == "NaN" || (value == "0" && name != "process_cpu_seconds_total") {
			t.Errorf("%s = %q", name, value)
		}
	}
}

// BenchmarkMiddleware is a request through gin with and without the
// middleware's work; the difference is what metrics cost per request.
func BenchmarkMiddleware(b *testing.B) {
	for _, middleware := range []bool{false, true} {
		b.Run(map[bool]string{false: "without", true: "with"}[middleware], func(b *testing.B) {
			e := server(metrics.New("bench"), middleware)
			req := httptest.NewRequest(http.MethodGet, "/tours/42", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(w, req)
			}
		})
	}
}
