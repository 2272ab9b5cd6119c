//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// Where the services are, and the secrets the suite needs: the defaults are
// the published ports of `make up` and the values of e2e/compose.e2e.yml.
var (
	catalogURL   = env("E2E_CATALOG_URL", "http://127.0.0.1:3001")
	bookingURL   = env("E2E_BOOKING_URL", "http://127.0.0.1:3002")
	gatewayURL   = env("E2E_GATEWAY_URL", "http://127.0.0.1:3004")
	gatewayKey   = env("E2E_PAYMENT_API_KEY", "sk_test_e2e_merchant_key")
	catalogAdmin = env("E2E_CATALOG_ADMIN_TOKEN", "e2e-catalog-admin-token")
)

func env(name, def string) string {
	if v := strings.TrimRight(os.Getenv(name), "/"); v != "" {
		return v
	}
	return def
}

// Test cards (DESIGN section 5).
const (
	cardApproved = "4242424242424242"
	cardDeclined = "4000000000000002"
)

var httpClient = &http.Client{Timeout: 30 * time.Second}

// response is one HTTP answer, kept whole for failure messages.
type response struct {
	method, url string
	status      int
	header      http.Header
	body        []byte
}

func (r response) contentType() string { return r.header.Get("Content-Type") }

func (r response) String() string {
	return fmt.Sprintf("%s %s: %d %s", r.method, r.url, r.status, bytes.TrimSpace(r.body))
}

// decode reads the body into a value of type T, failing the test if it
// is not that JSON.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("%v\ndecode: %v", r, err)
	}
	return v
}

// call sends one request (body, when not nil, as JSON) with headers given
// as name, value pairs.
func call(t *testing.T, method, url string, body any, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{method: method, url: url, status: resp.StatusCode, header: resp.Header, body: b}
}

// expect fails the test unless r has the status.
func expect(t *testing.T, r response, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("%v\nwant status %d", r, status)
	}
	return r
}

// The shapes the suite reads (DESIGN sections 3 to 5); members it does not
// use are left out.

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type tour struct {
	ID         string      `json:"id"`
	Slug       string      `json:"slug"`
	Title      string      `json:"title"`
	Price      money       `json:"price"`
	Departures []departure `json:"departures"`
}

type departure struct {
	ID             string `json:"id"`
	TourID         string `json:"tour_id"`
	StartsOn       string `json:"starts_on"`
	Capacity       int    `json:"capacity"`
	SeatsReserved  int    `json:"seats_reserved"`
	SeatsAvailable int    `json:"seats_available"`
	Price          money  `json:"price"`
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

type booking struct {
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	DepartureID     string  `json:"departure_id"`
	TourID          string  `json:"tour_id"`
	Seats           int     `json:"seats"`
	Total           *money  `json:"total"`
	PaymentIntentID *string `json:"payment_intent_id"`
	History         []struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	} `json:"history"`
}

type problem struct {
	Status      int    `json:"status"`
	Code        string `json:"code"`
	DeclineCode string `json:"decline_code"`
}

type intent struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	AmountRefunded int64  `json:"amount_refunded"`
}

