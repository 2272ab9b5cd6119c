package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/tourism-go/tourism/pkg/validate"
)

// ErrIncorrectNumber: the card number has a valid shape but fails the Luhn
// check, which is how a gateway catches a mistyped digit. ValidateCard returns
// it joined with a *validate.Error, so errors.Is finds it and validate.Fields
// still lists every field problem; the API answers 422 with code
// "incorrect_number" instead of "validation_failed".
var ErrIncorrectNumber = errors.New("incorrect card number")

// Brand is the card network, read from the number's leading digits. The names
// are those gateways use in their APIs.
type Brand string

// Brands the gateway recognises. A number whose prefix matches none of them is
// BrandUnknown, which is still accepted: the simulator has no network to ask.
const (
	BrandVisa       Brand = "visa"
	BrandMastercard Brand = "mastercard"
	BrandAmex       Brand = "amex"
	BrandDiscover   Brand = "discover"
	BrandJCB        Brand = "jcb"
	BrandDiners     Brand = "diners"
	BrandUnionPay   Brand = "unionpay"
	BrandUnknown    Brand = "unknown"
)

// Card is a card as a client sends it to confirm a payment. It lives only for
// the length of one request: the gateway keeps its CardDetails, never the
// number or the CVC.
//
// The json tags let the API decode a request straight into a Card, so the
// number never sits in a type that would print it. Every way of printing a
// Card (fmt verbs, slog, json.Marshal) shows only the brand and last four
// digits; see String, Format, LogValue and MarshalJSON. One gap: fmt cannot
// call methods through unexported struct fields, so a Card kept in an
// unexported field of another struct prints field by field; keep it in an
// exported field or a variable of its own.
type Card struct {
	Number   string `json:"number"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

// CardDetails is all the card data the gateway ever keeps or returns.
type CardDetails struct {
	Brand    Brand  `json:"brand"`
	Last4    string `json:"last4"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
}

// Card numbers have 12 to 19 digits (ISO/IEC 7812 allows 8 to 19; no card
// network issues fewer than 12).
const (
	minNumberDigits = 12
	maxNumberDigits = 19
)

// ValidateCard checks the card's fields and returns the details worth
// keeping. Field problems come back together as a *validate.Error with the
// JSON field names ("number", "cvc", ...), to be nested under "card" by the
// caller; a Luhn failure additionally matches ErrIncorrectNumber.
//
// The number must be digits only, with no spaces or dashes: the API takes a
// string so that leading zeros and 19 digits survive, not so that it can guess
// at formatting. The CVC has 3 or 4 digits whatever the brand: DESIGN §5
// promises test cards work with "any 3–4 digit CVC", and the simulator has no
// issuer that would know which length a card really prints. An expiry in the
// past is not a validation problem; Authorize declines it as "expired_card",
// as a real issuer would.
func ValidateCard(c Card) (CardDetails, error) {
	var v validate.Collector
	wellFormed := false
	switch {
	case c.Number == "":
		v.Add("number", "is required")
	case !isDigits(c.Number):
		v.Add("number", "must contain digits only")
	case len(c.Number) < minNumberDigits || len(c.Number) > maxNumberDigits:
		v.Add("number", fmt.Sprintf("must have %d to %d digits", minNumberDigits, maxNumberDigits))
	default:
		wellFormed = true
	}
	luhnFailed := wellFormed && !luhnValid(c.Number)
	if luhnFailed {
		v.Add("number", "is not a valid card number")
	}

	switch {
	case c.CVC == "":
		v.Add("cvc", "is required")
	case !isDigits(c.CVC):
		v.Add("cvc", "must contain digits only")
	case len(c.CVC) < 3 || len(c.CVC) > 4:
		v.Add("cvc", "must have 3 or 4 digits")
	}
	v.Check(c.ExpMonth >= 1 && c.ExpMonth <= 12, "exp_month", "must be between 1 and 12")
	v.Check(c.ExpYear >= 1000 && c.ExpYear <= 9999, "exp_year", "must be a four-digit year")

	if err := v.Err(); err != nil {
		if luhnFailed {
			return CardDetails{}, fmt.Errorf("%w: %w", ErrIncorrectNumber, err)
		}
		return CardDetails{}, err
	}
	return CardDetails{
		Brand:    detectBrand(c.Number),
		Last4:    c.Number[len(c.Number)-4:],
		ExpMonth: c.ExpMonth,
		ExpYear:  c.ExpYear,
	}, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// luhnValid reports whether a string of digits passes the Luhn (mod 10)
// check: from the right, every second digit is doubled (9 subtracted when
// that exceeds 9), and the sum must be a multiple of 10. It catches every
// single mistyped digit and most swaps of two neighbours.
func luhnValid(digits string) bool {
	sum := 0
	double := false
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
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

// detectBrand reads the brand from the leading digits (the issuer
// identification number ranges the networks publish) of a string of digits.
// The order matters where ranges nest: Discover's 622126-622925 lies inside
// UnionPay's 62.
func detectBrand(digits string) Brand {
	p2, p3, p4, p6 := prefix(digits, 2), prefix(digits, 3), prefix(digits, 4), prefix(digits, 6)
	switch {
	case digits != "" && digits[0] == '4':
		return BrandVisa
	case p2 == 34 || p2 == 37:
		return BrandAmex
	case (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720):
		return BrandMastercard
	case p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925):
		return BrandDiscover
	case p4 >= 3528 && p4 <= 3589:
		return BrandJCB
	case p2 == 36 || p2 == 38 || p2 == 39 || (p3 >= 300 && p3 <= 305) || p4 == 3095:
		return BrandDiners
	case p2 == 62:
		return BrandUnionPay
	}
	return BrandUnknown
}

// prefix returns the first n digits as a number, or -1 when there are fewer.
func prefix(digits string, n int) int {
	if len(digits) < n {
		return -1
	}
	v, err := strconv.Atoi(digits[:n])
	if err != nil {
		return -1
	}
	return v
}

// redacted is what a Card may show of itself: brand, last four and expiry.
// The last four are shown only for something shaped like a card number, so
// that a short or odd value typed into the number field is not echoed almost
// whole.
func (c Card) redacted() CardDetails {
	d := CardDetails{Brand: BrandUnknown, ExpMonth: c.ExpMonth, ExpYear: c.ExpYear}
	if isDigits(c.Number) && len(c.Number) >= minNumberDigits {
		d.Brand = detectBrand(c.Number)
		d.Last4 = c.Number[len(c.Number)-4:]
	}
	return d
}

// String shows the brand and last four digits only, "visa ****4242".
func (c Card) String() string {
	d := c.redacted()
	last4 := d.Last4
	if last4 == "" {
		last4 = "????"
	}
	return string(d.Brand) + " ****" + last4
}

// Format makes every fmt verb print String, including %#v and %+v, which
// would otherwise print the fields of the struct one by one.
func (c Card) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
}

// LogValue is what slog logs for a Card: a group with brand and last4.
func (c Card) LogValue() slog.Value {
	d := c.redacted()
	return slog.GroupValue(slog.String("brand", string(d.Brand)), slog.String("last4", d.Last4))
}

// MarshalJSON encodes a Card as its CardDetails, so a Card that ends up in a
// JSON log line or response never carries its number or CVC.
func (c Card) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.redacted())
}
