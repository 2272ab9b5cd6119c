//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// A visitor browses the demo catalogue: a page of tours, the next page,
// one tour with its departures, and a tour that does not exist.
func TestBrowseTours(t *testing.T) {
	all := decode[page[tour]](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours", nil), http.StatusOK))
	if len(all.Data) < 3 {
		t.Fatalf("GET /v1/tours: %d tours, want the demo catalogue (SEED_DEMO_DATA=true)", len(all.Data))
	}
	for _, tr := range all.Data {
		if tr.ID == "" || tr.Slug == "" || tr.Title == "" || tr.Price.Amount <= 0 || len(tr.Price.Currency) != 3 {
			t.Errorf("incomplete tour in the list: %+v", tr)
		}
	}

	first := decode[page[tour]](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours?limit=2", nil), http.StatusOK))
	if len(first.Data) != 2 || first.NextCursor == nil {
		t.Fatalf("?limit=2: %d tours, next_cursor %v; want 2 and a cursor", len(first.Data), first.NextCursor)
	}
	next := decode[page[tour]](t, expect(t, call(t, http.MethodGet,
		catalogURL+"/v1/tours?limit=2&cursor="+*first.NextCursor, nil), http.StatusOK))
	if len(next.Data) == 0 || next.Data[0].ID == first.Data[0].ID || next.Data[0].ID == first.Data[1].ID {
		t.Fatalf("the second page repeats the first: %+v then %+v", first.Data, next.Data)
	}

	detail := decode[tour](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours/"+all.Data[0].Slug, nil), http.StatusOK))
	if detail.ID != all.Data[0].ID || len(detail.Departures) == 0 {
		t.Fatalf("GET /v1/tours/%s: %+v, want the tour with its upcoming departures", all.Data[0].Slug, detail)
	}
	for _, d := range detail.Departures {
		if d.SeatsAvailable != d.Capacity-d.SeatsReserved || d.Price.Amount <= 0 {
			t.Errorf("departure %+v: seats or price inconsistent", d)
		}
	}

	r := expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours/no-such-tour-e2e", nil), http.StatusNotFound)
	if p := decode[problem](t, r); p.Code != "not_found" {
		t.Errorf("unknown tour: %v, want code not_found", r)
	}
}

// A customer books two seats and pays with a card that is approved: the
// booking is confirmed, the gateway holds a succeeded charge of the
// booking's total, and its webhook reached booking.
func TestBookAndPay(t *testing.T) {
	dep := pickDeparture(t, 2)
	b := book(t, dep, 2)

	paid := decode[booking](t, expect(t, pay(t, b.ID, cardApproved), http.StatusOK))
	if paid.Status != "confirmed" || paid.PaymentIntentID == nil {
		t.Fatalf("after an approved payment: %+v, want confirmed with a payment intent", paid)
	}
	in := getIntent(t, *paid.PaymentIntentID)
	if in.Status != "succeeded" || in.Amount != b.Total.Amount || !strings.EqualFold(in.Currency, b.Total.Currency) {
		t.Fatalf("payment intent %+v, want succeeded for %+v", in, *b.Total)
	}
	waitDelivered(t, "payment_intent.succeeded", in.ID)
	if got := getBooking(t, b.ID); got.Status != "confirmed" {
		t.Fatalf("GET the booking after the webhook: %s, want confirmed", got.Status)
	}
	checkSeatsInvariant(t)
}

// A declined card answers 402 card_declined with the issuer's reason, and
// leaves the booking payable: another card then confirms it.
func TestDeclinedCardLeavesTheBookingPayable(t *testing.T) {
	dep := pickDeparture(t, 1)
	b := book(t, dep, 1)

	r := expect(t, pay(t, b.ID, cardDeclined), http.StatusPaymentRequired)
	if ct := r.contentType(); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("a decline answers %q, want application/problem+json", ct)
	}
	if p := decode[problem](t, r); p.Code != "card_declined" || p.DeclineCode != "generic_decline" {
		t.Fatalf("%v\nwant code card_declined, decline_code generic_decline", r)
	}
	if got := getBooking(t, b.ID); got.Status != "awaiting_payment" {
		t.Fatalf("after a decline the booking is %s, want awaiting_payment", got.Status)
	}
	checkSeatsInvariant(t)

	paid := decode[booking](t, expect(t, pay(t, b.ID, cardApproved), http.StatusOK))
	if paid.Status != "confirmed" {
		t.Fatalf("paying again with an approved card: %s, want confirmed", paid.Status)
	}
	checkSeatsInvariant(t)
}

// Cancelling a paid booking refunds the whole charge and gives the seats
// back; a cancelled booking can no longer be paid.
func TestCancelRefundsAndReleasesSeats(t *testing.T) {
	dep := pickDeparture(t, 2)
	b := book(t, dep, 2)
	paid := decode[booking](t, expect(t, pay(t, b.ID, cardApproved), http.StatusOK))
	reserved := getDeparture(t, dep.ID).SeatsReserved

	cancelled := cancelBooking(t, b.ID)
	if cancelled.Status != "cancelled" {
		t.Fatalf("after cancel: %s, want cancelled", cancelled.Status)
	}
	in := getIntent(t, *paid.PaymentIntentID)
	if in.AmountRefunded != in.Amount {
		t.Fatalf("payment intent after cancel: %+v, want fully refunded", in)
	}
	if got := getDeparture(t, dep.ID).SeatsReserved; got != reserved-2 {
		t.Fatalf("seats_reserved after cancel: %d, want %d (the 2 seats back)", got, reserved-2)
	}
	waitDelivered(t, "refund.succeeded", in.ID)
	expect(t, pay(t, b.ID, cardApproved), http.StatusConflict)
	if again := cancelBooking(t, b.ID); again.Status != "cancelled" {
		t.Fatalf("cancelling twice: %s, want cancelled unchanged", again.Status)
	}
	checkSeatsInvariant(t)
}

// On a small departure of its own, the seats add up through every path:
// paid, unpaid, declined, refused for lack of seats, cancelled before and
// after payment, and a burst of concurrent bookings for the last seats.
func TestSeatsInvariant(t *testing.T) {
	dep := createDeparture(t, 6)

	paid := book(t, dep, 2)
	expect(t, pay(t, paid.ID, cardApproved), http.StatusOK)
	unpaid := book(t, dep, 2)
	declined := book(t, dep, 1)
	expect(t, pay(t, declined.ID, cardDeclined), http.StatusPaymentRequired)
	checkSeatsInvariant(t)

	// One seat left: two are refused, and the refusal holds nothing.
	r := expect(t, createBooking(t, dep.ID, 2), http.StatusConflict)
	if p := decode[problem](t, r); p.Code != "seats_unavailable" {
		t.Fatalf("%v\nwant seats_unavailable", r)
	}
	checkSeatsInvariant(t)

	cancelBooking(t, unpaid.ID)
	cancelBooking(t, paid.ID)
	if d := getDeparture(t, dep.ID); d.SeatsReserved != 1 || d.SeatsAvailable != 5 {
		t.Fatalf("after two cancellations: %+v, want 1 seat reserved (the declined booking's)", d)
	}
	checkSeatsInvariant(t)

	// Eight customers at once for the five seats left: exactly five get one.
	const customers = 8
	var wg sync.WaitGroup
	statuses := make([]int, customers)
	ids := make([]string, customers)
	for i := range customers {
		wg.Go(func() { statuses[i], ids[i] = tryBooking(dep.ID, 1) })
	}
	wg.Wait()
	created, refused := 0, 0
	for i, status := range statuses {
		switch status {
		case http.StatusCreated:
			created++
			ledger.Lock()
			ledger.bookings[dep.ID][ids[i]] = 1
			ledger.Unlock()
		case http.StatusConflict:
			refused++
		default:
			t.Errorf("concurrent booking %d: status %d (%s)", i, status, ids[i])
		}
	}
	if created != 5 || refused != customers-5 {
		t.Fatalf("concurrent bookings for 5 seats: %d created, %d refused; want 5 and %d", created, refused, customers-5)
	}
	if d := getDeparture(t, dep.ID); d.SeatsAvailable != 0 {
		t.Fatalf("departure after the burst: %+v, want full", d)
	}
	checkSeatsInvariant(t)
}

// pickDeparture returns the demo departure with the most seats left, at
// least seats of them.
func pickDeparture(t *testing.T, seats int) departure {
	t.Helper()
	tours := decode[page[tour]](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours?limit=100", nil), http.StatusOK))
	var best departure
	for _, tr := range tours.Data {
		detail := decode[tour](t, expect(t, call(t, http.MethodGet, catalogURL+"/v1/tours/"+tr.ID, nil), http.StatusOK))
		for _, d := range detail.Departures {
			if d.SeatsAvailable > best.SeatsAvailable {
				best = d
			}
		}
	}
	if best.SeatsAvailable < seats {
		t.Fatalf("no demo departure has %d seats left", seats)
	}
	return best
}

// createDeparture adds a tour with one departure of capacity seats, through
// the catalog's admin API.
func createDeparture(t *testing.T, capacity int) departure {
	t.Helper()
	auth := []string{"Authorization", "Bearer " + catalogAdmin}
	r := call(t, http.MethodPost, catalogURL+"/v1/tours", map[string]any{
		"title":          fmt.Sprintf("E2E Seats Check %d", time.Now().UnixNano()),
		"summary":        "A tour made by the end-to-end suite.",
		"description":    "Used to count seats through every booking path.",
		"destination":    "Testland",
		"duration_days":  2,
		"difficulty":     "easy",
		"price":          money{Amount: 15000, Currency: "EUR"},
		"max_group_size": capacity,
	}, auth...)
	if r.status == http.StatusUnauthorized {
		// Against a stack of someone else's with other secrets this test
		// cannot run; in CI, where make e2e sets the token, it must.
		if os.Getenv("CI") == "true" {
			t.Fatalf("the catalog refused the admin token (set E2E_CATALOG_ADMIN_TOKEN): %v", r)
		}
		t.Skipf("the catalog refused the admin token (set E2E_CATALOG_ADMIN_TOKEN): %v", r)
	}
	tr := decode[tour](t, expect(t, r, http.StatusCreated))
	r = call(t, http.MethodPost, catalogURL+"/v1/tours/"+tr.ID+"/departures", map[string]any{
		"starts_on": time.Now().UTC().AddDate(0, 2, 0).Format("2006-01-02"),
		"capacity":  capacity,
	}, auth...)
	return decode[departure](t, expect(t, r, http.StatusCreated))
}

// tryBooking creates a one-customer booking from any goroutine (no
// testing.T): the status, and the booking id or the body on a refusal.
func tryBooking(departureID string, seats int) (int, string) {
	body, _ := json.Marshal(map[string]any{
		"departure_id": departureID, "seats": seats,
		"customer": map[string]string{"name": "Concurrent Customer", "email": "rush.e2e@example.com"},
	})
	resp, err := httpClient.Post(bookingURL+"/v1/bookings", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b booking
	var raw bytes.Buffer
	_, _ = raw.ReadFrom(resp.Body)
	if resp.StatusCode == http.StatusCreated && json.Unmarshal(raw.Bytes(), &b) == nil {
		return resp.StatusCode, b.ID
	}
	return resp.StatusCode, raw.String()
}
