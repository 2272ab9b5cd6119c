package api

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestRefunds(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.paidIntent(10000)
		r := e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`","amount":3000}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("partial refund: %d %s", r.Code, r.Body)
		}
		got := r.object(t)
		reID, _ := got["id"].(string)
		want := map[string]any{"id": reID, "payment_intent": id, "amount": 3000.0, "currency": "EUR",
			"status": "succeeded", "created_at": "2027-03-15T10:00:00Z"}
		if !strings.HasPrefix(reID, "re_") || !reflect.DeepEqual(got, want) {
			t.Fatalf("refund\n%v\nwant\n%v", got, want)
		}

		p := e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`","amount":7001}`).problem(t, 422, "refund_exceeds_amount")
		if errs := p["errors"].([]any); len(errs) != 1 || errs[0].(map[string]any)["detail"] != "must be at most 7000" {
			t.Fatalf("problem %v", p)
		}
		// Without an amount: everything left.
		r = e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`"}`)
		if r.Code != http.StatusCreated || r.object(t)["amount"] != 7000.0 {
			t.Fatalf("refund the rest: %d %s", r.Code, r.Body)
		}
		in := e.do("GET", "/v1/payment_intents/"+id, "").object(t)
		if in["amount_refunded"] != 10000.0 || in["status"] != "succeeded" {
			t.Fatalf("intent %v", in)
		}
		e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`","amount":1}`).problem(t, 409, "conflict")
	})
}

func TestRefundRefusals(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		paid := e.paidIntent(1000)
		unpaid := e.createIntent(1000)
		tests := []struct {
			name, body string
			status     int
			code       string
			fields     []string
		}{
			{"unpaid intent", `{"payment_intent":"` + unpaid + `"}`, 409, "conflict", nil},
			{"unknown intent", `{"payment_intent":"pi_unknown"}`, 404, "not_found", nil},
			{"no intent", `{"amount":100}`, 422, "validation_failed", []string{"payment_intent"}},
			{"zero", `{"payment_intent":"` + paid + `","amount":0}`, 422, "validation_failed", []string{"amount"}},
			{"negative", `{"payment_intent":"` + paid + `","amount":-1}`, 422, "validation_failed", []string{"amount"}},
			{"more than the amount", `{"payment_intent":"` + paid + `","amount":1001}`, 422, "refund_exceeds_amount", []string{"amount"}},
			{"amount as a string", `{"payment_intent":"` + paid + `","amount":"10"}`, 422, "validation_failed", []string{"amount"}},
			{"malformed", `{"payment_intent":`, 400, "malformed_json", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := e.do("POST", "/v1/refunds", tt.body).problem(t, tt.status, tt.code)
				if got := fields(p); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields %v, want %v", got, tt.fields)
				}
			})
		}
		if n := e.count("SELECT COUNT(*) FROM refunds"); n != 0 {
			t.Fatalf("%d refunds recorded by refused requests", n)
		}
	})
}

// Twenty partial refunds at once that together exceed the amount, through
// the API: the total refunded never does, on either database.
func TestConcurrentRefundsNeverExceedTheAmount(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.paidIntent(10000)
		const n = 20 // of 700 each: 14 fit
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				codes[i] = e.do("POST", "/v1/refunds", `{"payment_intent":"`+id+`","amount":700}`).Code
			})
		}
		wg.Wait()
		created := 0
		for _, c := range codes {
			switch c {
			case http.StatusCreated:
				created++
			case http.StatusUnprocessableEntity:
			default:
				t.Fatalf("status %d", c)
			}
		}
		in := e.do("GET", "/v1/payment_intents/"+id, "").object(t)
		sum := e.count("SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_intent_id = ?", id)
		if created != 14 || in["amount_refunded"] != 9800.0 || sum != 9800 {
			t.Fatalf("%d refunds created, amount_refunded %v, rows sum %d; want 14, 9800, 9800", created, in["amount_refunded"], sum)
		}
	})
}
