package webhook

import (
	"testing"
	"time"
)

// A payment_intent.succeeded event as the gateway sends it: about 600 bytes.
var benchBody = []byte(`{"id":"evt_0192f0a1b2c3d4e5f6a7b8c9d0e1f2a3","type":"payment_intent.succeeded","created":1767225600,` +
	`"data":{"object":{"id":"pi_0192f0a1b2c3d4e5f6a7b8c9d0e1f2a3","status":"succeeded","amount":25800,"currency":"EUR",` +
	`"amount_refunded":0,"description":"Booking 0192f0a1-b2c3-7d4e-8f6a-7b8c9d0e1f2a: 2 seat(s)",` +
	`"metadata":{"booking_id":"0192f0a1-b2c3-7d4e-8f6a-7b8c9d0e1f2a"},"card":{"brand":"visa","last4":"4242",` +
	`"exp_month":12,"exp_year":2030},"last_payment_error":null,"created":1767225599}}}`)

// BenchmarkSign is the gateway's cost per delivery and secret; the
// receiver's side is BenchmarkVerify in webhook_test.go.
func BenchmarkSign(b *testing.B) {
	secret := []byte("whsec_0123456789abcdef0123456789")
	at := time.Unix(1767225600, 0)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		_ = Sign(benchBody, at, secret)
	}
}
