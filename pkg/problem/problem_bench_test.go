package problem

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/validate"
)

// BenchmarkMarshal is the cost of one error body: a plain 404, a 422 with
// three field errors, and a 402 with an extension (decline_code).
func BenchmarkMarshal(b *testing.B) {
	for _, tc := range []struct {
		name string
		p    *Problem
	}{
		{"not_found", NotFound("No tour with id 0192f0a1-b2c3-7d4e-8f6a-7b8c9d0e1f2a.")},
		{"validation", Validation([]validate.FieldError{
			{Field: "seats", Detail: "must be between 1 and 20"},
			{Field: "customer.email", Detail: "must be an email address"},
			{Field: "departure_id", Detail: "must be a UUID"},
		})},
		{"extension", New(http.StatusPaymentRequired, "card_declined", "The card was declined.").With("decline_code", "insufficient_funds")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(tc.p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite is a problem answered through gin, as every handler does.
func BenchmarkWrite(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	p := NotFound("No tour with id 0192f0a1-b2c3-7d4e-8f6a-7b8c9d0e1f2a.")
	req := httptest.NewRequest(http.MethodGet, "/v1/tours/x", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = req
		Write(c, p)
	}
}
