package api

import (
	"net/http"
	"slices"
	"sync"
	"testing"
)

// The test cards of DESIGN §5 through the HTTP API, one case per card and
// per validation error: status, problem code, and what the intent shows
// afterwards.
func TestConfirmTestCards(t *testing.T) {
	type card struct {
		number, cvc string
		month, year int
	}
	visa := func(number string) card { return card{number, "123", 12, 2030} }
	tests := []struct {
		name   string
		card   card
		status int
		// code is the problem code; "" for a 200.
		code        string
		declineCode string
		// fields are the fields of a 422.
		fields []string
		// brand and last4 of the card the intent shows, "" for none.
		brand, last4 string
	}{
		{"visa succeeds", visa("4242424242424242"), 200, "", "", nil, "visa", "4242"},
		{"mastercard succeeds", visa("5555555555554444"), 200, "", "", nil, "mastercard", "4444"},
		{"a 4-digit CVC on visa", card{"4242424242424242", "1234", 12, 2030}, 200, "", "", nil, "visa", "4242"},
		{"a 3-digit CVC on amex", card{"378282246310005", "123", 12, 2030}, 200, "", "", nil, "amex", "0005"},
		{"generic decline", visa("4000000000000002"), 402, "card_declined", "generic_decline", nil, "visa", "0002"},
		{"insufficient funds", visa("4000000000009995"), 402, "card_declined", "insufficient_funds", nil, "visa", "9995"},
		{"expired card", visa("4000000000000069"), 402, "card_declined", "expired_card", nil, "visa", "0069"},
		{"incorrect cvc", visa("4000000000000127"), 402, "card_declined", "incorrect_cvc", nil, "visa", "0127"},
		{"processing error", visa("4000000000000119"), 402, "card_declined", "processing_error", nil, "visa", "0119"},
		{"past expiry", card{"4242424242424242", "123", 2, 2027}, 402, "card_declined", "expired_card", nil, "visa", "4242"},
		{"Luhn failure", visa("4242424242424241"), 422, "incorrect_number", "", []string{"card.number"}, "", ""},
		{"Luhn failure and a bad cvc", card{"4242424242424241", "1", 12, 2030}, 422, "incorrect_number", "", []string{"card.number", "card.cvc"}, "", ""},
		{"number missing", visa(""), 422, "validation_failed", "", []string{"card.number"}, "", ""},
		{"number with spaces", visa("4242 4242 4242 4242"), 422, "validation_failed", "", []string{"card.number"}, "", ""},
		{"number too short", visa("42424242"), 422, "validation_failed", "", []string{"card.number"}, "", ""},
		{"number too long", visa("42424242424242424242"), 422, "validation_failed", "", []string{"card.number"}, "", ""},
		{"cvc missing", card{"4242424242424242", "", 12, 2030}, 422, "validation_failed", "", []string{"card.cvc"}, "", ""},
		{"cvc of 2 digits", card{"4242424242424242", "12", 12, 2030}, 422, "validation_failed", "", []string{"card.cvc"}, "", ""},
		{"cvc of 5 digits", card{"4242424242424242", "12345", 12, 2030}, 422, "validation_failed", "", []string{"card.cvc"}, "", ""},
		{"cvc with a letter", card{"4242424242424242", "12a", 12, 2030}, 422, "validation_failed", "", []string{"card.cvc"}, "", ""},
		{"exp_month 0", card{"4242424242424242", "123", 0, 2030}, 422, "validation_failed", "", []string{"card.exp_month"}, "", ""},
		{"exp_month 13", card{"4242424242424242", "123", 13, 2030}, 422, "validation_failed", "", []string{"card.exp_month"}, "", ""},
		{"two-digit exp_year", card{"4242424242424242", "123", 12, 30}, 422, "validation_failed", "", []string{"card.exp_year"}, "", ""},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := e.createIntent(12900)
				r := e.confirm(id, tt.card.number, tt.card.cvc, tt.card.month, tt.card.year)
				switch {
				case tt.status == 200:
					if r.Code != 200 {
						t.Fatalf("status %d: %s", r.Code, r.Body)
					}
					if got := r.object(t); got["status"] != "succeeded" || got["last_payment_error"] != nil {
						t.Fatalf("intent %v", got)
					}
				case tt.status == 402:
					p := r.problem(t, 402, tt.code)
					if p["decline_code"] != tt.declineCode || p["payment_intent"] != id || p["detail"] == "" {
						t.Fatalf("problem %v, want decline_code %s", p, tt.declineCode)
					}
				default:
					p := r.problem(t, tt.status, tt.code)
					if got := fields(p); !slices.Equal(got, tt.fields) {
						t.Fatalf("fields %v, want %v", got, tt.fields)
					}
				}

				got := e.do("GET", "/v1/payment_intents/"+id, "").object(t)
				wantStatus := map[int]string{200: "succeeded", 402: "requires_payment_method", 422: "requires_payment_method"}[tt.status]
				if got["status"] != wantStatus {
					t.Fatalf("intent status %v, want %s", got["status"], wantStatus)
				}
				if tt.brand == "" {
					if got["card"] != nil || got["last_payment_error"] != nil {
						t.Fatalf("an invalid card changed the intent: %v", got)
					}
					if n := e.count("SELECT COUNT(*) FROM events WHERE object LIKE ?", "%"+id+"%"); n != 0 {
						t.Fatalf("an invalid card wrote %d events", n)
					}
					return
				}
				c := got["card"].(map[string]any)
				if c["brand"] != tt.brand || c["last4"] != tt.last4 || c["exp_month"] != float64(tt.card.month) || c["exp_year"] != float64(tt.card.year) {
					t.Fatalf("card %v", c)
				}
				if tt.status == 402 {
					lpe, _ := got["last_payment_error"].(map[string]any)
					if lpe["code"] != "card_declined" || lpe["decline_code"] != tt.declineCode || lpe["message"] == "" {
						t.Fatalf("last_payment_error %v", got["last_payment_error"])
					}
				}
			})
		}
	})
}

