package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/api"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/store"
)

const (
	adminToken   = "admin-token-0123456789"
	serviceToken = "service-token-0123456789"
)

// clock is the handlers' "now", moved by tests to expire holds.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type env struct {
	t     *testing.T
	h     http.Handler
	clock *clock
	gdb   *gorm.DB
}

func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if err := store.Migrate(t.Context(), gdb); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv := httpserver.New(httpserver.Config{}, log, health.New(time.Second), metrics.New("tour-catalog"))
		clk := &clock{now: time.Date(2027, 3, 15, 10, 0, 0, 0, time.UTC)}
		api.New(store.New(gdb), log, clk.Now).Register(srv.Engine, api.Tokens{Admin: []string{adminToken}, Service: []string{serviceToken}})
		fn(t, &env{t: t, h: srv.Engine, clock: clk, gdb: gdb})
	})
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (e *env) do(method, path, token, body string) response {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	res := response{Status: rec.Code, Header: rec.Header(), Raw: rec.Body.String()}
	if strings.HasPrefix(rec.Body.String(), "{") {
		if err := json.Unmarshal(rec.Body.Bytes(), &res.Body); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q", method, path, rec.Body)
		}
	}
	return res
}

// want asserts the status and, for errors, the problem+json shape and code.
func (e *env) want(res response, status int, code string) response {
	e.t.Helper()
	if res.Status != status {
		e.t.Fatalf("status %d, want %d: %s", res.Status, status, res.Raw)
	}
	if status >= 400 {
		if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
			e.t.Fatalf("content type %q for an error", ct)
		}
		if res.Body["code"] != code || int(res.Body["status"].(float64)) != status || res.Body["title"] == "" {
			e.t.Fatalf("problem %v, want code %s", res.Body, code)
		}
	}
	return res
}

const tourBody = `{"title":"Tour du Mont-Blanc","summary":"Around the massif","destination":"Chamonix",
 "duration_days":7,"difficulty":"hard","price":{"amount":129000,"currency":"EUR"},"max_group_size":12}`

func (e *env) createTour(body string) string {
	e.t.Helper()
	res := e.want(e.do("POST", "/v1/tours", adminToken, body), 201, "")
	return res.Body["id"].(string)
}

func (e *env) createDeparture(tourID, startsOn string, capacity int) string {
	e.t.Helper()
	res := e.want(e.do("POST", "/v1/tours/"+tourID+"/departures", adminToken,
		fmt.Sprintf(`{"starts_on":%q,"capacity":%d}`, startsOn, capacity)), 201, "")
	return res.Body["id"].(string)
}

func TestTourEndpoints(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.createTour(tourBody)
		got := e.want(e.do("GET", "/v1/tours/tour-du-mont-blanc", "", ""), 200, "")
		if got.Body["id"] != id || got.Body["price"].(map[string]any)["amount"].(float64) != 129000 {
			t.Fatalf("by slug: %v", got.Body)
		}
		e.want(e.do("GET", "/v1/tours/"+id, "", ""), 200, "")
		e.want(e.do("POST", "/v1/tours", adminToken, tourBody), 409, "slug_taken")
		e.want(e.do("POST", "/v1/tours", "", tourBody), 401, "unauthorized")
		e.want(e.do("POST", "/v1/tours", serviceToken, tourBody), 401, "unauthorized")
		e.want(e.do("POST", "/v1/tours", adminToken, `{"title":`), 400, "malformed_json")
		bad := e.want(e.do("POST", "/v1/tours", adminToken, `{"title":"x","duration_days":0,"difficulty":"extreme","price":{"amount":-1,"currency":"eur"}}`), 422, "validation_failed")
		fields := map[string]bool{}
		for _, f := range bad.Body["errors"].([]any) {
			fields[f.(map[string]any)["field"].(string)] = true
		}
		for _, f := range []string{"title", "duration_days", "difficulty", "price.amount", "destination", "max_group_size"} {
			if !fields[f] {
				t.Errorf("no error for field %s in %v", f, bad.Body["errors"])
			}
		}

		patched := e.want(e.do("PATCH", "/v1/tours/"+id, adminToken, `{"summary":"Eleven days around the massif"}`), 200, "")
		if patched.Body["summary"] != "Eleven days around the massif" || patched.Body["title"] != "Tour du Mont-Blanc" {
			t.Fatalf("patch: %v", patched.Body)
		}
		e.want(e.do("PATCH", "/v1/tours/"+id, adminToken, `{"duration_days":"long"}`), 422, "validation_failed")
		e.want(e.do("PATCH", "/v1/tours/"+uuid.NewString(), adminToken, `{"summary":"x"}`), 404, "not_found")
		e.want(e.do("PATCH", "/v1/tours/not-a-uuid", adminToken, `{"summary":"x"}`), 404, "not_found")
		e.want(e.do("GET", "/v1/tours/no-such-tour", "", ""), 404, "not_found")

		archived := e.want(e.do("DELETE", "/v1/tours/"+id, adminToken, ""), 200, "")
		if archived.Body["archived_at"] == nil {
			t.Fatalf("archive: %v", archived.Body)
		}
		list := e.want(e.do("GET", "/v1/tours", "", ""), 200, "")
		if n := len(list.Body["data"].([]any)); n != 0 {
			t.Fatalf("an archived tour is listed: %v", list.Body)
		}
		e.want(e.do("GET", "/v1/tours/"+id, "", ""), 200, "")
		e.want(e.do("PATCH", "/v1/tours/"+id, adminToken, `{"summary":"x"}`), 409, "tour_archived")
	})
}

