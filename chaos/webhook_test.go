//go:build chaos

package chaos

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sign is the gateway's Gateway-Signature header for body (DESIGN §5),
// written here from the contract rather than imported, so the suite checks
// the wire format too.
func sign(body []byte, at time.Time, secret string) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// eventBody is a webhook body: an event of type around intent (raw JSON,
// as the gateway renders it).
func eventBody(id, typ string, intent json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "type": typ, "created": time.Now().UTC().Format(time.RFC3339),
		"data": map[string]any{"object": intent},
	})
	return b
}

// webhookAbuse sends booking's webhook endpoint what an attacker or a
// misbehaving network would: replays of a delivered event, the same new
// event many times at once, events out of order, and forgeries. Nothing may
// transition twice, and nothing unsigned may change anything.
func webhookAbuse(ctx context.Context, r *run) {
	dep := r.newDeparture(ctx, 20)
	deliver := func(body []byte, signature string) reply {
		h := map[string]string{}
		if signature != "" {
			h["Gateway-Signature"] = signature
		}
		return r.do(ctx, request{method: "POST", svc: svcBooking, path: "/v1/webhooks/payments", raw: body, header: h, timeout: 15 * time.Second})
	}
	history := func(id string) bookingDoc {
		b, err := r.getBooking(ctx, id)
		if err != nil {
			r.t.Fatalf("read booking %s: %v", id, err)
		}
		return b
	}
	rawIntent := func(id string) json.RawMessage {
		rep := r.probe(ctx, request{method: "GET", svc: svcGateway, path: "/v1/payment_intents/" + id, token: merchantKey})
		if !rep.ok() {
			r.t.Fatalf("read intent %s: %s", id, rep.kind())
		}
		return rep.body
	}
	// waitEvent returns the gateway's event of type typ for intent, once
	// delivered.
	waitEvent := func(typ, intent string) eventDoc {
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			evs, err := r.events(ctx)
			if err == nil {
				for _, e := range evs {
					if in, ok := e.intent(); ok && e.Type == typ && in.ID == intent && e.Delivery.State == "delivered" {
						return e
					}
				}
			}
			sleep(ctx, 300*time.Millisecond)
		}
		r.t.Fatalf("no delivered %s event for intent %s", typ, intent)
		return eventDoc{}
	}

	// 1. Replays: the real, delivered succeeded event of a confirmed
	// booking, 20 times at once, each freshly and validly signed.
	paid := r.flow(ctx, svcBooking, dep, cardOK)
	if paid.paid.status != 200 {
		r.t.Fatalf("pay: %s", paid.paid.kind())
	}
	b1 := history(paid.id)
	ev := waitEvent("payment_intent.succeeded", b1.intentID())
	body := eventBody(ev.ID, ev.Type, ev.Data.Object)
	var replays outcomes
	parallel(20, 20, func(int) {
		rep := deliver(body, sign(body, time.Now(), webhookSecret))
		var ack struct {
			Duplicate bool `json:"duplicate"`
		}
		switch {
		case rep.decode(&ack) == nil && ack.Duplicate:
			replays.add("200 duplicate")
		default:
			replays.add(rep.kind())
			r.violate("replayed event %s answered %s %s, want 200 duplicate", ev.ID, rep.kind(), truncate(string(rep.body), 100))
		}
	})
	r.note("20 replays of a delivered event: %v", replays.n)
	if after := history(paid.id); len(after.History) != len(b1.History) || after.Status != "confirmed" {
		r.violate("replays changed booking %s: %d history entries, was %d; status %s", short(paid.id), len(after.History), len(b1.History), after.Status)
	}

	// 2. The same new event 20 times at once, racing the gateway's own
	// delivery: a booking whose card was declined, then charged at the
	// gateway directly (as a customer completing payment elsewhere).
	b2, rep := r.create(ctx, svcBooking2, dep, 1, newKey("wh"))
	if rep.status != 201 {
		r.t.Fatalf("create: %s", rep.kind())
	}
	if _, rep := r.pay(ctx, svcBooking2, b2.ID, cardDeclined, newKey("wh-pay")); rep.status != 402 {
		r.t.Fatalf("declined payment answered %s, want 402", rep.kind())
	}
	intent := history(b2.ID).intentID()
	rep = r.do(ctx, request{method: "POST", svc: svcGateway, path: "/v1/payment_intents/" + intent + "/confirm", token: merchantKey, key: newKey("wh-direct"),
		body: map[string]any{"card": map[string]any{"number": cardOK, "exp_month": 12, "exp_year": time.Now().Year() + 3, "cvc": "123"}}})
	if rep.status != 200 {
		r.t.Fatalf("confirm at the gateway: %s", rep.kind())
	}
	body = eventBody("evt_chaos_"+newKey("race"), "payment_intent.succeeded", rep.body)
	var race outcomes
	parallel(20, 20, func(int) {
		rep := deliver(body, sign(body, time.Now(), webhookSecret))
		race.add(rep.kind())
		// 200, or 409 while another delivery holds the booking (the
		// gateway would redeliver).
		if !rep.ok() && rep.status != 409 {
			r.violate("concurrent copies of a new event: answered %s", rep.kind())
		}
	})
	r.note("20 concurrent copies of a new event: %v", race.n)
	waitEvent("payment_intent.succeeded", intent)
	if got := history(b2.ID); got.Status != "confirmed" || got.transitions("confirmed") != 1 {
		r.violate("booking %s after concurrent events: %s, confirmed %d times", short(b2.ID), got.Status, got.transitions("confirmed"))
	}

	// 3. Out of order: a succeeded event (a new id, the intent as it was
	// when charged) arrives after the booking was cancelled and refunded;
	// a payment_failed event after the success.
	b3 := r.flow(ctx, svcBooking, dep, cardOK)
	if b3.paid.status != 200 {
		r.t.Fatalf("pay: %s", b3.paid.kind())
	}
	charged := rawIntent(history(b3.id).intentID())
	if rep := r.do(ctx, request{method: "POST", svc: svcBooking, path: "/v1/bookings/" + b3.id + "/cancel"}); rep.status != 200 {
		r.violate("cancel a confirmed booking: %s", rep.kind())
	}
	before := history(b3.id)
	late := eventBody("evt_chaos_"+newKey("late"), "payment_intent.succeeded", charged)
	if rep := deliver(late, sign(late, time.Now(), webhookSecret)); !rep.ok() {
		r.violate("late succeeded event answered %s, want 200", rep.kind())
	}
	var failedIntent map[string]any
	_ = json.Unmarshal(rawIntent(b1.intentID()), &failedIntent)
	failedIntent["status"] = "requires_payment_method"
	stale, _ := json.Marshal(failedIntent)
	failed := eventBody("evt_chaos_"+newKey("failed"), "payment_intent.payment_failed", stale)
	if rep := deliver(failed, sign(failed, time.Now(), webhookSecret)); !rep.ok() {
		r.violate("late payment_failed event answered %s, want 200", rep.kind())
	}
	if after := history(b3.id); after.Status != "cancelled" || len(after.History) != len(before.History) {
		r.violate("late event moved cancelled booking %s to %s (%d history entries, was %d)", short(b3.id), after.Status, len(after.History), len(before.History))
	}
	if after := history(paid.id); after.Status != "confirmed" || len(after.History) != len(b1.History) {
		r.violate("late payment_failed changed booking %s: %s", short(paid.id), after.Status)
	}
	if in, err := r.intent(ctx, history(b3.id).intentID()); err != nil || in.AmountRefunded != in.Amount {
		r.violate("cancelled booking's intent: refunded %d of %d (%v)", in.AmountRefunded, in.Amount, err)
	}

	// 4. Forgeries, all claiming that an unpaid booking's payment
	// succeeded: each is a 401 and changes nothing.
	b4, rep := r.create(ctx, svcBooking, dep, 1, newKey("wh-forged"))
	if rep.status != 201 {
		r.t.Fatalf("create: %s", rep.kind())
	}
	claim, _ := json.Marshal(map[string]any{
		"id": "pi_forged", "status": "succeeded", "amount": b4.Total.Amount, "currency": b4.Total.Currency,
		"amount_refunded": 0, "metadata": map[string]string{"booking_id": b4.ID},
	})
	forged := eventBody("evt_chaos_"+newKey("forged"), "payment_intent.succeeded", claim)
	other := eventBody("evt_chaos_"+newKey("other"), "payment_intent.canceled", claim)
	now := time.Now()
	cases := []struct{ name, signature string }{
		{"no signature", ""},
		{"wrong secret", sign(forged, now, "not-the-secret")},
		{"signature of another body", sign(other, now, webhookSecret)},
		{"ten minutes old", sign(forged, now.Add(-10*time.Minute), webhookSecret)},
		{"ten minutes ahead", sign(forged, now.Add(10*time.Minute), webhookSecret)},
		{"malformed", "v1=deadbeef"},
		{"v0 scheme only", strings.Replace(sign(forged, now, webhookSecret), ",v1=", ",v0=", 1)},
	}
	var mu sync.Mutex
	var forgeries outcomes
	parallel(len(cases), len(cases), func(i int) {
		rep := deliver(forged, cases[i].signature)
		mu.Lock()
		defer mu.Unlock()
		forgeries.add(rep.kind())
		if rep.status != 401 || rep.code != "unauthorized" {
			r.violate("forged event (%s) answered %s, want 401 unauthorized", cases[i].name, rep.kind())
		}
	})
	r.note("%d forged events: %v", len(cases), forgeries.n)
	if after := history(b4.ID); after.Status != "awaiting_payment" || len(after.History) != len(b4.History) {
		r.violate("forged events moved booking %s to %s", short(b4.ID), after.Status)
	}
	r.converge(ctx)
}
