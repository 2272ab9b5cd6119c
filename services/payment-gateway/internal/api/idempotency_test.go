package api

import (
	"bytes"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestIdempotentReplay(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		body := `{"amount":5000,"currency":"EUR","description":"retried"}`
		first := e.do("POST", "/v1/payment_intents", body, "Idempotency-Key", "create-1")
		again := e.do("POST", "/v1/payment_intents", body, "Idempotency-Key", "create-1")
		if first.Code != 201 || again.Code != 201 || !bytes.Equal(first.Body, again.Body) {
			t.Fatalf("replay: %d %s / %d %s", first.Code, first.Body, again.Code, again.Body)
		}
		if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("Idempotent-Replayed: %q then %q", first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
		}
		if n := e.count("SELECT COUNT(*) FROM payment_intents"); n != 1 {
			t.Fatalf("%d intents, want 1", n)
		}

		// Same key, another body: refused, nothing created.
		e.do("POST", "/v1/payment_intents", `{"amount":5001,"currency":"EUR"}`, "Idempotency-Key", "create-1").
			problem(t, 422, "idempotency_key_reused")
		if n := e.count("SELECT COUNT(*) FROM payment_intents"); n != 1 {
			t.Fatalf("%d intents after a reused key, want 1", n)
		}

		// A decline is an outcome: replayed, not charged again.
		id := first.object(t)["id"].(string)
		declined := e.confirm(id, "4000000000009995", "123", 12, 2030, "Idempotency-Key", "confirm-1")
		declined.problem(t, 402, "card_declined")
		replayed := e.confirm(id, "4000000000009995", "123", 12, 2030, "Idempotency-Key", "confirm-1")
		if replayed.Code != 402 || replayed.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(replayed.Body, declined.Body) {
			t.Fatalf("replayed decline: %d %s", replayed.Code, replayed.Body)
		}
		if n := e.count("SELECT COUNT(*) FROM events WHERE type = 'payment_intent.payment_failed'"); n != 1 {
			t.Fatalf("%d payment_failed events, want 1", n)
		}
		// Another card under the same key is another request.
		e.confirm(id, "4242424242424242", "123", 12, 2030, "Idempotency-Key", "confirm-1").
			problem(t, 422, "idempotency_key_reused")
	})
}

// A validation failure is not stored: the client fixes its body and
// retries with the same key (DESIGN §2).
func TestIdempotencyKeyIsFreeAfterAValidationFailure(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		id := e.createIntent(100)
		e.confirm(id, "4242424242424241", "123", 12, 2030, "Idempotency-Key", "k").problem(t, 422, "incorrect_number")
		if r := e.confirm(id, "4242424242424242", "123", 12, 2030, "Idempotency-Key", "k"); r.Code != 200 || r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("corrected retry: %d %s", r.Code, r.Body)
		}
	})
}

// Keys belong to the merchant key that sent them: the same key under the
// other key of a rotation is a different request. The database keeps a
// digest of the merchant key, never the key.
func TestIdempotencyKeysAreScopedByMerchantKey(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		body := `{"amount":100,"currency":"EUR"}`
		a := e.do("POST", "/v1/payment_intents", body, "Idempotency-Key", "same")
		b := e.do("POST", "/v1/payment_intents", body, "Idempotency-Key", "same", "Authorization", "Bearer "+rotatedKey)
		if a.Code != 201 || b.Code != 201 || b.Header.Get("Idempotent-Replayed") != "" || bytes.Equal(a.Body, b.Body) {
			t.Fatalf("two merchant keys: %d %s / %d %s", a.Code, a.Body, b.Code, b.Body)
		}
		var scopes []string
		if err := e.gdb.Raw("SELECT scope FROM idempotency_keys").Scan(&scopes).Error; err != nil {
			t.Fatal(err)
		}
		if len(scopes) != 2 || scopes[0] == scopes[1] {
			t.Fatalf("scopes %v", scopes)
		}
		for _, s := range scopes {
			if strings.Contains(s, "sk_test") || strings.Contains(s, "apitests") {
				t.Fatalf("scope %q holds the merchant key", s)
			}
		}
	})
}

// Duplicates sent at the same moment: one intent, one charge; every other
// answer is the first one replayed or 409 idempotency_key_in_use.
func TestConcurrentDuplicates(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		const n = 10
		var wg sync.WaitGroup
		results := make([]response, n)
		for i := range n {
			wg.Go(func() {
				results[i] = e.do("POST", "/v1/payment_intents", `{"amount":7000,"currency":"EUR"}`, "Idempotency-Key", "dup-create")
			})
		}
		wg.Wait()
		id := checkDuplicates(t, results, http.StatusCreated)
		if n := e.count("SELECT COUNT(*) FROM payment_intents"); n != 1 {
			t.Fatalf("%d intents, want 1", n)
		}

		for i := range n {
			wg.Go(func() {
				results[i] = e.confirm(id, "4242424242424242", "123", 12, 2030, "Idempotency-Key", "dup-confirm")
			})
		}
		wg.Wait()
		checkDuplicates(t, results, http.StatusOK)
		if n := e.count("SELECT COUNT(*) FROM events WHERE type = 'payment_intent.succeeded'"); n != 1 {
			t.Fatalf("%d charges, want 1", n)
		}
	})
}

// checkDuplicates checks that every answer is the first one (status
// success, same body) or 409 in use, and returns the id in the body.
func checkDuplicates(t *testing.T, results []response, success int) string {
	t.Helper()
	var first []byte
	for _, r := range results {
		switch r.Code {
		case success:
			if first == nil {
				first = r.Body
			} else if !bytes.Equal(first, r.Body) {
				t.Fatalf("two different answers:\n%s\n%s", first, r.Body)
			}
		case http.StatusConflict:
			r.problem(t, 409, "idempotency_key_in_use")
		default:
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
	}
	if first == nil {
		t.Fatal("no request succeeded")
	}
	return response{Body: first}.object(t)["id"].(string)
}
