package integration

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
)

// Paths the fault rules aim at.
const (
	confirmPath = "/v1/payment_intents/*/confirm"
	holdsPath   = "/v1/departures/*/holds"
)

// faultBound is how long booking may take to give up on a peer that fails
// or hangs: its call deadline (two attempts' worth of the short timeouts
// these tests set) with room for a slow machine.
const faultBound = 10 * time.Second

// fastFail are booking's peer timeouts in the fault tests: short, so that
// a hanging peer costs a test about a second.
var fastFail = Options{CatalogTimeout: 500 * time.Millisecond, PaymentTimeout: 500 * time.Millisecond}

// expectUpstreamUnavailable fails t unless r is booking's answer for a peer
// that failed: 503 or 504 upstream_unavailable, within faultBound.
func expectUpstreamUnavailable(t *testing.T, what string, r Response) {
	t.Helper()
	if p := r.Problem(); (r.Status != http.StatusServiceUnavailable && r.Status != http.StatusGatewayTimeout) || p.Code != "upstream_unavailable" {
		t.Fatalf("%s: got %s, want 503 or 504 upstream_unavailable", what, r)
	}
	if r.Took > faultBound {
		t.Fatalf("%s: answered after %s, want within %s", what, r.Took, faultBound)
	}
}

// payUntilConfirmed retries paying booking id with a good card, as a client
// told to retry would, until it is confirmed. A 409 conflict (the reconciler
// holds the booking at that moment) is retried; a 409 because the booking
// is already confirmed ends it.
func payUntilConfirmed(t *testing.T, s *Stack, id string) Booking {
	t.Helper()
	var got Booking
	Eventually(t, settleTimeout, "pay "+id+" until confirmed", func() (bool, string) {
		r, err := s.Pay(t.Context(), id, CardOK, "")
		if err != nil {
			return false, err.Error()
		}
		switch {
		case r.Status == http.StatusOK:
			if err := r.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Status != "confirmed" {
				t.Fatalf("pay answered 200 with a %s booking", got.Status)
			}
			return true, ""
		case r.Status == http.StatusConflict && r.Problem().Code == "conflict":
			return false, r.String()
		case r.Status == http.StatusConflict && r.Problem().Code == "booking_not_payable":
			got = s.GetBooking(t, id)
			if got.Status != "confirmed" {
				t.Fatalf("not payable, and %s rather than confirmed: %s", got.Status, r)
			}
			return true, ""
		}
		t.Fatalf("retried payment: %s", r)
		return false, ""
	})
	return got
}

// expectOneCharge fails t unless the booking was charged exactly once, for
// its total, and not refunded.
func expectOneCharge(t *testing.T, s *Stack, bk Booking) {
	t.Helper()
	events := s.EventsOf(t, "payment_intent.succeeded", bk.ID)
	if len(events) != 1 {
		t.Fatalf("%d successful charges for booking %s, want 1", len(events), bk.ID)
	}
	_, intentID, _, _, _ := events[0].Object()
	in := s.Intent(t, intentID)
	if in.Status != "succeeded" || in.Amount != bk.Total.Amount || in.AmountRefunded != 0 {
		t.Fatalf("intent %+v, want succeeded for %d and not refunded", in, bk.Total.Amount)
	}
	if bk.PaymentIntentID == nil || *bk.PaymentIntentID != intentID {
		t.Fatalf("booking records intent %v, the charge is %s", bk.PaymentIntentID, intentID)
	}
}

// The gateway fails while booking confirms a payment, before charging:
// booking says so quickly, and paying again charges once.
func TestGatewayFailsDuringConfirm(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
	}{
		{"answers 500", Rule{Method: "POST", Path: confirmPath, Fault: Fail500}},
		{"answers 503", Rule{Method: "POST", Path: confirmPath, Fault: Fail503}},
		{"times out", Rule{Method: "POST", Path: confirmPath, Fault: Delay, Delay: 2 * time.Second}},
		{"drops the connection", Rule{Method: "POST", Path: confirmPath, Fault: Drop}},
	}
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, fastFail)
		var deps []string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// A departure per case: a late request of one case
				// cannot change what the next one counts.
				dep := s.NewDeparture(t, 5, 5000)
				deps = append(deps, dep.ID)
				bk := s.Book(t, dep.ID, 1)
				fault := s.GatewayProxy.Inject(t, tc.rule)
				r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
				if err != nil {
					t.Fatal(err)
				}
				expectUpstreamUnavailable(t, "pay while the gateway "+tc.name, r)
				if fault.Hits() == 0 {
					t.Fatal("the fault was never met")
				}
				s.GatewayProxy.Clear()
				if got := s.GetBooking(t, bk.ID); got.Status != "awaiting_payment" {
					t.Fatalf("after the failed payment the booking is %s, want awaiting_payment", got.Status)
				}

				paid := payUntilConfirmed(t, s, bk.ID)
				// A late confirm (the slow gateway's) lands now at the
				// latest, and must not charge again.
				waitDelivered(t, s.GatewayProxy)
				expectOneCharge(t, s, s.GetBooking(t, paid.ID))
				s.CheckInvariants(t, dep.ID)
			})
		}
		s.CheckInvariants(t, deps...)
	})
}

