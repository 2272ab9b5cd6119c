package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/webhook"
)

// postWebhook delivers body to booking's webhook endpoint with signature
// header sig ("" sends none).
func (s *Stack) postWebhook(ctx context.Context, body []byte, sig string) (Response, error) {
	return s.Call(ctx, "POST", s.Booking.URL+"/v1/webhooks/payments", body, webhook.Header, sig)
}

// sign is the gateway's signature of body at time at with secret.
func sign(body []byte, at time.Time, secret string) string {
	return webhook.Sign(body, at, []byte(secret))
}

// Booking's webhook endpoint takes only events the gateway signed, recently,
// with the shared secret.
func TestWebhookSignatures(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{})
		event := func(id string) []byte {
			return []byte(fmt.Sprintf(`{"id":%q,"type":"payment_intent.payment_failed","created":%q,"data":{"object":{"id":"pi_unknown","status":"requires_payment_method","amount":100,"currency":"EUR","amount_refunded":0,"metadata":{}}}}`,
				id, time.Now().UTC().Format(time.RFC3339)))
		}
		now := time.Now()
		cases := []struct {
			name string
			sig  func(body []byte) string
			want int
		}{
			{"missing", func([]byte) string { return "" }, http.StatusUnauthorized},
			{"not a signature", func([]byte) string { return "v1=deadbeef" }, http.StatusUnauthorized},
			{"wrong secret", func(b []byte) string { return sign(b, now, "whsec_someone_else") }, http.StatusUnauthorized},
			{"stale", func(b []byte) string { return sign(b, now.Add(-10*time.Minute), WebhookSecret) }, http.StatusUnauthorized},
			{"of another body", func(b []byte) string { return sign(append(b, ' '), now, WebhookSecret) }, http.StatusUnauthorized},
			{"valid", func(b []byte) string { return sign(b, now, WebhookSecret) }, http.StatusOK},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				body := event(fmt.Sprintf("evt_signature_case_%d", i))
				r, err := s.postWebhook(t.Context(), body, tc.sig(body))
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != tc.want {
					t.Fatalf("got %s, want %d", r, tc.want)
				}
				if tc.want == http.StatusUnauthorized && r.Problem().Code != "unauthorized" {
					t.Fatalf("got %s, want code unauthorized", r)
				}
			})
		}
	})
}

