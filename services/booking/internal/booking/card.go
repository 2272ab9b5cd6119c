package booking

import (
	"fmt"
	"log/slog"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Card is a payment card as the customer sends it. Booking passes it to the
// gateway and forgets it: it is never stored, and it prints as "[card]" in
// logs and error messages, so that a stray log call cannot leak a number
// or CVC.
type Card struct {
	Number   string
	ExpMonth int
	ExpYear  int
	CVC      string
}

// Validate checks the card's shape (digits, Luhn, month, CVC length), so
// that a typo is a 422 here rather than a round trip to the gateway. Whether
// it is expired or good for the amount is the issuer's call: those come back
// as declines.
func (c Card) Validate() error {
	var v validate.Collector
	switch {
	case c.Number == "":
		v.Add("number", "is required")
	case !digits(c.Number) || len(c.Number) < 12 || len(c.Number) > 19:
		v.Add("number", "must be 12 to 19 digits")
	case !luhn(c.Number):
		v.Add("number", "is not a valid card number")
	}
	v.Check(c.ExpMonth >= 1 && c.ExpMonth <= 12, "exp_month", "must be between 1 and 12")
	v.Check(c.ExpYear >= 2000 && c.ExpYear <= 2100, "exp_year", "must be a four-digit year")
	v.Check(digits(c.CVC) && len(c.CVC) >= 3 && len(c.CVC) <= 4, "cvc", "must be 3 or 4 digits")
	return v.Err()
}

// String hides the card.
func (Card) String() string { return "[card]" }

// GoString hides the card from %#v too.
func (Card) GoString() string { return "[card]" }

// Format hides the card from every fmt verb, %+v included.
func (c Card) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue hides the card from slog.
func (Card) LogValue() slog.Value { return slog.StringValue("[card]") }

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhn is the check digit test every card number passes.
func luhn(number string) bool {
	sum := 0
	double := false
	for i := len(number) - 1; i >= 0; i-- {
		d := int(number[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}
