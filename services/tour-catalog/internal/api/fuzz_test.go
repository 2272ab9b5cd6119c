package api_test

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/api"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/store"
)

// FuzzRequests sends arbitrary query strings to the search and arbitrary
// bodies to every write endpoint: whatever the input, the answer is never a
// 5xx (and the recovery middleware would turn a panic into one).
func FuzzRequests(f *testing.F) {
	f.Add("q=alps&sort=-price&limit=5", tourBody)
	f.Add("date_from=2027-01-01&date_to=2026-01-01", `{"title":"x","price":{"amount":1e309}}`)
	f.Add("cursor=eyJ9&min_price=-1", `{"starts_on":"2027-02-30","capacity":-5}`)
	f.Add("limit=99999999999999999999", `{"booking_id":"00000000-0000-0000-0000-000000000000","seats":3,"ttl_seconds":9223372036854775807}`)
	f.Add("q=%00%ff", "\x00{\"slug\":\"a--b\"}")

	gdb := dbtest.Open(f, dbtest.SQLite)
	if err := store.Migrate(f.Context(), gdb); err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httpserver.New(httpserver.Config{}, log, health.New(time.Second), metrics.New("fuzz"))
	api.New(store.New(gdb), log, time.Now).Register(srv.Engine, api.Tokens{Admin: []string{adminToken}, Service: []string{serviceToken}})

	f.Fuzz(func(t *testing.T, query, body string) {
		check := func(method, path, token, body string) {
			req := httptest.NewRequest(method, "/", nil)
			req.URL.Path = path
			req.URL.RawQuery = query
			if body != "" {
				req = httptest.NewRequest(method, "/", strings.NewReader(body))
				req.URL.Path = path
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+token)
			rec := httptest.NewRecorder()
			srv.Engine.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Fatalf("%s %s?%s with %q: %d %s", method, path, query, body, rec.Code, rec.Body)
			}
		}
		check("GET", "/v1/tours", "", "")
		check("POST", "/v1/tours", adminToken, body)
		check("PATCH", "/v1/tours/01a23cdf-15e1-74f9-a313-692b30c24f8e", adminToken, body)
		check("POST", "/v1/departures/01a23cdf-15e1-74f9-a313-692b30c24f8e/holds", serviceToken, body)
	})
}