func TestSearchAndPagination(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		for i, dest := range []string{"Chamonix", "Lisbon", "Chamonix", "Reykjavik", "Lisbon"} {
			id := e.createTour(fmt.Sprintf(`{"title":"Tour number %d","destination":%q,"duration_days":3,
				"difficulty":"easy","price":{"amount":%d,"currency":"EUR"},"max_group_size":10}`, i, dest, 10000*(i+1)))
			e.createDeparture(id, "2027-06-0"+fmt.Sprint(i+1), 5)
		}
		res := e.want(e.do("GET", "/v1/tours?destination=lisbon&sort=-price", "", ""), 200, "")
		data := res.Body["data"].([]any)
		if len(data) != 2 || data[0].(map[string]any)["title"] != "Tour number 4" {
			t.Fatalf("destination filter and sort: %v", data)
		}
		res = e.want(e.do("GET", "/v1/tours?min_price=20000&max_price=40000", "", ""), 200, "")
		if n := len(res.Body["data"].([]any)); n != 3 {
			t.Fatalf("price range: %d tours", n)
		}
		res = e.want(e.do("GET", "/v1/tours?date_from=2027-06-02&date_to=2027-06-03", "", ""), 200, "")
		if n := len(res.Body["data"].([]any)); n != 2 {
			t.Fatalf("date range: %d tours", n)
		}
		res = e.want(e.do("GET", "/v1/tours?q=NUMBER%203", "", ""), 200, "")
		if n := len(res.Body["data"].([]any)); n != 1 {
			t.Fatalf("q: %d tours", n)
		}
		seen := map[string]bool{}
		path := "/v1/tours?limit=2&sort=price"
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			res = e.want(e.do("GET", path, "", ""), 200, "")
			for _, d := range res.Body["data"].([]any) {
				id := d.(map[string]any)["id"].(string)
				if seen[id] {
					t.Fatalf("tour %s on two pages", id)
				}
				seen[id] = true
			}
			next, _ := res.Body["next_cursor"].(string)
			if next == "" {
				break
			}
			path = "/v1/tours?limit=2&sort=price&cursor=" + next
		}
		if len(seen) != 5 {
			t.Fatalf("pagination returned %d of 5 tours", len(seen))
		}
		for _, q := range []string{"sort=rating", "limit=0", "limit=101", "min_price=abc", "min_price=5&max_price=1", "date_from=2027-13-01", "cursor=garbage"} {
			e.want(e.do("GET", "/v1/tours?"+q, "", ""), 422, "validation_failed")
		}
	})
}

func TestDepartureEndpoints(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tour := e.createTour(tourBody)
		dep := e.createDeparture(tour, "2027-06-01", 16)
		got := e.want(e.do("GET", "/v1/departures/"+dep, "", ""), 200, "")
		if got.Body["seats_available"].(float64) != 16 || got.Body["capacity"].(float64) != 16 || got.Body["starts_on"] != "2027-06-01" {
			t.Fatalf("departure: %v", got.Body)
		}
		priced := e.want(e.do("POST", "/v1/tours/"+tour+"/departures", adminToken,
			`{"starts_on":"2027-07-01","capacity":8,"price":{"amount":99000,"currency":"EUR"}}`), 201, "")
		if priced.Body["price"].(map[string]any)["amount"].(float64) != 99000 {
			t.Fatalf("price override: %v", priced.Body)
		}
		list := e.want(e.do("GET", "/v1/tours/"+tour+"/departures", "", ""), 200, "")
		if n := len(list.Body["data"].([]any)); n != 2 {
			t.Fatalf("departures: %d", n)
		}
		detail := e.want(e.do("GET", "/v1/tours/"+tour, "", ""), 200, "")
		if n := len(detail.Body["departures"].([]any)); n != 2 {
			t.Fatalf("tour detail departures: %d", n)
		}
		e.want(e.do("POST", "/v1/tours/"+tour+"/departures", adminToken, `{"starts_on":"2020-01-01","capacity":0}`), 422, "validation_failed")
		e.want(e.do("POST", "/v1/tours/"+tour+"/departures", adminToken, `{"starts_on":"1 June","capacity":5}`), 422, "validation_failed")
		e.want(e.do("POST", "/v1/tours/"+uuid.NewString()+"/departures", adminToken, `{"starts_on":"2027-06-01","capacity":5}`), 404, "not_found")
		e.want(e.do("POST", "/v1/tours/"+tour+"/departures", "", `{"starts_on":"2027-06-01","capacity":5}`), 401, "unauthorized")
		e.want(e.do("GET", "/v1/departures/"+uuid.NewString(), "", ""), 404, "not_found")
		e.want(e.do("GET", "/v1/tours/"+uuid.NewString()+"/departures", "", ""), 404, "not_found")
	})
}

