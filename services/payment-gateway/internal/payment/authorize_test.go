package payment

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestAuthorizeTestCards(t *testing.T) {
	now := time.Date(2026, time.March, 15, 12, 0, 0, 0, time.UTC)
	card := func(number, cvc string) Card {
		return Card{Number: number, ExpMonth: 12, ExpYear: 2030, CVC: cvc}
	}
	tests := []struct {
		name        string
		card        Card
		wantDecline DeclineCode // "" for approved
		wantMessage string
		wantBrand   Brand
		wantFields  []string // non-nil for invalid input
		wantLuhn    bool
	}{
		{"visa succeeds", card("4242424242424242", "123"), "", "", BrandVisa, nil, false},
		{"mastercard succeeds", card("5555555555554444", "123"), "", "", BrandMastercard, nil, false},
		{"any other valid card succeeds", card("378282246310005", "1234"), "", "", BrandAmex, nil, false},
		{"generic decline", card("4000000000000002", "123"), DeclineGeneric, "Your card was declined.", BrandVisa, nil, false},
		{"insufficient funds", card("4000000000009995", "123"), DeclineInsufficientFunds, "Your card has insufficient funds.", BrandVisa, nil, false},
		{"expired card", card("4000000000000069", "123"), DeclineExpiredCard, "Your card has expired.", BrandVisa, nil, false},
		{"incorrect cvc", card("4000000000000127", "123"), DeclineIncorrectCVC, "Your card's security code is incorrect.", BrandVisa, nil, false},
		{"processing error", card("4000000000000119", "123"), DeclineProcessingError, "An error occurred while processing your card. Try again in a little bit.", BrandVisa, nil, false},
		{"past expiry declines", Card{"4242424242424242", 2, 2026, "123"}, DeclineExpiredCard, "Your card has expired.", BrandVisa, nil, false},
		{"Luhn failure is invalid input", card("4242424242424241", "123"), "", "", "", []string{"number"}, true},
		{"a decline test card with a bad cvc is invalid input first", card("4000000000000002", "12"), "", "", "", []string{"cvc"}, false},
		{"bad month", Card{"4242424242424242", 13, 2030, "123"}, "", "", "", []string{"exp_month"}, false},
		{"two-digit year", Card{"4242424242424242", 12, 30, "123"}, "", "", "", []string{"exp_year"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			details, decline, err := Authorize(tt.card, now)
			if tt.wantFields != nil {
				if fields := fieldNames(err); !reflect.DeepEqual(fields, tt.wantFields) {
					t.Fatalf("Authorize error = %v, want problems with %v", err, tt.wantFields)
				}
				if errors.Is(err, ErrIncorrectNumber) != tt.wantLuhn {
					t.Fatalf("errors.Is(%v, ErrIncorrectNumber) = %v, want %v", err, !tt.wantLuhn, tt.wantLuhn)
				}
				if decline != nil || details != (CardDetails{}) {
					t.Fatalf("invalid input returned %+v, %+v", details, decline)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authorize = %v", err)
			}
			if details.Brand != tt.wantBrand || details.Last4 != tt.card.Number[len(tt.card.Number)-4:] ||
				details.ExpMonth != tt.card.ExpMonth || details.ExpYear != tt.card.ExpYear {
				t.Errorf("details = %+v for %s", details, tt.card)
			}
			if tt.wantDecline == "" {
				if decline != nil {
					t.Fatalf("declined %+v, want approval", decline)
				}
				return
			}
			want := Decline{Code: CodeCardDeclined, DeclineCode: tt.wantDecline, Message: tt.wantMessage}
			if decline == nil || *decline != want {
				t.Fatalf("decline = %+v, want %+v", decline, want)
			}
		})
	}
}

func TestAuthorizeExpiry(t *testing.T) {
	tests := []struct {
		name        string
		now         time.Time
		month, year int
		wantExpired bool
	}{
		{"current month is still valid", time.Date(2026, 3, 31, 23, 59, 59, 0, time.UTC), 3, 2026, false},
		{"first day of the current month", time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 3, 2026, false},
		{"the month after expiry", time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), 3, 2026, true},
		{"last month", time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 2, 2026, true},
		{"December of last year", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 12, 2025, true},
		{"January of next year", time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), 1, 2027, false},
		{"a later month this year", time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), 11, 2026, false},
		{"an earlier month next year", time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC), 2, 2027, false},
		// 1 April 01:00 in Paris is still 31 March in UTC, the gateway's clock.
		{"judged in UTC", time.Date(2026, 4, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), 3, 2026, false},
		// 31 March 22:00 in New York is already April in UTC.
		{"judged in UTC, other side", time.Date(2026, 3, 31, 22, 0, 0, 0, time.FixedZone("EDT", -4*3600)), 3, 2026, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Card{Number: "4242424242424242", ExpMonth: tt.month, ExpYear: tt.year, CVC: "123"}
			_, decline, err := Authorize(c, tt.now)
			if err != nil {
				t.Fatalf("Authorize = %v", err)
			}
			if got := decline != nil && decline.DeclineCode == DeclineExpiredCard; got != tt.wantExpired {
				t.Fatalf("expired = %v (decline %+v), want %v", got, decline, tt.wantExpired)
			}
		})
	}
}