type event struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID            string `json:"id"`
			PaymentIntent string `json:"payment_intent"`
		} `json:"object"`
	} `json:"data"`
	Delivery *struct {
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"delivery"`
}

// Calls of the three APIs.

func getDeparture(t *testing.T, id string) departure {
	t.Helper()
	return decode[departure](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/departures/"+id, nil), http.StatusOK))
}

func createBooking(t *testing.T, departureID string, seats int) response {
	t.Helper()
	return call(t, http.MethodPost, bookingURL+"/v1/bookings", map[string]any{
		"departure_id": departureID,
		"seats":        seats,
		"customer":     map[string]string{"name": "Ana Martin", "email": "ana.e2e@example.com"},
	})
}

func getBooking(t *testing.T, id string) booking {
	t.Helper()
	return decode[booking](t, expect(t, call(t, http.MethodGet, bookingURL+"/v1/bookings/"+id, nil), http.StatusOK))
}

func pay(t *testing.T, bookingID, number string) response {
	t.Helper()
	return call(t, http.MethodPost, bookingURL+"/v1/bookings/"+bookingID+"/payments", map[string]any{
		"card": map[string]any{"number": number, "exp_month": 12, "exp_year": time.Now().Year() + 3, "cvc": "123"},
	})
}

func cancelBooking(t *testing.T, id string) booking {
	t.Helper()
	return decode[booking](t, expect(t, call(t, http.MethodPost, bookingURL+"/v1/bookings/"+id+"/cancel", nil), http.StatusOK))
}

func getIntent(t *testing.T, id string) intent {
	t.Helper()
	r := call(t, http.MethodGet, gatewayURL+"/v1/payment_intents/"+id, nil, "Authorization", "Bearer "+gatewayKey)
	return decode[intent](t, expect(t, r, http.StatusOK))
}

// waitDelivered waits until the gateway has delivered an event of type
// typ about object id to booking's webhook receiver: proof that compose
// wired WEBHOOK_URL and the shared WEBHOOK_SECRET right.
func waitDelivered(t *testing.T, typ, id string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	last := "no such event yet"
	for time.Now().Before(deadline) {
		r := call(t, http.MethodGet, gatewayURL+"/v1/events?limit=100", nil, "Authorization", "Bearer "+gatewayKey)
		for _, ev := range decode[page[event]](t, expect(t, r, http.StatusOK)).Data {
			if ev.Type != typ || (ev.Data.Object.ID != id && ev.Data.Object.PaymentIntent != id) {
				continue
			}
			if ev.Delivery == nil {
				t.Fatalf("event %s has no delivery member", ev.ID)
			}
			if ev.Delivery.State == "delivered" {
				return
			}
			last = fmt.Sprintf("event %s: %s after %d attempts", ev.ID, ev.Delivery.State, ev.Delivery.Attempts)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s for %s not delivered to booking within 45s: %s", typ, id, last)
}

// ledger remembers every booking the suite made and each departure's
// seats_reserved before the suite's first booking on it, for the seats
// invariant.
var ledger = struct {
	sync.Mutex
	baseline map[string]int            // departure id -> seats_reserved before
	bookings map[string]map[string]int // departure id -> booking id -> seats
}{baseline: map[string]int{}, bookings: map[string]map[string]int{}}

// book creates a booking of seats on dep, records it, and checks what the
// customer and the catalog see: awaiting payment, the total from the
// catalog's price, the seats held.
func book(t *testing.T, dep departure, seats int) booking {
	t.Helper()
	ledger.Lock()
	if _, ok := ledger.baseline[dep.ID]; !ok {
		ledger.baseline[dep.ID] = getDeparture(t, dep.ID).SeatsReserved
		ledger.bookings[dep.ID] = map[string]int{}
	}
	ledger.Unlock()

	b := decode[booking](t, expect(t, createBooking(t, dep.ID, seats), http.StatusCreated))
	ledger.Lock()
	ledger.bookings[dep.ID][b.ID] = seats
	ledger.Unlock()
	if b.Status != "awaiting_payment" || b.Seats != seats || b.DepartureID != dep.ID {
		t.Fatalf("new booking: %+v, want awaiting_payment of %d seats on %s", b, seats, dep.ID)
	}
	want := money{Amount: dep.Price.Amount * int64(seats), Currency: dep.Price.Currency}
	if b.Total == nil || *b.Total != want {
		t.Fatalf("booking total %+v, want %d x %+v = %+v", b.Total, seats, dep.Price, want)
	}
	return b
}

// checkSeatsInvariant asserts DESIGN section 3's invariant on every
// departure the suite booked: seats_reserved went up by exactly the seats
// of the suite's live (awaiting_payment or confirmed) bookings, and
// seats_available is what is left of the capacity.
func checkSeatsInvariant(t *testing.T) {
	t.Helper()
	ledger.Lock()
	defer ledger.Unlock()
	for depID, bookings := range ledger.bookings {
		live := 0
		for id, seats := range bookings {
			switch s := getBooking(t, id).Status; s {
			case "awaiting_payment", "confirmed":
				live += seats
			case "cancelled", "expired", "rejected":
			default:
				t.Errorf("booking %s is %s: not settled", id, s)
			}
		}
		d := getDeparture(t, depID)
		if got := d.SeatsReserved - ledger.baseline[depID]; got != live {
			t.Errorf("departure %s: seats_reserved %d (baseline %d) but the live bookings hold %d seats",
				depID, d.SeatsReserved, ledger.baseline[depID], live)
		}
		if d.SeatsAvailable != d.Capacity-d.SeatsReserved || d.SeatsReserved < 0 || d.SeatsReserved > d.Capacity {
			t.Errorf("departure %s: capacity %d, seats_reserved %d, seats_available %d",
				depID, d.Capacity, d.SeatsReserved, d.SeatsAvailable)
		}
	}
}