// Request bodies that are not a confirm request at all.
func TestConfirmMalformedRequests(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"no card", `{}`, 422, "validation_failed", []string{"card"}},
		{"card null", `{"card":null}`, 422, "validation_failed", []string{"card"}},
		{"card of the wrong type", `{"card":"4242424242424242"}`, 422, "validation_failed", []string{"card"}},
		{"number as a JSON number", `{"card":{"number":4242424242424242,"exp_month":12,"exp_year":2030,"cvc":"123"}}`, 422, "validation_failed", []string{"card.number"}},
		{"month as a string", `{"card":{"number":"4242424242424242","exp_month":"12","exp_year":2030,"cvc":"123"}}`, 422, "validation_failed", []string{"card.exp_month"}},
		{"unknown member", `{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvv":"123"}}`, 422, "validation_failed", []string{"cvv"}},
		{"malformed JSON", `{"card":{`, 400, "malformed_json", nil},
		{"empty body", ``, 400, "malformed_json", nil},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				id := e.createIntent(100)
				r := e.do("POST", "/v1/payment_intents/"+id+"/confirm", tt.body)
				p := r.problem(t, tt.status, tt.code)
				if got := fields(p); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields %v, want %v", got, tt.fields)
				}
			})
		}
	})
}

func TestConfirmRefusedInFinalStates(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		paid := e.paidIntent(100)
		e.confirm(paid, "4242424242424242", "123", 12, 2030).problem(t, 409, "conflict")
		// The state is checked before the card: a bad card on a paid
		// intent is still a 409.
		e.confirm(paid, "4242424242424241", "123", 12, 2030).problem(t, 409, "conflict")

		canceled := e.createIntent(100)
		if r := e.do("POST", "/v1/payment_intents/"+canceled+"/cancel", ""); r.Code != 200 {
			t.Fatalf("cancel: %d %s", r.Code, r.Body)
		}
		e.confirm(canceled, "4242424242424242", "123", 12, 2030).problem(t, 409, "conflict")
		e.confirm("pi_unknown", "4242424242424242", "123", 12, 2030).problem(t, 404, "not_found")

		// A declined intent can be confirmed again, with another card.
		retried := e.createIntent(100)
		e.confirm(retried, "4000000000000002", "123", 12, 2030).problem(t, 402, "card_declined")
		if r := e.confirm(retried, "5555555555554444", "123", 12, 2030); r.Code != 200 {
			t.Fatalf("confirm after a decline: %d %s", r.Code, r.Body)
		}
	})
}

// Confirms racing on one intent, without idempotency keys: one charges,
// the rest are told the intent is no longer confirmable.
func TestConcurrentConfirmsChargeOnce(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.createIntent(5000)
		const n = 10
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { codes[i] = e.confirm(id, "4242424242424242", "123", 12, 2030).Code })
		}
		wg.Wait()
		ok := 0
		for _, c := range codes {
			switch c {
			case http.StatusOK:
				ok++
			case http.StatusConflict:
			default:
				t.Fatalf("status %d", c)
			}
		}
		if ok != 1 {
			t.Fatalf("%d confirms succeeded: %v", ok, codes)
		}
		if n := e.count("SELECT COUNT(*) FROM events WHERE type = 'payment_intent.succeeded'"); n != 1 {
			t.Fatalf("%d succeeded events", n)
		}
	})
}
