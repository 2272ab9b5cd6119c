package integration

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// parallel runs fn(i) for i in [0, n) at once and returns the answers in
// order; a transport error fails t.
func parallel(t *testing.T, n int, fn func(ctx context.Context, i int) (Response, error)) []Response {
	t.Helper()
	out := make([]Response, n)
	errs := make([]error, n)
	var start, wg sync.WaitGroup
	start.Add(1)
	for i := range n {
		wg.Go(func() {
			start.Wait() // release them together
			out[i], errs[i] = fn(t.Context(), i)
		})
	}
	start.Done()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	return out
}

// 50 customers race for the 10 seats of a departure: exactly 10 get one,
// the rest are told it is sold out, and all 10 then pay at once.
func TestConcurrentBookingsNeverOversell(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		// The longest peer timeouts booking allows: under the race
		// detector the embedded SQLite serves 50 requests at once slowly
		// enough that the default 2s would turn waiting into 504s.
		s := StartStack(t, b, Options{CatalogTimeout: 8 * time.Second, PaymentTimeout: 8 * time.Second})
		const capacity, customers = 10, 50
		dep := s.NewDeparture(t, capacity, 4500)

		answers := parallel(t, customers, func(ctx context.Context, _ int) (Response, error) {
			return s.CreateBooking(ctx, dep.ID, 1, "")
		})
		var created []string
		refused := 0
		for _, r := range answers {
			switch {
			case r.Status == http.StatusCreated:
				var bk Booking
				if err := r.Decode(&bk); err != nil || bk.Status != "awaiting_payment" {
					t.Fatalf("201 with %s (%v)", r, err)
				}
				created = append(created, bk.ID)
			case r.Status == http.StatusConflict && r.Problem().Code == "seats_unavailable":
				refused++
			default:
				t.Errorf("unexpected answer %s", r)
			}
		}
		if len(created) != capacity || refused != customers-capacity {
			t.Fatalf("%d created and %d refused, want %d and %d", len(created), refused, capacity, customers-capacity)
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != capacity || d.SeatsAvailable != 0 {
			t.Fatalf("departure has %d reserved, %d available after the race", d.SeatsReserved, d.SeatsAvailable)
		}

		paid := parallel(t, len(created), func(ctx context.Context, i int) (Response, error) {
			return s.Pay(ctx, created[i], CardOK, "")
		})
		for i, r := range paid {
			var bk Booking
			if r.Status != http.StatusOK || r.Decode(&bk) != nil || bk.Status != "confirmed" {
				t.Errorf("pay %s: %s, want 200 confirmed", created[i], r)
			}
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != capacity {
			t.Fatalf("departure has %d reserved after paying, want %d", d.SeatsReserved, capacity)
		}
		s.CheckInvariants(t, dep.ID)
	})
}
