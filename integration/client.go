package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// The JSON shapes the tests read, as DESIGN §3–§5 give them.

type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type Tour struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Title string `json:"title"`
	Price Money  `json:"price"`
	// Departures is filled by GET /v1/tours/{id_or_slug}.
	Departures []Departure `json:"departures"`
}

type Departure struct {
	ID             string `json:"id"`
	TourID         string `json:"tour_id"`
	StartsOn       string `json:"starts_on"`
	Capacity       int    `json:"capacity"`
	SeatsReserved  int    `json:"seats_reserved"`
	SeatsAvailable int    `json:"seats_available"`
	Price          Money  `json:"price"`
}

type Booking struct {
	ID              string     `json:"id"`
	Status          string     `json:"status"`
	DepartureID     string     `json:"departure_id"`
	TourID          string     `json:"tour_id"`
	Seats           int        `json:"seats"`
	Total           *Money     `json:"total"`
	HoldID          *string    `json:"hold_id"`
	HoldExpiresAt   *time.Time `json:"hold_expires_at"`
	PaymentIntentID *string    `json:"payment_intent_id"`
	History         []struct {
		Status string    `json:"status"`
		At     time.Time `json:"at"`
		Reason string    `json:"reason"`
	} `json:"history"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Entered counts how often the booking's history entered status.
func (b Booking) Entered(status string) int {
	n := 0
	for _, h := range b.History {
		if h.Status == status {
			n++
		}
	}
	return n
}

type Intent struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Amount         int64             `json:"amount"`
	Currency       string            `json:"currency"`
	AmountRefunded int64             `json:"amount_refunded"`
	Metadata       map[string]string `json:"metadata"`
	Card           *struct {
		Last4 string `json:"last4"`
	} `json:"card"`
	LastPaymentError *struct {
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
	} `json:"last_payment_error"`
}

// Event is a gateway event with the delivery state GET /v1/events adds.
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
	Delivery struct {
		State          string `json:"state"`
		Attempts       int    `json:"attempts"`
		LastStatusCode *int   `json:"last_status_code"`
	} `json:"delivery"`
}

// Object is the event's object: an intent for payment_intent.* events, a
// refund's fields (payment_intent, amount) for refund.* ones.
func (e Event) Object() (id, intentID, bookingID, status string, amount int64) {
	var o struct {
		ID            string            `json:"id"`
		PaymentIntent string            `json:"payment_intent"`
		Status        string            `json:"status"`
		Amount        int64             `json:"amount"`
		Metadata      map[string]string `json:"metadata"`
	}
	_ = json.Unmarshal(e.Data.Object, &o)
	intentID = o.PaymentIntent
	if intentID == "" {
		intentID = o.ID
	}
	return o.ID, intentID, o.Metadata["booking_id"], o.Status, o.Amount
}

// WebhookBody is the event as a webhook carries it: without the delivery
// member that only the event log has.
func (e Event) WebhookBody() []byte {
	b, err := json.Marshal(struct {
		ID      string    `json:"id"`
		Type    string    `json:"type"`
		Created time.Time `json:"created"`
		Data    any       `json:"data"`
	}{e.ID, e.Type, e.Created, e.Data})
	if err != nil {
		panic(err)
	}
	return b
}

// Problem is an RFC 9457 answer with the members the tests check.
type Problem struct {
	Status      int    `json:"status"`
	Code        string `json:"code"`
	Detail      string `json:"detail"`
	DeclineCode string `json:"decline_code"`
	BookingID   string `json:"booking_id"`
}

// Response is one HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Took is how long the answer took.
	Took time.Duration
}

// Decode reads the body into v.
func (r Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d answer %q: %w", r.Status, r.Body, err)
	}
	return nil
}

// Problem reads the body as problem details.
func (r Response) Problem() Problem {
	var p Problem
	_ = json.Unmarshal(r.Body, &p)
	return p
}

// Replayed reports whether the answer was an idempotent replay.
func (r Response) Replayed() bool { return r.Header.Get("Idempotent-Replayed") == "true" }

func (r Response) String() string { return fmt.Sprintf("%d %s", r.Status, bytes.TrimSpace(r.Body)) }

// Call sends one request; it is safe from any goroutine. body is JSON
// encoded unless it is a []byte; headers are name, value pairs.
func (s *Stack) Call(ctx context.Context, method, rawURL string, body any, headers ...string) (Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return Response{}, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		return Response{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] != "" {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	start := time.Now()
	resp, err := s.http.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw, Took: time.Since(start)}, nil
}

// must is Call for the test's own goroutine: a transport error fails t.
func (s *Stack) must(t testing.TB, method, rawURL string, body any, headers ...string) Response {
	t.Helper()
	r, err := s.Call(context.Background(), method, rawURL, body, headers...)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return r
}

// expect fails t unless r has status, then decodes it into out (if not nil).
func expect(t testing.TB, what string, r Response, status int, out any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: got %s, want %d", what, r, status)
	}
	if out != nil {
		if err := r.Decode(out); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
}

// Catalog calls.

// CreateTour creates a tour through the catalog's admin API.
func (s *Stack) CreateTour(t testing.TB, title string, price int64) Tour {
	t.Helper()
	var tour Tour
	expect(t, "create tour", s.must(t, "POST", s.Catalog.URL+"/v1/tours", map[string]any{
		"title": title, "summary": "Integration suite tour", "destination": "Peneda-Gerês",
		"duration_days": 3, "difficulty": "moderate", "price": Money{price, "EUR"}, "max_group_size": 20,
	}, "Authorization", "Bearer "+CatalogAdminToken), http.StatusCreated, &tour)
	return tour
}

// CreateDeparture adds a departure of capacity seats three months ahead.
func (s *Stack) CreateDeparture(t testing.TB, tourID string, capacity int) Departure {
	t.Helper()
	var d Departure
	expect(t, "create departure", s.must(t, "POST", s.Catalog.URL+"/v1/tours/"+tourID+"/departures", map[string]any{
		"starts_on": time.Now().UTC().AddDate(0, 3, 0).Format(time.DateOnly), "capacity": capacity,
	}, "Authorization", "Bearer "+CatalogAdminToken), http.StatusCreated, &d)
	return d
}

// NewDeparture is a tour of its own with one departure of capacity seats at
// unit price price.
func (s *Stack) NewDeparture(t testing.TB, capacity int, price int64) Departure {
	t.Helper()
	tour := s.CreateTour(t, fmt.Sprintf("Integration %s %d", t.Name(), time.Now().UnixNano()), price)
	return s.CreateDeparture(t, tour.ID, capacity)
}

// Departure reads a departure from the catalog itself.
func (s *Stack) Departure(t testing.TB, id string) Departure {
	t.Helper()
	var d Departure
	expect(t, "read departure", s.must(t, "GET", s.Catalog.URL+"/v1/departures/"+id, nil), http.StatusOK, &d)
	return d
}

// Booking calls.

// Customer is the body's customer.
var Customer = map[string]string{"name": "Ana Sousa", "email": "ana@example.com"}

// CreateBooking asks booking for seats on departure; key, when not empty,
// is the Idempotency-Key.
func (s *Stack) CreateBooking(ctx context.Context, departureID string, seats int, key string) (Response, error) {
	return s.Call(ctx, "POST", s.Booking.URL+"/v1/bookings",
		map[string]any{"departure_id": departureID, "seats": seats, "customer": Customer}, "Idempotency-Key", key)
}

// Book creates a booking that must succeed (201 awaiting_payment).
func (s *Stack) Book(t testing.TB, departureID string, seats int) Booking {
	t.Helper()
	r, err := s.CreateBooking(context.Background(), departureID, seats, "")
	if err != nil {
		t.Fatal(err)
	}
	var b Booking
	expect(t, "create booking", r, http.StatusCreated, &b)
	if b.Status != "awaiting_payment" {
		t.Fatalf("new booking is %s, want awaiting_payment", b.Status)
	}
	return b
}

// Test cards (DESIGN §5).
const (
	CardOK       = "4242424242424242"
	CardDeclined = "4000000000000002"
)

// Card is a payment body for number.
func Card(number string) map[string]any {
	return map[string]any{"card": map[string]any{
		"number": number, "exp_month": 12, "exp_year": time.Now().Year() + 3, "cvc": "123",
	}}
}

// Pay pays booking id with card number; key, when not empty, is the
// Idempotency-Key.
func (s *Stack) Pay(ctx context.Context, id, number, key string) (Response, error) {
	return s.Call(ctx, "POST", s.Booking.URL+"/v1/bookings/"+id+"/payments", Card(number), "Idempotency-Key", key)
}

// PayOK pays booking id with a good card and expects it confirmed.
func (s *Stack) PayOK(t testing.TB, id string) Booking {
	t.Helper()
	r, err := s.Pay(context.Background(), id, CardOK, "")
	if err != nil {
		t.Fatal(err)
	}
	var b Booking
	expect(t, "pay booking", r, http.StatusOK, &b)
	if b.Status != "confirmed" {
		t.Fatalf("paid booking is %s, want confirmed", b.Status)
	}
	return b
}

// Cancel cancels booking id, as a client honouring Retry-After would: a
// 409 conflict saying the booking is busy (the gateway's webhook for its
// payment being applied at that moment, say) is asked again. It returns
// the first other answer.
func (s *Stack) Cancel(t testing.TB, id string) Response {
	t.Helper()
	var r Response
	Eventually(t, settleTimeout, "cancel "+id, func() (bool, string) {
		r = s.must(t, "POST", s.Booking.URL+"/v1/bookings/"+id+"/cancel", nil)
		busy := r.Status == http.StatusConflict && r.Problem().Code == "conflict" && r.Header.Get("Retry-After") != ""
		return !busy, r.String()
	})
	return r
}

// GetBooking reads booking id.
func (s *Stack) GetBooking(t testing.TB, id string) Booking {
	t.Helper()
	var b Booking
	expect(t, "read booking", s.must(t, "GET", s.Booking.URL+"/v1/bookings/"+id, nil), http.StatusOK, &b)
	return b
}

// Bookings lists every booking through the admin list.
func (s *Stack) Bookings(t testing.TB) []Booking {
	t.Helper()
	var all []Booking
	cursor := ""
	for range 1000 {
		u := s.Booking.URL + "/v1/bookings?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Data       []Booking `json:"data"`
			NextCursor *string   `json:"next_cursor"`
		}
		expect(t, "list bookings", s.must(t, "GET", u, nil, "Authorization", "Bearer "+BookingAdminToken), http.StatusOK, &page)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
	t.Fatal("list bookings: too many pages")
	return nil
}

// Gateway calls.

// Intent reads a payment intent from the gateway.
func (s *Stack) Intent(t testing.TB, id string) Intent {
	t.Helper()
	var in Intent
	expect(t, "read intent", s.must(t, "GET", s.Gateway.URL+"/v1/payment_intents/"+url.PathEscape(id), nil,
		"Authorization", "Bearer "+PaymentAPIKey), http.StatusOK, &in)
	return in
}

// Events lists the gateway's whole event log.
func (s *Stack) Events(t testing.TB) []Event {
	t.Helper()
	var all []Event
	cursor := ""
	for range 1000 {
		u := s.Gateway.URL + "/v1/events?limit=100"
		if cursor != "" {
			u += "&cursor=" + url.QueryEscape(cursor)
		}
		var page struct {
			Data       []Event `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		expect(t, "list events", s.must(t, "GET", u, nil, "Authorization", "Bearer "+PaymentAPIKey), http.StatusOK, &page)
		all = append(all, page.Data...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
	t.Fatal("list events: too many pages")
	return nil
}

// EventsOf lists the events of type typ about booking id (whose intent
// carries metadata booking_id, or whose refund is of that intent).
func (s *Stack) EventsOf(t testing.TB, typ, bookingID string) []Event {
	t.Helper()
	intents := map[string]bool{}
	all := s.Events(t)
	for _, e := range all {
		if _, intentID, bid, _, _ := e.Object(); bid == bookingID {
			intents[intentID] = true
		}
	}
	var out []Event
	for _, e := range all {
		if _, intentID, _, _, _ := e.Object(); e.Type == typ && intents[intentID] {
			out = append(out, e)
		}
	}
	return out
}

// Eventually polls cond every 50 ms until it holds or timeout passes, then
// fails t with cond's last description of what it saw.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, saw := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last saw: %s", what, timeout, saw)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