func TestHoldEndpoints(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		dep := e.createDeparture(e.createTour(tourBody), "2027-06-01", 4)
		booking := uuid.NewString()
		body := fmt.Sprintf(`{"booking_id":%q,"seats":3,"ttl_seconds":600}`, booking)
		hold := e.want(e.do("POST", "/v1/departures/"+dep+"/holds", serviceToken, body), 201, "")
		if hold.Body["status"] != "held" || hold.Body["unit_price"].(map[string]any)["amount"].(float64) != 129000 || hold.Body["total"].(map[string]any)["amount"].(float64) != 387000 {
			t.Fatalf("hold: %v", hold.Body)
		}
		holdID := hold.Body["id"].(string)
		replay := e.want(e.do("POST", "/v1/departures/"+dep+"/holds", serviceToken, body), 200, "")
		if replay.Body["id"] != holdID {
			t.Fatalf("replay returned another hold: %v", replay.Body)
		}
		e.want(e.do("POST", "/v1/departures/"+dep+"/holds", serviceToken,
			fmt.Sprintf(`{"booking_id":%q,"seats":2}`, uuid.NewString())), 409, "seats_unavailable")
		e.want(e.do("POST", "/v1/departures/"+dep+"/holds", adminToken, body), 401, "unauthorized")
		e.want(e.do("POST", "/v1/departures/"+dep+"/holds", serviceToken, `{"booking_id":"nope","seats":0}`), 422, "validation_failed")
		e.want(e.do("POST", "/v1/departures/"+uuid.NewString()+"/holds", serviceToken,
			fmt.Sprintf(`{"booking_id":%q,"seats":1}`, uuid.NewString())), 404, "not_found")

		confirmed := e.want(e.do("POST", "/v1/holds/"+holdID+"/confirm", serviceToken, ""), 200, "")
		if confirmed.Body["status"] != "confirmed" {
			t.Fatalf("confirm: %v", confirmed.Body)
		}
		e.want(e.do("POST", "/v1/holds/"+holdID+"/confirm", serviceToken, ""), 200, "")
		released := e.want(e.do("POST", "/v1/holds/"+holdID+"/release", serviceToken, ""), 200, "")
		if released.Body["status"] != "released" {
			t.Fatalf("release: %v", released.Body)
		}
		e.want(e.do("POST", "/v1/holds/"+holdID+"/release", serviceToken, ""), 200, "")
		e.want(e.do("POST", "/v1/holds/"+holdID+"/confirm", serviceToken, ""), 409, "hold_released")
		d := e.want(e.do("GET", "/v1/departures/"+dep, "", ""), 200, "")
		if d.Body["seats_reserved"].(float64) != 0 {
			t.Fatalf("seats not given back exactly once: %v", d.Body)
		}

		short := e.want(e.do("POST", "/v1/departures/"+dep+"/holds", serviceToken,
			fmt.Sprintf(`{"booking_id":%q,"seats":1,"ttl_seconds":60}`, uuid.NewString())), 201, "")
		e.clock.Advance(2 * time.Minute)
		e.want(e.do("POST", "/v1/holds/"+short.Body["id"].(string)+"/confirm", serviceToken, ""), 409, "hold_expired")
		e.want(e.do("POST", "/v1/holds/"+uuid.NewString()+"/confirm", serviceToken, ""), 404, "not_found")
		e.want(e.do("POST", "/v1/holds/"+uuid.NewString()+"/release", serviceToken, ""), 404, "not_found")
	})
}

func TestConcurrentHoldsOverHTTP(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		dep := e.createDeparture(e.createTour(tourBody), "2027-06-01", 10)
		var wg sync.WaitGroup
		statuses := make(chan int, 100)
		for range 100 {
			wg.Go(func() {
				req := httptest.NewRequest("POST", "/v1/departures/"+dep+"/holds",
					strings.NewReader(fmt.Sprintf(`{"booking_id":%q,"seats":1}`, uuid.NewString())))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+serviceToken)
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				statuses <- rec.Code
			})
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[201] != 10 || count[409] != 90 {
			t.Fatalf("statuses %v, want 10×201 and 90×409", count)
		}
		d := e.want(e.do("GET", "/v1/departures/"+dep, "", ""), 200, "")
		if d.Body["seats_reserved"].(float64) != 10 || d.Body["seats_available"].(float64) != 0 {
			t.Fatalf("departure after the race: %v", d.Body)
		}
	})
}
