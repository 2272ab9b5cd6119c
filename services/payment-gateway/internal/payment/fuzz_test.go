package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/validate"
)

// FuzzValidateCard checks what must hold for any input: no panic, an accepted
// card is exactly what the rules describe, a rejected one is a field error,
// and no way of printing the card shows its number.
func FuzzValidateCard(f *testing.F) {
	f.Add("4242424242424242", "123", 12, 2030)
	f.Add("378282246310005", "1234", 1, 2099)
	f.Add("4242424242424241", "12", 13, 30)
	f.Add("", "", 0, 0)
	f.Fuzz(func(t *testing.T, number, cvc string, month, year int) {
		c := Card{Number: number, CVC: cvc, ExpMonth: month, ExpYear: year}
		d, err := ValidateCard(c)
		if err == nil {
			checkAccepted(t, c, d)
		} else {
			checkRejected(t, c, d, err)
		}

		// Authorize validates the same way, whatever the clock says.
		_, _, authErr := Authorize(c, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC))
		if (authErr == nil) != (err == nil) {
			t.Fatalf("Authorize error %v disagrees with ValidateCard error %v", authErr, err)
		}

		// The number must not show in text. (Only number-shaped values are
		// checked: "visa" typed as a number would legitimately appear.)
		if isDigits(number) && len(number) >= 8 {
			for _, out := range []string{c.String(), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
				if strings.Contains(out, number) {
					t.Fatalf("printed card %q contains its number", out)
				}
			}
		}
		raw, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatalf("MarshalJSON produced invalid JSON %s: %v", raw, err)
		}
		if _, ok := fields["number"]; ok {
			t.Fatalf("MarshalJSON emitted the number: %s", raw)
		}
		if _, ok := fields["cvc"]; ok {
			t.Fatalf("MarshalJSON emitted the cvc: %s", raw)
		}
	})
}

func checkAccepted(t *testing.T, c Card, d CardDetails) {
	t.Helper()
	n := c.Number
	if !isDigits(n) || len(n) < 12 || len(n) > 19 || !luhnValid(n) {
		t.Fatalf("accepted number %q: not 12-19 digits passing Luhn", n)
	}
	if d.Last4 != n[len(n)-4:] {
		t.Fatalf("last4 = %q for %q", d.Last4, n)
	}
	if d.Brand != detectBrand(n) {
		t.Fatalf("brand = %q for %q, detectBrand says %q", d.Brand, n, detectBrand(n))
	}
	if (d.Brand == BrandVisa) != (n[0] == '4') || (d.Brand == BrandAmex) != (n[:2] == "34" || n[:2] == "37") {
		t.Fatalf("brand %q does not match the prefix of %q", d.Brand, n)
	}
	if !isDigits(c.CVC) {
		t.Fatalf("accepted cvc %q", c.CVC)
	}
	if cvcLen := len(c.CVC); cvcLen != 3 && cvcLen != 4 {
		t.Fatalf("accepted a %d-digit cvc for %s", cvcLen, d.Brand)
	}
	if d.ExpMonth != c.ExpMonth || d.ExpYear != c.ExpYear || c.ExpMonth < 1 || c.ExpMonth > 12 ||
		c.ExpYear < 1000 || c.ExpYear > 9999 {
		t.Fatalf("accepted expiry %d/%d as %d/%d", c.ExpMonth, c.ExpYear, d.ExpMonth, d.ExpYear)
	}
}

func checkRejected(t *testing.T, c Card, d CardDetails, err error) {
	t.Helper()
	if d != (CardDetails{}) {
		t.Fatalf("details %+v returned with error %v", d, err)
	}
	fields, ok := validate.Fields(err)
	if !ok || len(fields) == 0 {
		t.Fatalf("error %v is not a field error", err)
	}
	known := []string{"number", "cvc", "exp_month", "exp_year"}
	for _, fe := range fields {
		if !slices.Contains(known, fe.Field) {
			t.Fatalf("problem with unknown field %q", fe.Field)
		}
	}
	if errors.Is(err, ErrIncorrectNumber) {
		n := c.Number
		if !isDigits(n) || len(n) < 12 || len(n) > 19 || luhnValid(n) {
			t.Fatalf("ErrIncorrectNumber for %q, which is not a well-formed number failing Luhn", n)
		}
	}
}

// FuzzParseMoney checks that ParseMoney accepts exactly the amounts in range
// with a currency of the table, in any letter case, and says which field is
// wrong otherwise.
func FuzzParseMoney(f *testing.F) {
	f.Add(int64(12900), "EUR")
	f.Add(int64(1), "jpy")
	f.Add(int64(0), "ABC")
	f.Add(MaxAmount+1, "kwd")
	f.Fuzz(func(t *testing.T, amount int64, currency string) {
		m, err := ParseMoney(amount, currency)
		amountOK := amount >= 1 && amount <= MaxAmount
		cur, curErr := ParseCurrency(currency)
		if err == nil {
			if !amountOK || curErr != nil {
				t.Fatalf("ParseMoney(%d, %q) accepted", amount, currency)
			}
			if m.Amount != amount || m.Currency != strings.ToUpper(currency) || m.Currency != cur.Code() {
				t.Fatalf("ParseMoney(%d, %q) = %+v", amount, currency, m)
			}
			if _, ok := minorUnits[m.Currency]; !ok {
				t.Fatalf("currency %q is not in the table", m.Currency)
			}
			if s := m.String(); !strings.HasSuffix(s, " "+m.Currency) {
				t.Fatalf("String() = %q", s)
			}
			return
		}
		if m != (Money{}) {
			t.Fatalf("ParseMoney returned %+v with error %v", m, err)
		}
		var want []string
		if !amountOK {
			want = append(want, "amount")
		}
		if curErr != nil {
			want = append(want, "currency")
		}
		if got := fieldNames(err); !slices.Equal(got, want) {
			t.Fatalf("ParseMoney(%d, %q) problems %v, want %v", amount, currency, got, want)
		}
	})
}