// waitDelivered waits until p holds no faulted request any more: whatever
// the peer will see of the faults, it has seen.
func waitDelivered(t *testing.T, p *FaultProxy) {
	t.Helper()
	Eventually(t, settleTimeout, "held requests delivered", func() (bool, string) {
		return p.Held() == 0, fmt.Sprintf("%d held", p.Held())
	})
}

// The gateway charges the card but its answer never reaches booking (a
// crash, a cut connection): booking reports the failure, and then one of
// the three ways back converges the booking to confirmed, with one charge.
// Each case leaves only its own way open: webhooks are refused at the proxy
// and the reconciler's period is long unless the case is about them.
func TestChargeAnswerLost(t *testing.T) {
	long := 10 * time.Minute
	cases := []struct {
		name string
		opts Options
		// blockWebhooks refuses the gateway's deliveries.
		blockWebhooks bool
		// retry pays again after the failure.
		retry bool
		// reason is the history reason of the confirmation, naming the way.
		reason string
	}{
		{"webhook", Options{SweepInterval: long}, false, false, "payment succeeded (gateway event)"},
		{"retried payment", Options{SweepInterval: long}, true, true, "payment succeeded"},
		{"reconciler", Options{SweepInterval: time.Second}, true, false, "payment succeeded (reconciled)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			eachBackend(t, func(t *testing.T, b dbtest.Backend) {
				opts := tc.opts
				opts.CatalogTimeout, opts.PaymentTimeout = fastFail.CatalogTimeout, fastFail.PaymentTimeout
				s := StartStack(t, b, opts)
				dep := s.NewDeparture(t, 5, 8000)
				bk := s.Book(t, dep.ID, 2)
				if tc.blockWebhooks {
					s.WebhookProxy.Inject(t, Rule{Fault: Fail503})
				}

				lost := s.GatewayProxy.Inject(t, Rule{Method: "POST", Path: confirmPath, Fault: DropResponse})
				r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
				if err != nil {
					t.Fatal(err)
				}
				expectUpstreamUnavailable(t, "pay with the answer lost", r)
				s.GatewayProxy.Clear()
				if lost.Hits() == 0 {
					t.Fatal("the fault was never met")
				}
				// The money was taken.
				pending := s.GetBooking(t, bk.ID)
				if pending.PaymentIntentID == nil {
					t.Fatal("booking did not record its intent before charging")
				}
				if in := s.Intent(t, *pending.PaymentIntentID); in.Status != "succeeded" {
					t.Fatalf("intent is %s, want succeeded: the charge went through", in.Status)
				}
				if tc.retry && pending.Status != "awaiting_payment" {
					t.Fatalf("with webhooks and the reconciler out of play the booking is %s, want awaiting_payment", pending.Status)
				}

				var confirmed Booking
				if tc.retry {
					confirmed = payUntilConfirmed(t, s, bk.ID)
				} else {
					Eventually(t, settleTimeout, "booking confirmed by the "+tc.name, func() (bool, string) {
						confirmed = s.GetBooking(t, bk.ID)
						return confirmed.Status == "confirmed", confirmed.Status
					})
				}
				last := confirmed.History[len(confirmed.History)-1]
				if last.Status != "confirmed" || last.Reason != tc.reason || confirmed.Entered("confirmed") != 1 {
					t.Fatalf("history %+v, want one confirmation, last, for %q", confirmed.History, tc.reason)
				}
				expectOneCharge(t, s, confirmed)
				if d := s.Departure(t, dep.ID); d.SeatsReserved != 2 {
					t.Fatalf("departure has %d reserved, want 2", d.SeatsReserved)
				}
				s.CheckInvariants(t, dep.ID)
			})
		})
	}
}

