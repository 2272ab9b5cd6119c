package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestIntentLifecycle(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/v1/payment_intents", `{"amount":12900,"currency":"eur","description":"Lisbon walk, 2 seats","metadata":{"booking_id":"b1"}}`)
		if r.Code != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Code, r.Body)
		}
		created := r.object(t)
		id, _ := created["id"].(string)
		if !strings.HasPrefix(id, "pi_") || len(id) != len("pi_")+32 {
			t.Fatalf("id %q", id)
		}
		if loc := r.Header.Get("Location"); loc != "/v1/payment_intents/"+id {
			t.Fatalf("Location %q", loc)
		}
		want := map[string]any{
			"id": id, "status": "requires_payment_method", "amount": 12900.0, "currency": "EUR",
			"amount_refunded": 0.0, "description": "Lisbon walk, 2 seats", "metadata": map[string]any{"booking_id": "b1"},
			"card": nil, "last_payment_error": nil, "created_at": "2027-03-15T10:00:00Z",
		}
		if !reflect.DeepEqual(created, want) {
			t.Fatalf("created\n%v\nwant\n%v", created, want)
		}
		if got := e.do("GET", "/v1/payment_intents/"+id, "").object(t); !reflect.DeepEqual(got, created) {
			t.Fatalf("read back\n%v\nwant\n%v", got, created)
		}

		r = e.do("POST", "/v1/payment_intents/"+id+"/cancel", "")
		if r.Code != 200 || r.object(t)["status"] != "canceled" {
			t.Fatalf("cancel: %d %s", r.Code, r.Body)
		}
		e.do("POST", "/v1/payment_intents/"+id+"/cancel", "").problem(t, 409, "conflict")
		e.do("POST", "/v1/payment_intents/"+e.paidIntent(100)+"/cancel", "").problem(t, 409, "conflict")
		e.do("POST", "/v1/payment_intents/pi_unknown/cancel", "").problem(t, 404, "not_found")
		e.do("GET", "/v1/payment_intents/pi_unknown", "").problem(t, 404, "not_found")
	})
}

func TestCreateIntentValidation(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		code       string
		fields     []string
	}{
		{"amount missing", `{"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"amount zero", `{"amount":0,"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"amount negative", `{"amount":-5,"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"amount over the maximum", `{"amount":100000000,"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"amount not whole", `{"amount":12.5,"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"amount beyond int64", `{"amount":99999999999999999999,"currency":"EUR"}`, 422, "validation_failed", []string{"amount"}},
		{"currency missing", `{"amount":100}`, 422, "validation_failed", []string{"currency"}},
		{"currency unknown", `{"amount":100,"currency":"ABC"}`, 422, "validation_failed", []string{"currency"}},
		{"currency not ISO", `{"amount":100,"currency":"EURO"}`, 422, "validation_failed", []string{"currency"}},
		{"description too long", `{"amount":100,"currency":"EUR","description":"` + strings.Repeat("a", 1001) + `"}`, 422, "validation_failed", []string{"description"}},
		{"metadata value not a string", `{"amount":100,"currency":"EUR","metadata":{"n":1}}`, 422, "validation_failed", []string{"metadata"}},
		{"unknown member", `{"amount":100,"currency":"EUR","customer":"x"}`, 422, "validation_failed", []string{"customer"}},
		{"everything wrong", `{"amount":0,"currency":"XXX","description":"` + strings.Repeat("a", 1001) + `"}`, 422, "validation_failed", []string{"amount", "currency", "description"}},
		{"malformed", `{"amount":`, 400, "malformed_json", nil},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := e.do("POST", "/v1/payment_intents", tt.body).problem(t, tt.status, tt.code)
				if got := fields(p); !slices.Equal(got, tt.fields) {
					t.Fatalf("fields %v, want %v", got, tt.fields)
				}
			})
		}
		if n := e.count("SELECT COUNT(*) FROM payment_intents"); n != 0 {
			t.Fatalf("%d intents created by invalid requests", n)
		}
	})
}

func TestMerchantAuth(t *testing.T) {
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/payment_intents", `{"amount":100,"currency":"EUR"}`},
		{"GET", "/v1/payment_intents/pi_x", ""},
		{"POST", "/v1/payment_intents/pi_x/confirm", `{"card":{}}`},
		{"POST", "/v1/payment_intents/pi_x/cancel", ""},
		{"POST", "/v1/refunds", `{"payment_intent":"pi_x"}`},
		{"GET", "/v1/events", ""},
		{"GET", "/v1/events/evt_x", ""},
	}
	credentials := []struct{ name, header string }{
		{"none", ""},
		{"unknown key", "Bearer sk_test_somebody_else"},
		{"key without scheme", testKey},
		{"basic scheme", "Basic " + testKey},
		{"key with a suffix", "Bearer " + testKey + "x"},
	}
	eachEnv(t, func(t *testing.T, e *env) {
		for _, rt := range routes {
			for _, cr := range credentials {
				t.Run(rt.method+" "+rt.path+"/"+cr.name, func(t *testing.T) {
					e.do(rt.method, rt.path, rt.body, "Authorization", cr.header).problem(t, 401, "unauthorized")
				})
			}
		}
		if n := e.count("SELECT COUNT(*) FROM payment_intents"); n != 0 {
			t.Fatalf("an unauthenticated request created %d intents", n)
		}
		// Both keys of a rotation work.
		for _, k := range []string{testKey, rotatedKey} {
			if r := e.do("GET", "/v1/events", "", "Authorization", "Bearer "+k); r.Code != 200 {
				t.Fatalf("key %s: %d", k, r.Code)
			}
		}
	})
}

// The object an event carries is the intent as the API returned it.
func TestEventObjectIsTheResponse(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.createIntent(100)
		r := e.confirm(id, "4242424242424242", "123", 12, 2030)
		if r.Code != 200 {
			t.Fatalf("confirm: %d", r.Code)
		}
		page := e.do("GET", "/v1/events", "").object(t)
		ev := page["data"].([]any)[0].(map[string]any)
		obj, _ := json.Marshal(ev["data"].(map[string]any)["object"])
		var a, b any
		_ = json.Unmarshal(obj, &a)
		_ = json.Unmarshal(r.Body, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("event object\n%s\nresponse\n%s", obj, r.Body)
		}
	})
}
