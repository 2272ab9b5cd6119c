package api_test

import (
	"bytes"
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

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/health"
	"github.com/tourism-go/tourism/pkg/httpserver"
	"github.com/tourism-go/tourism/pkg/idempotency"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/booking/internal/api"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/store"
	fakes "github.com/tourism-go/tourism/services/booking/internal/testutil"
)

const (
	adminToken = "admin-token-for-tests"
	secret     = "whsec_new"
	holdTTL    = 15 * time.Minute
)

var t0 = time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)

// syncBuffer collects the logs of concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is the API with the shared middleware, the real flow, store and
// idempotency middleware on SQLite, and fake peers.
type harness struct {
	t        *testing.T
	h        http.Handler
	clock    *fakes.Clock
	catalog  *fakes.Catalog
	payments *fakes.Payments
	store    *store.Store
	flow     *flow.Service
	gdb      *gorm.DB
	dep      uuid.UUID
	logs     *syncBuffer
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, features.Set{})
}

// newHarnessWith is newHarness with the parts in off switched off in the
// API only: the flow keeps its fakes, so a guard that let a request through
// would show as a call to a fake.
func newHarnessWith(t *testing.T, off features.Set) *harness {
	t.Helper()
	gdb := dbtest.Open(t, dbtest.SQLite)
	if err := store.Migrate(t.Context(), gdb); err != nil {
		t.Fatal(err)
	}
	if err := db.Migrate(t.Context(), gdb, idempotency.Models()); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clock := fakes.NewClock(t0)
	h := &harness{
		t: t, clock: clock, logs: logs,
		catalog:  fakes.NewCatalog(clock.Now),
		payments: fakes.NewPayments(clock.Now),
		store:    store.New(gdb),
		gdb:      gdb,
	}
	f, err := flow.New(h.store, h.catalog, h.payments, flow.Options{
		HoldTTL: holdTTL, HoldMargin: 2 * time.Minute, OperationTimeout: 5 * time.Second, Log: log, Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.flow = f
	srv := httpserver.New(httpserver.Config{}, log, health.New(time.Second), metrics.New("booking"))
	api.New(f, api.Config{
		Features:    off,
		AdminTokens: []string{adminToken},
		Webhooks:    webhook.Verifier{Secrets: webhook.ParseSecrets("whsec_old," + secret)},
		Idempotency: idempotency.New(idempotency.NewStore(gdb), idempotency.Options{Log: log}),
		Log:         log,
	}).Register(srv.Engine)
	h.h = srv.Engine
	h.dep = h.catalog.AddDeparture(4, booking.Money{Amount: 12900, Currency: "EUR"})
	return h
}

// do sends a request; headers come as name, value pairs.
func (h *harness) do(method, path, body string, headers ...string) *httptest.ResponseRecorder {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.h.ServeHTTP(rec, req)
	return rec
}

func (h *harness) createBody(seats int) string {
	return `{"departure_id":"` + h.dep.String() + `","seats":` + itoa(seats) + `,"customer":{"name":"Ana Lima","email":"ana@example.com"}}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// create books seats and returns the booking's JSON.
func (h *harness) create(seats int) map[string]any {
	h.t.Helper()
	rec := h.do("POST", "/v1/bookings", h.createBody(seats))
	if rec.Code != http.StatusCreated {
		h.t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	return decode(h.t, rec)
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
		t.Fatalf("decode %q: %v", rec.Body, err)
	}
	return m
}

// expectProblem checks an RFC 9457 answer with status and code, and returns it.
func expectProblem(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d: %s", rec.Code, status, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q", ct)
	}
	p := decode(t, rec)
	if p["code"] != code || p["status"] != float64(status) || p["type"] != "about:blank" || p["title"] == "" {
		t.Fatalf("problem %v, want status %d code %s", p, status, code)
	}
	return p
}

const goodCard = `{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}}`

func TestCreateBooking(t *testing.T) {
	h := newHarness(t)
	rec := h.do("POST", "/v1/bookings", h.createBody(2))
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	b := decode(t, rec)
	if rec.Header().Get("Location") != "/v1/bookings/"+b["id"].(string) {
		t.Fatalf("Location %q", rec.Header().Get("Location"))
	}
	want := map[string]any{
		"status": "awaiting_payment", "departure_id": h.dep.String(), "seats": 2.0,
		"customer":          map[string]any{"name": "Ana Lima", "email": "ana@example.com"},
		"total":             map[string]any{"amount": 25800.0, "currency": "EUR"},
		"hold_expires_at":   t0.Add(holdTTL).Format(time.RFC3339),
		"payment_intent_id": nil,
	}
	for k, v := range want {
		got, _ := json.Marshal(b[k])
		exp, _ := json.Marshal(v)
		if string(got) != string(exp) {
			t.Errorf("%s = %s, want %s", k, got, exp)
		}
	}
	for _, k := range []string{"id", "tour_id", "hold_id", "created_at", "updated_at"} {
		if s, _ := b[k].(string); s == "" {
			t.Errorf("%s missing", k)
		}
	}
	if history := b["history"].([]any); len(history) != 2 || history[1].(map[string]any)["status"] != "awaiting_payment" {
		t.Errorf("history %v", history)
	}
}

func TestCreateBookingErrors(t *testing.T) {
	tests := []struct {
		name    string
		body    func(h *harness) string
		headers []string
		setup   func(h *harness)
		status  int
		code    string
		fields  []string
		// booking: the answer names the booking it rejected.
		booking bool
	}{
		{name: "malformed JSON", body: func(*harness) string { return `{"seats":` }, status: 400, code: "malformed_json"},
		{name: "not JSON", body: func(h *harness) string { return h.createBody(1) }, headers: []string{"Content-Type", "text/plain"}, status: 415, code: "unsupported_media_type"},
		{name: "unknown field", body: func(h *harness) string { return `{"seatz":1}` }, status: 422, code: "validation_failed", fields: []string{"seatz"}},
		{name: "invalid fields", body: func(*harness) string {
			return `{"departure_id":"x","seats":0,"customer":{"name":"","email":"nope"}}`
		}, status: 422, code: "validation_failed", fields: []string{"departure_id", "seats", "customer.name", "customer.email"}},
		{name: "unknown departure", body: func(*harness) string {
			return `{"departure_id":"` + uuid.NewString() + `","seats":1,"customer":{"name":"A","email":"a@example.com"}}`
		}, status: 422, code: "departure_not_found"},
		{name: "sold out", body: func(h *harness) string { return h.createBody(5) }, status: 409, code: "seats_unavailable", booking: true},
		{name: "catalog down", body: func(h *harness) string { return h.createBody(1) }, setup: func(h *harness) {
			h.catalog.FailBefore(fakes.On(fakes.Down, fakes.CallPlaceHold, fakes.CallReleaseHold))
		}, status: 503, code: "upstream_unavailable", booking: true},
		{name: "catalog slow", body: func(h *harness) string { return h.createBody(1) }, setup: func(h *harness) {
			h.catalog.FailBefore(fakes.On(fakes.Slow, fakes.CallDeparture))
		}, status: 504, code: "upstream_unavailable"},
		{name: "body too large", body: func(*harness) string { return `{"x":"` + strings.Repeat("a", 1<<20) + `"}` }, status: 413, code: "payload_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			if tt.setup != nil {
				tt.setup(h)
			}
			rec := h.do("POST", "/v1/bookings", tt.body(h), tt.headers...)
			p := expectProblem(t, rec, tt.status, tt.code)
			var fields []string
			errs, _ := p["errors"].([]any)
			for _, e := range errs {
				fields = append(fields, e.(map[string]any)["field"].(string))
			}
			if strings.Join(fields, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields %v, want %v", fields, tt.fields)
			}
			if _, named := p["booking_id"]; named != tt.booking {
				t.Fatalf("booking_id in %v: %v, want %v", p, named, tt.booking)
			}
			if tt.booking {
				got := h.do("GET", "/v1/bookings/"+p["booking_id"].(string), "")
				if decode(t, got)["status"] != "rejected" {
					t.Fatalf("rejected booking: %s", got.Body)
				}
			}
		})
	}
}

func TestCreateBookingIdempotencyKey(t *testing.T) {
	h := newHarness(t)
	first := h.do("POST", "/v1/bookings", h.createBody(2), "Idempotency-Key", "k-1")
	again := h.do("POST", "/v1/bookings", h.createBody(2), "Idempotency-Key", "k-1")
	if first.Code != 201 || again.Code != 201 || first.Body.String() != again.Body.String() {
		t.Fatalf("replay: %d %d\n%s\n%s", first.Code, again.Code, first.Body, again.Body)
	}
	if again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatal("replay not marked")
	}
	if h.catalog.Reserved(h.dep) != 2 {
		t.Fatalf("reserved %d: the replay booked again", h.catalog.Reserved(h.dep))
	}
	expectProblem(t, h.do("POST", "/v1/bookings", h.createBody(1), "Idempotency-Key", "k-1"), 422, "idempotency_key_reused")
}

func TestGetBooking(t *testing.T) {
	h := newHarness(t)
	b := h.create(1)
	rec := h.do("GET", "/v1/bookings/"+b["id"].(string), "")
	if rec.Code != 200 || decode(t, rec)["id"] != b["id"] {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	expectProblem(t, h.do("GET", "/v1/bookings/"+uuid.NewString(), ""), 404, "not_found")
	expectProblem(t, h.do("GET", "/v1/bookings/not-a-uuid", ""), 404, "not_found")
}

func TestListBookings(t *testing.T) {
	h := newHarness(t)
	var ids []string
	for range 3 {
		ids = append(ids, h.create(1)["id"].(string))
	}
	other := `{"departure_id":"` + h.dep.String() + `","seats":1,"customer":{"name":"Bruno","email":"Bruno@Example.com"}}`
	if rec := h.do("POST", "/v1/bookings", other); rec.Code != 201 {
		t.Fatal(rec.Body)
	}
	bearer := []string{"Authorization", "Bearer " + adminToken}

	expectProblem(t, h.do("GET", "/v1/bookings", ""), 401, "unauthorized")
	expectProblem(t, h.do("GET", "/v1/bookings", "", "Authorization", "Bearer wrong"), 401, "unauthorized")

	// Walk the pages of Ana's bookings, two at a time: newest first, each once.
	var got []string
	path := "/v1/bookings?email=ana@example.com&limit=2"
	for range 3 {
		rec := h.do("GET", path, "", bearer...)
		if rec.Code != 200 {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		page := decode(t, rec)
		for _, b := range page["data"].([]any) {
			got = append(got, b.(map[string]any)["id"].(string))
		}
		next, ok := page["next_cursor"].(string)
		if !ok {
			if page["next_cursor"] != nil {
				t.Fatalf("next_cursor %v", page["next_cursor"])
			}
			break
		}
		path = "/v1/bookings?email=ana@example.com&limit=2&cursor=" + next
	}
	if strings.Join(got, ",") != strings.Join([]string{ids[2], ids[1], ids[0]}, ",") {
		t.Fatalf("pages gave %v, want %v newest first", got, ids)
	}

	rec := h.do("GET", "/v1/bookings?email=bruno@example.com&status=awaiting_payment", "", bearer...)
	if data := decode(t, rec)["data"].([]any); len(data) != 1 {
		t.Fatalf("email filter: %s", rec.Body)
	}
	rec = h.do("GET", "/v1/bookings?status=confirmed", "", bearer...)
	if page := decode(t, rec); len(page["data"].([]any)) != 0 || page["next_cursor"] != nil {
		t.Fatalf("status filter: %s", rec.Body)
	}
	for _, q := range []string{"status=paid", "limit=0", "limit=101", "limit=x", "cursor=abc"} {
		expectProblem(t, h.do("GET", "/v1/bookings?"+q, "", bearer...), 422, "validation_failed")
	}
}

func TestPayBooking(t *testing.T) {
	h := newHarness(t)
	id := h.create(2)["id"].(string)
	path := "/v1/bookings/" + id + "/payments"

	declined := h.do("POST", path, `{"card":{"number":"4000000000000002","exp_month":12,"exp_year":2030,"cvc":"123"}}`)
	p := expectProblem(t, declined, 402, "card_declined")
	if p["decline_code"] != "generic_decline" {
		t.Fatalf("decline_code %v", p["decline_code"])
	}
	expectProblem(t, h.do("POST", path, `{"card":{"number":"4242424242424241","exp_month":12,"exp_year":2030,"cvc":"123"}}`), 422, "validation_failed")
	expectProblem(t, h.do("POST", path, `{}`), 422, "validation_failed")

	rec := h.do("POST", path, goodCard, "Idempotency-Key", "pay-1")
	if rec.Code != 200 {
		t.Fatalf("pay: %d %s", rec.Code, rec.Body)
	}
	b := decode(t, rec)
	if b["status"] != "confirmed" || b["payment_intent_id"] == nil {
		t.Fatalf("paid: %v", b)
	}
	// A retry with the key replays the answer; without one it is refused.
	if again := h.do("POST", path, goodCard, "Idempotency-Key", "pay-1"); again.Code != 200 || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d", again.Code)
	}
	expectProblem(t, h.do("POST", path, goodCard), 409, "booking_not_payable")
	if n := h.payments.Charges(b["payment_intent_id"].(string)); n != 1 {
		t.Fatalf("%d charges", n)
	}
	expectProblem(t, h.do("POST", "/v1/bookings/"+uuid.NewString()+"/payments", goodCard), 404, "not_found")

	// The card reached neither the logs nor the database.
	var tables []string
	if err := h.gdb.Raw("SELECT name FROM sqlite_master WHERE type = 'table'").Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	var stored strings.Builder
	for _, table := range tables {
		var rows []map[string]any
		if err := h.gdb.Table(table).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			for _, v := range row {
				if b, ok := v.([]byte); ok {
					v = string(b)
				}
				fmt.Fprintln(&stored, v)
			}
		}
	}
	if !strings.Contains(stored.String(), id) {
		t.Fatal("the dump of the database misses the booking itself")
	}
	for _, card := range []string{"4242424242424242", "4000000000000002", "4242424242424241"} {
		if strings.Contains(h.logs.String(), card) || strings.Contains(stored.String(), card) {
			t.Fatalf("card number %s was logged or stored", card)
		}
	}
}

func TestPayBookingUpstreamAndExpiry(t *testing.T) {
	h := newHarness(t)
	id := h.create(1)["id"].(string)
	path := "/v1/bookings/" + id + "/payments"

	h.payments.FailBefore(fakes.Always(fakes.Down))
	expectProblem(t, h.do("POST", path, goodCard), 503, "upstream_unavailable")
	h.payments.FailBefore(fakes.Always(fakes.Slow))
	expectProblem(t, h.do("POST", path, goodCard), 504, "upstream_unavailable")
	h.payments.Heal()

	// Busy: another request holds the booking.
	lease := store.Lease{Owner: "other", Until: t0.Add(time.Minute)}
	if _, err := h.store.Claim(t.Context(), uuid.MustParse(id), lease, t0); err != nil {
		t.Fatal(err)
	}
	busy := h.do("POST", path, goodCard)
	expectProblem(t, busy, 409, "conflict")
	if busy.Header().Get("Retry-After") == "" {
		t.Fatal("no Retry-After on a busy booking")
	}
	if err := h.store.Release(t.Context(), uuid.MustParse(id), "other"); err != nil {
		t.Fatal(err)
	}

	h.clock.Advance(holdTTL)
	expectProblem(t, h.do("POST", path, goodCard), 409, "hold_expired")
	if b := decode(t, h.do("GET", "/v1/bookings/"+id, "")); b["status"] != "expired" {
		t.Fatalf("status %v", b["status"])
	}
	expectProblem(t, h.do("POST", path, goodCard), 409, "booking_not_payable")
}

func TestCancelBooking(t *testing.T) {
	h := newHarness(t)
	id := h.create(2)["id"].(string)
	if rec := h.do("POST", "/v1/bookings/"+id+"/payments", goodCard); rec.Code != 200 {
		t.Fatal(rec.Body)
	}
	for range 2 { // cancelling again answers the cancelled booking
		rec := h.do("POST", "/v1/bookings/"+id+"/cancel", "")
		if rec.Code != 200 || decode(t, rec)["status"] != "cancelled" {
			t.Fatalf("cancel: %d %s", rec.Code, rec.Body)
		}
	}
	if h.catalog.Reserved(h.dep) != 0 {
		t.Fatal("seats still held")
	}
	expectProblem(t, h.do("POST", "/v1/bookings/"+uuid.NewString()+"/cancel", ""), 404, "not_found")

	rejected := expectProblem(t, h.do("POST", "/v1/bookings", h.createBody(9)), 409, "seats_unavailable")
	expectProblem(t, h.do("POST", "/v1/bookings/"+rejected["booking_id"].(string)+"/cancel", ""), 409, "conflict")

	// The catalog is down: the cancel answers 503 and a retry finishes it.
	unpaid := h.create(1)["id"].(string)
	h.catalog.FailBefore(fakes.On(fakes.Down, fakes.CallReleaseHold))
	expectProblem(t, h.do("POST", "/v1/bookings/"+unpaid+"/cancel", ""), 503, "upstream_unavailable")
	h.catalog.Heal()
	if rec := h.do("POST", "/v1/bookings/"+unpaid+"/cancel", ""); rec.Code != 200 {
		t.Fatalf("retried cancel: %d %s", rec.Code, rec.Body)
	}
}

// paidAnswerLost books a seat whose card is charged but whose answer is
// lost, so the booking waits; it returns the booking's id and the body of
// the gateway's payment_intent.succeeded event for it.
func (h *harness) paidAnswerLost() (id, event string) {
	h.t.Helper()
	id = h.create(1)["id"].(string)
	h.payments.FailAfter(fakes.On(fakes.Slow, fakes.CallConfirmIntent))
	expectProblem(h.t, h.do("POST", "/v1/bookings/"+id+"/payments", goodCard), 504, "upstream_unavailable")
	h.payments.Heal()
	intent, _ := h.payments.IntentOf(uuid.MustParse(id))
	return id, string(fakes.EventJSON("evt_1", flow.EventIntentSucceeded, intent, time.Now()))
}

func TestPaymentWebhook(t *testing.T) {
	h := newHarness(t)
	id, body := h.paidAnswerLost()
	send := func(body, signature string) *httptest.ResponseRecorder {
		if signature == "" {
			return h.do("POST", "/v1/webhooks/payments", body)
		}
		return h.do("POST", "/v1/webhooks/payments", body, webhook.Header, signature)
	}
	sign := func(body string, at time.Time, secrets ...string) string {
		var keys [][]byte
		for _, s := range secrets {
			keys = append(keys, []byte(s))
		}
		return webhook.Sign([]byte(body), at, keys...)
	}

	refusals := map[string]string{
		"missing":      "",
		"wrong secret": sign(body, time.Now(), "whsec_other"),
		"stale":        sign(body, time.Now().Add(-301*time.Second), secret),
		"future":       sign(body, time.Now().Add(301*time.Second), secret),
		"tampered":     sign(strings.Replace(body, "succeeded", "canceled", 1), time.Now(), secret),
		"malformed":    "t=abc,v1=zz",
	}
	for name, sig := range refusals {
		t.Run(name, func(t *testing.T) {
			expectProblem(t, send(body, sig), 401, "unauthorized")
		})
	}
	if b := decode(t, h.do("GET", "/v1/bookings/"+id, "")); b["status"] != "awaiting_payment" {
		t.Fatal("a refused event was applied")
	}

	// Signed with the old secret during a rotation, within the tolerance.
	rec := send(body, sign(body, time.Now().Add(-299*time.Second), "whsec_old"))
	if rec.Code != 200 || decode(t, rec)["duplicate"] != false {
		t.Fatalf("event: %d %s", rec.Code, rec.Body)
	}
	if b := decode(t, h.do("GET", "/v1/bookings/"+id, "")); b["status"] != "confirmed" {
		t.Fatalf("status %v after the event", b["status"])
	}
	confirms := h.catalog.Calls(fakes.CallConfirmHold)
	rec = send(body, sign(body, time.Now(), secret))
	if rec.Code != 200 || decode(t, rec)["duplicate"] != true || h.catalog.Calls(fakes.CallConfirmHold) != confirms {
		t.Fatalf("duplicate: %d %s", rec.Code, rec.Body)
	}

	bad := `{"id":`
	expectProblem(t, send(bad, sign(bad, time.Now(), secret)), 400, "malformed_json")
	noID := `{"type":"payment_intent.succeeded"}`
	expectProblem(t, send(noID, sign(noID, time.Now(), secret)), 422, "validation_failed")
}

func TestUnknownRoute(t *testing.T) {
	h := newHarness(t)
	expectProblem(t, h.do("GET", "/v1/nothing", ""), 404, "not_found")
	expectProblem(t, h.do("DELETE", "/v1/bookings/"+uuid.NewString(), ""), 405, "method_not_allowed")
}
