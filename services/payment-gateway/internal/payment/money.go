// Package payment is the payment gateway's domain: money and currencies, card
// validation and the simulated issuer that approves or declines test cards,
// and the payment intent with its state machine and refunds.
//
// It knows nothing of HTTP or storage. Invalid input comes back as a
// *validate.Error (the API answers 422 with one entry per field); a request
// that does not fit the intent's state comes back as one of the ErrIntent...
// values (409); a card the simulated issuer refuses is a *Decline, which is an
// outcome rather than an error (402).
package payment

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/tourism-go/tourism/pkg/validate"
)

// MaxAmount is the largest amount, in minor units, that an intent may carry:
// 99,999,999, that is 999,999.99 EUR, 99,999,999 JPY or 99,999.999 KWD.
// Eight digits is the ceiling real card gateways apply. It also keeps every
// sum the gateway makes (refunds adding up to the amount) far from int64
// overflow, and every amount below 2^53, so a JavaScript client that reads
// JSON numbers as doubles sees it exactly.
const MaxAmount int64 = 99_999_999

// ErrUnsupportedCurrency: the code is not an ISO 4217 currency this gateway
// charges in (see minorUnits). The API reports it as a 422 field error.
var ErrUnsupportedCurrency = errors.New("unsupported currency")

// Currency is an ISO 4217 currency the gateway accepts. The zero value is not
// a currency; get one from ParseCurrency.
type Currency struct {
	code     string
	exponent int
}

// ParseCurrency accepts a three-letter ISO 4217 code in any letter case
// ("eur" as well as "EUR", as clients of real gateways send both) and returns
// it with its code in upper case. Only ASCII letters are considered, so that
// no Unicode case folding can turn a foreign string into a valid code.
func ParseCurrency(s string) (Currency, error) {
	if len(s) != 3 {
		return Currency{}, ErrUnsupportedCurrency
	}
	var code [3]byte
	for i := range 3 {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z':
			code[i] = c
		case 'a' <= c && c <= 'z':
			code[i] = c - 'a' + 'A'
		default:
			return Currency{}, ErrUnsupportedCurrency
		}
	}
	exp, ok := minorUnits[string(code[:])]
	if !ok {
		return Currency{}, ErrUnsupportedCurrency
	}
	return Currency{code: string(code[:]), exponent: exp}, nil
}

// Code is the upper-case ISO 4217 code, "EUR".
func (c Currency) Code() string { return c.code }

// Exponent is the number of minor-unit digits: 2 for EUR, 0 for JPY, 3 for KWD.
func (c Currency) Exponent() int { return c.exponent }

// String returns the code.
func (c Currency) String() string { return c.code }

// Money is an amount in integer minor units of an ISO 4217 currency, as in
// the API: {"amount": 12900, "currency": "EUR"} is 129.00 EUR. Integers,
// because binary floating point cannot hold 0.10 exactly.
type Money struct {
	Amount   int64
	Currency string
}

// ParseMoney validates an amount and a currency code as a client sends them
// and returns them as Money with the code in upper case. Problems with either
// come back together as a *validate.Error on the fields "amount" and
// "currency".
func ParseMoney(amount int64, currency string) (Money, error) {
	var v validate.Collector
	checkAmount(&v, "amount", amount, MaxAmount)
	cur, err := ParseCurrency(currency)
	if err != nil {
		v.Add("currency", "must be a supported ISO 4217 currency code")
	}
	if err := v.Err(); err != nil {
		return Money{}, err
	}
	return Money{Amount: amount, Currency: cur.Code()}, nil
}

// checkAmount records a problem with field unless 1 <= amount <= upTo.
func checkAmount(v *validate.Collector, field string, amount, upTo int64) {
	switch {
	case amount < 1:
		v.Add(field, "must be a positive number of minor units")
	case amount > upTo:
		v.Add(field, "must be at most "+strconv.FormatInt(upTo, 10))
	}
}

// String writes the amount in major units with the currency's exponent,
// "129.00 EUR", "500 JPY", "1.234 KWD", for logs and messages. An unknown
// currency is shown in minor units as stored.
func (m Money) String() string {
	exp, ok := minorUnits[m.Currency]
	if !ok || exp == 0 {
		return strconv.FormatInt(m.Amount, 10) + " " + m.Currency
	}
	sign, abs := "", uint64(m.Amount)
	if m.Amount < 0 {
		// Negating in uint64 also handles math.MinInt64.
		sign, abs = "-", -uint64(m.Amount)
	}
	unit := uint64(1)
	for range exp {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, abs/unit, exp, abs%unit, m.Currency)
}