// The same event delivered many times, some at once, is applied once: the
// booking whose payment answer was lost is confirmed by the first delivery,
// and every other delivery is answered as a duplicate (or, while the first
// is being applied, as a conflict the gateway retries).
func TestDuplicateWebhookAppliedOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		// Only this test's deliveries may settle the booking: the
		// gateway's own are refused and the reconciler sleeps.
		s := StartStack(t, b, Options{SweepInterval: 10 * time.Minute, PaymentTimeout: 500 * time.Millisecond})
		s.WebhookProxy.Inject(t, Rule{Fault: Fail503})
		dep := s.NewDeparture(t, 4, 11000)
		bk := s.Book(t, dep.ID, 2)

		s.GatewayProxy.Inject(t, Rule{Method: "POST", Path: confirmPath, Fault: DropResponse})
		r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
		if err != nil {
			t.Fatal(err)
		}
		expectUpstreamUnavailable(t, "pay with the answer lost", r)
		s.GatewayProxy.Clear()
		if got := s.GetBooking(t, bk.ID); got.Status != "awaiting_payment" {
			t.Fatalf("booking is %s, want awaiting_payment until the event arrives", got.Status)
		}
		events := s.EventsOf(t, "payment_intent.succeeded", bk.ID)
		if len(events) != 1 {
			t.Fatalf("%d succeeded events, want 1", len(events))
		}
		body := events[0].WebhookBody()

		deliveries := parallel(t, 5, func(ctx context.Context, _ int) (Response, error) {
			return s.postWebhook(ctx, body, sign(body, time.Now(), WebhookSecret))
		})
		applied := 0
		for _, d := range deliveries {
			var ack struct{ Duplicate bool }
			switch {
			case d.Status == http.StatusOK && d.Decode(&ack) == nil:
				if !ack.Duplicate {
					applied++
				}
			case d.Status == http.StatusConflict:
				// Busy with the same booking: the gateway would retry.
			default:
				t.Errorf("delivery: %s", d)
			}
		}
		if applied > 1 {
			t.Fatalf("the event was applied %d times", applied)
		}
		// One more, after the fact: a duplicate, or the first to apply it
		// if all five met a busy booking.
		again, err := s.postWebhook(t.Context(), body, sign(body, time.Now(), WebhookSecret))
		if err != nil {
			t.Fatal(err)
		}
		var ack struct{ Duplicate bool }
		if again.Status != http.StatusOK || again.Decode(&ack) != nil || ack.Duplicate == (applied == 0) {
			t.Fatalf("redelivery: %s, want 200 with duplicate %v", again, applied == 1)
		}
		last, err := s.postWebhook(t.Context(), body, sign(body, time.Now(), WebhookSecret))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(last.Body, &ack); err != nil || last.Status != http.StatusOK || !ack.Duplicate {
			t.Fatalf("last redelivery: %s, want 200 duplicate", last)
		}

		confirmed := s.GetBooking(t, bk.ID)
		if confirmed.Status != "confirmed" || confirmed.Entered("confirmed") != 1 ||
			confirmed.History[len(confirmed.History)-1].Reason != "payment succeeded (gateway event)" {
			t.Fatalf("booking %s with history %+v, want confirmed once by the event", confirmed.Status, confirmed.History)
		}
		expectOneCharge(t, s, confirmed)
		if d := s.Departure(t, dep.ID); d.SeatsReserved != 2 {
			t.Fatalf("%d reserved, want 2", d.SeatsReserved)
		}
		s.CheckInvariants(t, dep.ID)
	})
}

// A customer cancels while the outcome of their payment is unknown to
// booking (the charge went through, its answer was lost): the cancellation
// finds the charge and refunds it, and the gateway's success event arriving
// afterwards neither revives the booking nor refunds twice.
func TestCancelAfterLostChargeThenLateEvent(t *testing.T) {
	eachBackend(t, func(t *testing.T, b dbtest.Backend) {
		s := StartStack(t, b, Options{SweepInterval: 10 * time.Minute, PaymentTimeout: 500 * time.Millisecond})
		s.WebhookProxy.Inject(t, Rule{Fault: Fail503})
		dep := s.NewDeparture(t, 4, 11000)
		bk := s.Book(t, dep.ID, 2)

		s.GatewayProxy.Inject(t, Rule{Method: "POST", Path: confirmPath, Fault: DropResponse})
		r, err := s.Pay(t.Context(), bk.ID, CardOK, "")
		if err != nil {
			t.Fatal(err)
		}
		expectUpstreamUnavailable(t, "pay with the answer lost", r)
		s.GatewayProxy.Clear()

		var cancelled Booking
		expect(t, "cancel", s.Cancel(t, bk.ID), http.StatusOK, &cancelled)
		if cancelled.Status != "cancelled" || cancelled.PaymentIntentID == nil {
			t.Fatalf("cancel: %+v", cancelled)
		}
		if in := s.Intent(t, *cancelled.PaymentIntentID); in.Status != "succeeded" || in.AmountRefunded != in.Amount {
			t.Fatalf("intent %+v, want the charge refunded in full", in)
		}

		events := s.EventsOf(t, "payment_intent.succeeded", bk.ID)
		if len(events) != 1 {
			t.Fatalf("%d succeeded events, want 1", len(events))
		}
		body := events[0].WebhookBody()
		late, err := s.postWebhook(t.Context(), body, sign(body, time.Now(), WebhookSecret))
		if err != nil {
			t.Fatal(err)
		}
		if late.Status != http.StatusOK {
			t.Fatalf("late success event: %s, want 200", late)
		}
		if got := s.GetBooking(t, bk.ID); got.Status != "cancelled" || got.Entered("confirmed") != 0 {
			t.Fatalf("after the late event the booking is %s with history %+v", got.Status, got.History)
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