// The catalog fails while booking creates a booking: booking answers 503 or
// 504 quickly, and once the catalog is back the reconciler leaves no seat
// held for the failed booking, whether or not the catalog placed the hold.
func TestCatalogFailsDuringCreate(t *testing.T) {
	cases := []struct {
		name string
		rule Rule
		// placed: the catalog holds the seats although booking never heard.
		placed bool
	}{
		{"is down", Rule{Fault: Drop}, false},
		{"answers 500 to the hold", Rule{Method: "POST", Path: holdsPath, Fault: Fail500}, false},
		{"times out on the hold", Rule{Method: "POST", Path: holdsPath, Fault: Delay, Delay: 2 * time.Second}, false},
		{"places the hold but the answer is lost", Rule{Method: "POST", Path: holdsPath, Fault: DropResponse}, true},
	}
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, fastFail)
		const liveSeats, seats = 2, 3
		var deps []string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				// A departure per case, with a paid booking on it, so
				// that "no orphan" is not simply "nothing reserved".
				dep := s.NewDeparture(t, 10, 6000)
				deps = append(deps, dep.ID)
				live := s.Book(t, dep.ID, liveSeats)
				s.PayOK(t, live.ID)

				fault := s.CatalogProxy.Inject(t, tc.rule)
				r, err := s.CreateBooking(t.Context(), dep.ID, seats, "")
				if err != nil {
					t.Fatal(err)
				}
				expectUpstreamUnavailable(t, "create while the catalog "+tc.name, r)
				if fault.Hits() == 0 {
					t.Fatal("the fault was never met")
				}
				if tc.placed {
					// While the catalog stays unreachable for it, the
					// orphan hold is there.
					if d := s.Departure(t, dep.ID); d.SeatsReserved != liveSeats+seats {
						t.Fatalf("departure has %d reserved, want %d with the orphan hold", d.SeatsReserved, liveSeats+seats)
					}
				}
				s.CatalogProxy.Clear()
				waitDelivered(t, s.CatalogProxy)

				failedID := r.Problem().BookingID
				Eventually(t, settleTimeout, "no orphan hold", func() (bool, string) {
					d := s.Departure(t, dep.ID)
					return d.SeatsReserved == liveSeats, fmt.Sprintf("%d reserved", d.SeatsReserved)
				})
				if failedID != "" {
					if got := s.GetBooking(t, failedID); got.Status != "rejected" {
						t.Fatalf("the failed booking is %s, want rejected", got.Status)
					}
				}
				if ids := bookingIDs(s.Bookings(t)); !slices.Contains(ids, live.ID) {
					t.Fatalf("bookings %v lost the live one", ids)
				}
				s.CheckInvariants(t, dep.ID)
			})
		}
		s.CheckInvariants(t, deps...)
	})
}

func bookingIDs(bs []Booking) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

// The card is charged but the catalog fails to confirm the seats: booking
// reports the failure, keeps the seats held, and converges to confirmed
// once the catalog is back (by the gateway's webhook or the reconciler,
// whichever comes first), without a second charge.
func TestCatalogFailsAfterCharge(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, fastFail)
		dep := s.NewDeparture(t, 4, 9000)
		bk := s.Book(t, dep.ID, 3)

		fault := s.CatalogProxy.Inject(t, Rule{Method: "POST", Path: "/v1/holds/*/confirm", Fault: Fail500})
		r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
		if err != nil {
			t.Fatal(err)
		}
		expectUpstreamUnavailable(t, "pay while the catalog cannot confirm", r)
		if fault.Hits() == 0 {
			t.Fatal("the fault was never met")
		}
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 3 {
			t.Fatalf("%d reserved while the confirmation is pending, want the 3 held", d.SeatsReserved)
		}
		s.CatalogProxy.Clear()

		var confirmed Booking
		Eventually(t, settleTimeout, "booking confirmed", func() (bool, string) {
			confirmed = s.GetBooking(t, bk.ID)
			return confirmed.Status == "confirmed", confirmed.Status
		})
		expectOneCharge(t, s, confirmed)
		s.CheckInvariants(t, dep.ID)
	})
}

