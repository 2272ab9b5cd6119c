package catalog

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Price bounds in minor units: at least one cent, at most 100 000.00.
const (
	MinPriceAmount int64 = 1
	MaxPriceAmount int64 = 10_000_000
)

// Money is an amount in integer minor units (cents) of an ISO 4217
// currency. It appears verbatim in the API, hence its JSON names.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Times returns m multiplied by n, as for a hold's total.
func (m Money) Times(n int) Money {
	return Money{Amount: m.Amount * int64(n), Currency: m.Currency}
}

// Validate checks that m is a price the catalog may charge. Field names are
// relative ("amount", "currency"); callers merge them under their own prefix.
func (m Money) Validate() error {
	var c validate.Collector
	c.Check(m.Amount >= MinPriceAmount && m.Amount <= MaxPriceAmount,
		"amount", "must be between "+strconv.FormatInt(MinPriceAmount, 10)+" and "+strconv.FormatInt(MaxPriceAmount, 10)+" minor units")
	c.Check(IsSupportedCurrency(m.Currency),
		"currency", "must be one of "+strings.Join(SupportedCurrencies(), ", "))
	return c.Err()
}

// SupportedCurrencies lists, sorted, the currencies tours may be priced in.
//
// It is a deliberate subset of ISO 4217: every code is one the payment
// gateway (which knows all of ISO 4217) accepts, and every one has two
// decimal places, so "minor units" always means cents in this course.
// A new code is added here, not accepted by pattern, so that a typo such
// as "EUE" is caught when the tour is written rather than at payment.
func SupportedCurrencies() []string {
	return []string{"AUD", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "NOK", "PLN", "SEK", "USD"}
}

// IsSupportedCurrency reports whether code is in SupportedCurrencies.
func IsSupportedCurrency(code string) bool {
	_, found := slices.BinarySearch(SupportedCurrencies(), code)
	return found
}
