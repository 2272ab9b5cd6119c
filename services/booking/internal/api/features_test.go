package api_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
	"github.com/tourism-go/tourism/services/booking/internal/features"
	fakes "github.com/tourism-go/tourism/services/booking/internal/testutil"
)

var (
	catalogOff   = &features.Off{Variable: "CATALOG_SERVICE_TOKEN", Effect: "new bookings are refused until it is"}
	paymentsOff  = &features.Off{Variable: "PAYMENT_API_KEY", Effect: "payments are refused until it is"}
	webhooksOff  = &features.Off{Variable: "WEBHOOK_SECRET", Effect: "webhooks are refused until it is"}
	adminListOff = &features.Off{Variable: "BOOKING_ADMIN_TOKEN", Effect: "the admin list is closed until it is"}
)

// expectNotConfigured checks the 503 of a switched-off route: the problem
// names the variable to set.
func expectNotConfigured(t *testing.T, rec *httptest.ResponseRecorder, variable string) {
	t.Helper()
	p := expectProblem(t, rec, 503, "not_configured")
	if detail, _ := p["detail"].(string); !strings.Contains(detail, variable) {
		t.Fatalf("detail %q does not name %s", detail, variable)
	}
}

// rows counts the rows of a table.
func (h *harness) rows(table string) int64 {
	h.t.Helper()
	var n int64
	if err := h.gdb.Table(table).Count(&n).Error; err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestCreateWithoutCatalogToken(t *testing.T) {
	h := newHarnessWith(t, features.Set{Catalog: catalogOff})
	for _, body := range []string{h.createBody(1), `{}`, ``} {
		expectNotConfigured(t, h.do("POST", "/v1/bookings", body, "Idempotency-Key", "k-1"), "CATALOG_SERVICE_TOKEN")
	}
	// Refused before the idempotency middleware and the flow: nothing
	// written, and the catalog never asked.
	for _, table := range []string{"bookings", "idempotency_keys"} {
		if n := h.rows(table); n != 0 {
			t.Errorf("%d rows in %s", n, table)
		}
	}
	for _, call := range []string{fakes.CallDeparture, fakes.CallPlaceHold} {
		if n := h.catalog.Calls(call); n != 0 {
			t.Errorf("%d %s calls to the catalog", n, call)
		}
	}
}

// Paying needs the gateway and the catalog (a charge must be able to
// confirm its seats); without either, nothing is touched.
func TestPayWithoutPaymentKeyOrCatalogToken(t *testing.T) {
	for _, tc := range []struct {
		name     string
		off      features.Set
		variable string
	}{
		{"no payment key", features.Set{Payments: paymentsOff}, "PAYMENT_API_KEY"},
		{"no catalog token", features.Set{Catalog: catalogOff}, "CATALOG_SERVICE_TOKEN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWith(t, tc.off)
			// A booking from before the secret went missing.
			b, err := h.flow.Create(t.Context(), booking.Request{DepartureID: h.dep.String(), Seats: 1, Customer: booking.Customer{Name: "Ana Lima", Email: "ana@example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			path := "/v1/bookings/" + b.ID.String()
			before := h.do("GET", path, "").Body.String()
			expectNotConfigured(t, h.do("POST", path+"/payments", goodCard, "Idempotency-Key", "k-1"), tc.variable)
			if after := h.do("GET", path, "").Body.String(); after != before {
				t.Fatalf("the booking changed:\n%s\n%s", before, after)
			}
			if n := h.rows("idempotency_keys"); n != 0 {
				t.Errorf("%d idempotency records", n)
			}
			for _, call := range []string{fakes.CallCreateIntent, fakes.CallReadIntent, fakes.CallConfirmIntent} {
				if n := h.payments.Calls(call); n != 0 {
					t.Errorf("%d %s calls to the gateway", n, call)
				}
			}
			if n := h.catalog.Calls(fakes.CallConfirmHold); n != 0 {
				t.Errorf("%d confirm_hold calls to the catalog", n)
			}
		})
	}
}

func TestWebhookWithoutSecret(t *testing.T) {
	h := newHarnessWith(t, features.Set{Webhooks: webhooksOff})
	// The event would confirm this booking.
	id, body := h.paidAnswerLost()

	// Not 401: nothing is forged, the receiver is not set up. Signed or
	// not, the event is not processed.
	expectNotConfigured(t, h.do("POST", "/v1/webhooks/payments", body), "WEBHOOK_SECRET")
	signature := webhook.Sign([]byte(body), time.Now(), []byte(secret))
	expectNotConfigured(t, h.do("POST", "/v1/webhooks/payments", body, webhook.Header, signature), "WEBHOOK_SECRET")
	if n := h.rows("processed_webhook_events"); n != 0 {
		t.Fatalf("%d events recorded", n)
	}
	if b := decode(t, h.do("GET", "/v1/bookings/"+id, "")); b["status"] != "awaiting_payment" {
		t.Fatalf("status %v: the event was applied", b["status"])
	}
}

func TestAdminListWithoutToken(t *testing.T) {
	h := newHarnessWith(t, features.Set{AdminList: adminListOff})
	id := h.create(1)["id"].(string)
	// Never open without a token, whatever the request carries.
	expectNotConfigured(t, h.do("GET", "/v1/bookings", ""), "BOOKING_ADMIN_TOKEN")
	expectNotConfigured(t, h.do("GET", "/v1/bookings", "", "Authorization", "Bearer "+adminToken), "BOOKING_ADMIN_TOKEN")
	// A booking's own page needs no secret.
	if rec := h.do("GET", "/v1/bookings/"+id, ""); rec.Code != 200 {
		t.Fatalf("read by id: %d %s", rec.Code, rec.Body)
	}
}
