package catalog

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestHoldRequestValidate(t *testing.T) {
	id := "0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60"
	tests := []struct {
		name    string
		in      HoldRequest
		wantTTL time.Duration
		fields  []string
	}{
		{"default ttl", HoldRequest{BookingID: id, Seats: 2}, 15 * time.Minute, nil},
		{"given ttl", HoldRequest{BookingID: id, Seats: 20, TTLSeconds: ptr(30)}, 30 * time.Second, nil},
		{"max ttl", HoldRequest{BookingID: id, Seats: 1, TTLSeconds: ptr(3600)}, time.Hour, nil},
		{"ttl too short", HoldRequest{BookingID: id, Seats: 1, TTLSeconds: ptr(29)}, 0, []string{"ttl_seconds"}},
		{"ttl too long", HoldRequest{BookingID: id, Seats: 1, TTLSeconds: ptr(3601)}, 0, []string{"ttl_seconds"}},
		{"ttl zero given", HoldRequest{BookingID: id, Seats: 1, TTLSeconds: ptr(0)}, 0, []string{"ttl_seconds"}},
		{"ttl that would overflow", HoldRequest{BookingID: id, Seats: 1, TTLSeconds: ptr(1 << 62)}, 0, []string{"ttl_seconds"}},
		{"seats zero", HoldRequest{BookingID: id}, 0, []string{"seats"}},
		{"seats 21", HoldRequest{BookingID: id, Seats: 21}, 0, []string{"seats"}},
		{"no booking id", HoldRequest{Seats: 1}, 0, []string{"booking_id"}},
		{"bad booking id", HoldRequest{BookingID: "booking-1", Seats: 1}, 0, []string{"booking_id"}},
		{"nil booking id", HoldRequest{BookingID: uuid.Nil.String(), Seats: 1}, 0, []string{"booking_id"}},
		{"braced booking id", HoldRequest{BookingID: "{" + id + "}", Seats: 1}, 0, []string{"booking_id"}},
		{"all wrong", HoldRequest{TTLSeconds: ptr(1)}, 0, []string{"booking_id", "seats", "ttl_seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotID, ttl, err := tt.in.Validate()
			assertFields(t, err, tt.fields...)
			if err == nil && (gotID.String() != id || ttl != tt.wantTTL) {
				t.Fatalf("got %v %v, want %v %v", gotID, ttl, id, tt.wantTTL)
			}
		})
	}
}

func TestValidateHold(t *testing.T) {
	assertFields(t, ValidateHold(1, MinHoldTTL))
	assertFields(t, ValidateHold(20, MaxHoldTTL))
	assertFields(t, ValidateHold(0, MaxHoldTTL+time.Second), "seats", "ttl_seconds")
}

func TestHoldExpiredAndTotal(t *testing.T) {
	exp := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	h := Hold{Status: HoldHeld, ExpiresAt: exp, Seats: 3, UnitPrice: Money{12900, "EUR"}}
	if h.Expired(exp.Add(-time.Nanosecond)) {
		t.Fatal("expired before ExpiresAt")
	}
	if !h.Expired(exp) {
		t.Fatal("not expired at ExpiresAt")
	}
	h.Status = HoldConfirmed
	if h.Expired(exp.Add(time.Hour)) {
		t.Fatal("a confirmed hold expired")
	}
	if h.Total() != (Money{38700, "EUR"}) {
		t.Fatalf("Total = %v", h.Total())
	}
}