// A cancellation interrupted by a peer that is down (before the refund, or
// after it, before the seats are released) is reported, and finished by
// the reconciler once the peer is back: one refund, seats released.
func TestCancelWhilePeerDown(t *testing.T) {
	cases := []struct {
		name  string
		proxy func(s *Stack) *FaultProxy
		rule  Rule
	}{
		{"gateway down", func(s *Stack) *FaultProxy { return s.GatewayProxy }, Rule{Fault: Drop}},
		{"catalog down after the refund", func(s *Stack) *FaultProxy { return s.CatalogProxy },
			Rule{Method: "POST", Path: "/v1/holds/*/release", Fault: Fail503}},
	}
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, fastFail)
		var deps []string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dep := s.NewDeparture(t, 4, 9000)
				deps = append(deps, dep.ID)
				bk := s.Book(t, dep.ID, 2)
				paid := s.PayOK(t, bk.ID)

				fault := tc.proxy(s).Inject(t, tc.rule)
				r := s.Cancel(t, bk.ID)
				expectUpstreamUnavailable(t, "cancel while the "+tc.name, r)
				if fault.Hits() == 0 {
					t.Fatal("the fault was never met")
				}
				if pay, err := s.Pay(t.Context(), bk.ID, CardOK, ""); err != nil || pay.Status != http.StatusConflict {
					t.Fatalf("paying a booking being cancelled: %v %s, want 409", err, pay)
				}
				tc.proxy(s).Clear()

				Eventually(t, settleTimeout, "cancellation finished", func() (bool, string) {
					got := s.GetBooking(t, bk.ID)
					return got.Status == "cancelled", got.Status
				})
				if in := s.Intent(t, *paid.PaymentIntentID); in.AmountRefunded != in.Amount {
					t.Fatalf("refunded %d of %d", in.AmountRefunded, in.Amount)
				}
				if n := len(s.EventsOf(t, "refund.succeeded", bk.ID)); n != 1 {
					t.Fatalf("%d refunds, want 1", n)
				}
				if d := s.Departure(t, dep.ID); d.SeatsReserved != 0 {
					t.Fatalf("%d still reserved", d.SeatsReserved)
				}
				s.CheckInvariants(t, dep.ID)
			})
		}
		s.CheckInvariants(t, deps...)
	})
}

// A peer failing once is retried inside booking's call (the call is safe to
// repeat: keyed at the gateway, deduplicated by booking id at the catalog),
// and the customer never hears of it: one hold, one charge.
func TestTransientFaultsAreRetried(t *testing.T) {
	cases := []struct {
		name  string
		proxy func(s *Stack) *FaultProxy
		rule  Rule
	}{
		{"catalog answers 503 to the hold", func(s *Stack) *FaultProxy { return s.CatalogProxy },
			Rule{Method: "POST", Path: holdsPath, Fault: Fail503, Times: 1}},
		{"catalog places the hold, the answer is lost", func(s *Stack) *FaultProxy { return s.CatalogProxy },
			Rule{Method: "POST", Path: holdsPath, Fault: DropResponse, Times: 1}},
		{"gateway answers 500 to the confirm", func(s *Stack) *FaultProxy { return s.GatewayProxy },
			Rule{Method: "POST", Path: confirmPath, Fault: Fail500, Times: 2}},
		{"gateway charges, the answer is lost", func(s *Stack) *FaultProxy { return s.GatewayProxy },
			Rule{Method: "POST", Path: confirmPath, Fault: DropResponse, Times: 1}},
		{"gateway drops the intent creation", func(s *Stack) *FaultProxy { return s.GatewayProxy },
			Rule{Method: "POST", Path: "/v1/payment_intents", Fault: DropResponse, Times: 1}},
	}
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		var deps []string
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				dep := s.NewDeparture(t, 5, 4000)
				deps = append(deps, dep.ID)
				fault := tc.proxy(s).Inject(t, tc.rule)
				bk := s.Book(t, dep.ID, 2)
				paid := s.PayOK(t, bk.ID)
				if fault.Hits() != tc.rule.Times {
					t.Fatalf("the fault was met %d times, want %d", fault.Hits(), tc.rule.Times)
				}
				if d := s.Departure(t, dep.ID); d.SeatsReserved != 2 {
					t.Fatalf("%d reserved, want 2: one hold", d.SeatsReserved)
				}
				expectOneCharge(t, s, paid)
				s.CheckInvariants(t, dep.ID)
			})
		}
		s.CheckInvariants(t, deps...)
	})
}
