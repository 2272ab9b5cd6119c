package peers_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/flow"
	"github.com/tourism-go/tourism/services/booking/internal/peers"
)

// peer is a scripted peer: it records each request and answers with the
// status and body of answer.
type peer struct {
	mu       sync.Mutex
	requests []recorded
	answer   func(r *http.Request) (int, string)
	calls    atomic.Int64
}

type recorded struct {
	method, path, auth, requestID, key string
	body                               map[string]any
}

func (p *peer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.calls.Add(1)
	raw, _ := io.ReadAll(r.Body)
	rec := recorded{method: r.Method, path: r.URL.Path, auth: r.Header.Get("Authorization"),
		requestID: r.Header.Get(requestid.Header), key: r.Header.Get("Idempotency-Key")}
	_ = json.Unmarshal(raw, &rec.body)
	p.mu.Lock()
	p.requests = append(p.requests, rec)
	p.mu.Unlock()
	status, body := p.answer(r)
	if status >= 400 {
		w.Header().Set("Content-Type", "application/problem+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (p *peer) last(t *testing.T) recorded {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.requests) == 0 {
		t.Fatal("no request reached the peer")
	}
	return p.requests[len(p.requests)-1]
}

func serve(t *testing.T, answer func(r *http.Request) (int, string)) (*peer, *httpclient.Client) {
	t.Helper()
	p := &peer{answer: answer}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	client, err := httpclient.New(httpclient.Options{
		BaseURL: srv.URL, Token: "secret-token", AttemptTimeout: 200 * time.Millisecond,
		Deadline: time.Second, BackoffBase: time.Millisecond, BackoffMax: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p, client
}

func problemBody(status int, code string, ext string) string {
	return `{"type":"about:blank","status":` + jsonInt(status) + `,"code":"` + code + `","detail":"refused"` + ext + `}`
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

func ctxWithRequestID() context.Context {
	return requestid.With(context.Background(), "req-123")
}

func TestCatalogRequests(t *testing.T) {
	depID, holdID, bookingID := uuid.New(), uuid.New(), uuid.New()
	p, client := serve(t, func(r *http.Request) (int, string) {
		switch r.URL.Path {
		case "/v1/departures/" + depID.String():
			return 200, `{"id":"` + depID.String() + `","tour_id":"` + bookingID.String() + `","seats_available":3}`
		case "/v1/departures/" + depID.String() + "/holds":
			return 201, `{"id":"` + holdID.String() + `","unit_price":{"amount":12900,"currency":"EUR"},"status":"held","expires_at":"2027-05-01T10:17:00Z"}`
		default:
			return 200, `{}`
		}
	})
	c := peers.NewCatalog(client)
	ctx := ctxWithRequestID()

	dep, err := c.Departure(ctx, depID)
	if err != nil || dep.ID != depID || dep.TourID != bookingID {
		t.Fatalf("departure: %+v %v", dep, err)
	}
	if r := p.last(t); r.method != "GET" || r.auth != "Bearer secret-token" || r.requestID != "req-123" {
		t.Fatalf("departure request: %+v", r)
	}

	hold, err := c.PlaceHold(ctx, depID, flow.HoldRequest{BookingID: bookingID, Seats: 2, TTL: 17 * time.Minute})
	if err != nil || hold.ID != holdID || hold.UnitPrice != (booking.Money{Amount: 12900, Currency: "EUR"}) ||
		!hold.ExpiresAt.Equal(time.Date(2027, 5, 1, 10, 17, 0, 0, time.UTC)) {
		t.Fatalf("hold: %+v %v", hold, err)
	}
	r := p.last(t)
	if r.method != "POST" || r.body["booking_id"] != bookingID.String() || r.body["seats"] != 2.0 || r.body["ttl_seconds"] != 1020.0 || r.requestID != "req-123" {
		t.Fatalf("hold request: %+v", r)
	}

	if err := c.ConfirmHold(ctx, holdID); err != nil {
		t.Fatal(err)
	}
	if r := p.last(t); r.path != "/v1/holds/"+holdID.String()+"/confirm" {
		t.Fatalf("confirm path %s", r.path)
	}
	if err := c.ReleaseHold(ctx, holdID); err != nil {
		t.Fatal(err)
	}
	if r := p.last(t); r.path != "/v1/holds/"+holdID.String()+"/release" {
		t.Fatalf("release path %s", r.path)
	}
}

func TestCatalogErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		call     func(c *peers.Catalog) error
		want     error
		attempts int64
	}{
		{"sold out", 409, problemBody(409, "seats_unavailable", ""), placeHold, booking.ErrSeatsUnavailable, 1},
		{"closed", 409, problemBody(409, "departure_closed", ""), placeHold, booking.ErrDepartureClosed, 1},
		{"archived", 409, problemBody(409, "tour_archived", ""), placeHold, booking.ErrDepartureClosed, 1},
		{"unknown departure", 404, problemBody(404, "not_found", ""), departure, flow.ErrPeerNotFound, 1},
		{"hold expired", 409, problemBody(409, "hold_expired", ""), confirm, flow.ErrHoldGone, 1},
		{"hold released", 409, problemBody(409, "hold_released", ""), confirm, flow.ErrHoldGone, 1},
		// A hold is safe to repeat, so a server error is retried, then
		// reported as the catalog being unavailable.
		{"server error on hold", 500, problemBody(500, "internal_error", ""), placeHold, booking.ErrUpstreamUnavailable, 3},
		{"unavailable on release", 503, problemBody(503, "service_unavailable", ""), release, booking.ErrUpstreamUnavailable, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, client := serve(t, func(*http.Request) (int, string) { return tt.status, tt.body })
			err := tt.call(peers.NewCatalog(client))
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if got := p.calls.Load(); got != tt.attempts {
				t.Fatalf("%d attempts, want %d", got, tt.attempts)
			}
		})
	}
}

func placeHold(c *peers.Catalog) error {
	_, err := c.PlaceHold(context.Background(), uuid.New(), flow.HoldRequest{BookingID: uuid.New(), Seats: 1, TTL: time.Minute})
	return err
}
func departure(c *peers.Catalog) error {
	_, err := c.Departure(context.Background(), uuid.New())
	return err
}
func confirm(c *peers.Catalog) error { return c.ConfirmHold(context.Background(), uuid.New()) }
func release(c *peers.Catalog) error { return c.ReleaseHold(context.Background(), uuid.New()) }

// A catalog that hangs is given up on within the client's deadline and
// reported as a timeout.
func TestCatalogTooSlowIsATimeout(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	_, client := serve(t, func(r *http.Request) (int, string) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
		return 200, `{}`
	})
	start := time.Now()
	err := placeHold(peers.NewCatalog(client))
	if !errors.Is(err, booking.ErrUpstreamTimeout) {
		t.Fatalf("got %v, want an upstream timeout", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("gave up after %s", elapsed)
	}
}

func TestCatalogDownIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	client, err := httpclient.New(httpclient.Options{BaseURL: url, AttemptTimeout: 100 * time.Millisecond, Deadline: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := departure(peers.NewCatalog(client)); !errors.Is(err, booking.ErrUpstreamUnavailable) {
		t.Fatalf("got %v", err)
	}
}

func TestPaymentsRequests(t *testing.T) {
	intent := `{"id":"pi_1","status":"requires_payment_method","amount":25800,"currency":"EUR","amount_refunded":0,"metadata":{"booking_id":"b1"}}`
	p, client := serve(t, func(r *http.Request) (int, string) {
		switch r.URL.Path {
		case "/v1/payment_intents/pi_1/confirm":
			return 200, `{"id":"pi_1","status":"succeeded","amount":25800,"currency":"EUR","amount_refunded":0,"metadata":{"booking_id":"b1"}}`
		case "/v1/refunds":
			return 201, `{"id":"re_1","payment_intent":"pi_1","amount":25800,"currency":"EUR","status":"succeeded"}`
		default:
			return 201, intent
		}
	})
	g := peers.NewPayments(client)
	ctx := ctxWithRequestID()

	in, err := g.CreateIntent(ctx, flow.IntentRequest{
		Amount: booking.Money{Amount: 25800, Currency: "EUR"}, Description: "Booking b1", Metadata: map[string]string{"booking_id": "b1"},
	}, "booking:b1:intent")
	if err != nil || in.ID != "pi_1" || in.Amount.Amount != 25800 || in.Metadata["booking_id"] != "b1" {
		t.Fatalf("create: %+v %v", in, err)
	}
	r := p.last(t)
	if r.key != "booking:b1:intent" || r.auth != "Bearer secret-token" || r.requestID != "req-123" ||
		r.body["amount"] != 25800.0 || r.body["currency"] != "EUR" || r.body["metadata"].(map[string]any)["booking_id"] != "b1" {
		t.Fatalf("create request: %+v", r)
	}

	card := booking.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	in, err = g.ConfirmIntent(ctx, "pi_1", card, "booking:b1:confirm:1")
	if err != nil || in.Status != flow.IntentSucceeded {
		t.Fatalf("confirm: %+v %v", in, err)
	}
	r = p.last(t)
	sent := r.body["card"].(map[string]any)
	if r.key != "booking:b1:confirm:1" || sent["number"] != card.Number || sent["cvc"] != "123" || sent["exp_month"] != 12.0 || sent["exp_year"] != 2030.0 {
		t.Fatalf("confirm request: %+v", r)
	}

	if err := g.Refund(ctx, "pi_1", "booking:b1:refund"); err != nil {
		t.Fatal(err)
	}
	if r := p.last(t); r.key != "booking:b1:refund" || r.body["payment_intent"] != "pi_1" {
		t.Fatalf("refund request: %+v", r)
	}
}

func TestPaymentsErrors(t *testing.T) {
	card := booking.Card{Number: "4000000000009995", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	confirmCall := func(g *peers.Payments) error {
		_, err := g.ConfirmIntent(context.Background(), "pi_1", card, "k")
		return err
	}
	refundCall := func(g *peers.Payments) error { return g.Refund(context.Background(), "pi_1", "k") }
	readCall := func(g *peers.Payments) error { _, err := g.Intent(context.Background(), "pi_1"); return err }
	tests := []struct {
		name     string
		status   int
		body     string
		call     func(*peers.Payments) error
		check    func(t *testing.T, err error)
		attempts int64
	}{
		{"declined", 402, problemBody(402, "card_declined", `,"decline_code":"insufficient_funds"`), confirmCall, func(t *testing.T, err error) {
			var d *booking.DeclineError
			if !errors.As(err, &d) || d.DeclineCode != "insufficient_funds" || !errors.Is(err, booking.ErrCardDeclined) {
				t.Fatalf("got %v", err)
			}
		}, 1},
		{"mistyped number", 422, `{"status":422,"code":"incorrect_number","errors":[{"field":"card.number","detail":"is incorrect"}]}`, confirmCall, func(t *testing.T, err error) {
			fields, ok := validate.Fields(err)
			if !ok || fields[0].Field != "card.number" {
				t.Fatalf("got %v", err)
			}
		}, 1},
		{"key reused", 422, problemBody(422, "idempotency_key_reused", ""), confirmCall, is(flow.ErrKeyReused), 1},
		{"not confirmable", 409, problemBody(409, "conflict", ""), confirmCall, is(flow.ErrIntentState), 1},
		{"not refundable", 409, problemBody(409, "conflict", ""), refundCall, is(flow.ErrIntentState), 1},
		{"unknown intent", 404, problemBody(404, "not_found", ""), readCall, is(flow.ErrPeerNotFound), 1},
		// A keyed call is retried on a 500; the gateway replays or redoes it.
		{"server error on confirm", 500, problemBody(500, "internal_error", ""), confirmCall, is(booking.ErrUpstreamUnavailable), 3},
		{"unavailable", 503, problemBody(503, "service_unavailable", ""), refundCall, is(booking.ErrUpstreamUnavailable), 3},
		{"wrong merchant key", 401, problemBody(401, "unauthorized", ""), readCall, func(t *testing.T, err error) {
			var se *httpclient.StatusError
			if !errors.As(err, &se) || se.Status != 401 || errors.Is(err, booking.ErrUpstreamUnavailable) {
				t.Fatalf("got %v, want the 401 itself (a configuration fault, answered 500)", err)
			}
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, client := serve(t, func(*http.Request) (int, string) { return tt.status, tt.body })
			tt.check(t, tt.call(peers.NewPayments(client)))
			if got := p.calls.Load(); got != tt.attempts {
				t.Fatalf("%d attempts, want %d", got, tt.attempts)
			}
		})
	}
}

func is(want error) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Fatalf("got %v, want %v", err, want)
		}
	}
}
