package api

import (
	"bytes"
	"net/http"
	"regexp"
	"testing"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/problem"
)

// longDigits finds digit runs long enough to be card numbers.
var longDigits = regexp.MustCompile(`[0-9]{12,}`)

// FuzzConfirmBody sends arbitrary bodies to POST .../confirm of a fresh
// intent. Whatever the body: no 5xx (a panic would be one, through the
// recovery middleware), only the statuses the contract lists, the right
// media type, an intent state that matches the answer, and no card number
// from the body echoed back.
func FuzzConfirmBody(f *testing.F) {
	f.Add([]byte(`{"card":{"number":"4242424242424242","exp_month":12,"exp_year":2030,"cvc":"123"}}`))
	f.Add([]byte(`{"card":{"number":"4000000000000002","exp_month":12,"exp_year":2030,"cvc":"1234"}}`))
	f.Add([]byte(`{"card":{"number":"4242424242424241","exp_month":12,"exp_year":2030,"cvc":"123"}}`))
	f.Add([]byte(`{"card":{}}`))
	f.Add([]byte(`{"card":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))

	e := newEnv(f, dbtest.Open(f, dbtest.SQLite))
	f.Fuzz(func(t *testing.T, body []byte) {
		e := e.with(t)
		id := e.createIntent(1000)
		r := e.do("POST", "/v1/payment_intents/"+id+"/confirm", string(body))

		wantType := problem.ContentType
		wantStatus := "requires_payment_method"
		switch r.Code {
		case http.StatusOK:
			wantType, wantStatus = "application/json; charset=utf-8", "succeeded"
		case http.StatusBadRequest, http.StatusPaymentRequired, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("status %d for body %q: %s", r.Code, body, r.Body)
		}
		if ct := r.Header.Get("Content-Type"); ct != wantType {
			t.Fatalf("content type %q with status %d", ct, r.Code)
		}
		if got := e.do("GET", "/v1/payment_intents/"+id, "").object(t)["status"]; got != wantStatus {
			t.Fatalf("intent %v after a %d", got, r.Code)
		}
		for _, digits := range longDigits.FindAll(body, -1) {
			if len(digits) <= 19 && bytes.Contains(r.Body, digits) {
				t.Fatalf("the response echoes %s from the body: %s", digits, r.Body)
			}
		}
	})
}
