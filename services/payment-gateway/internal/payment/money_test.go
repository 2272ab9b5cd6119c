package payment

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/tourism-go/tourism/pkg/validate"
)

func TestParseCurrency(t *testing.T) {
	tests := []struct {
		in       string
		wantCode string
		wantExp  int
	}{
		{"EUR", "EUR", 2},
		{"eur", "EUR", 2},
		{"eUr", "EUR", 2},
		{"USD", "USD", 2},
		{"JPY", "JPY", 0},
		{"jpy", "JPY", 0},
		{"KRW", "KRW", 0},
		{"ISK", "ISK", 0},
		{"KWD", "KWD", 3},
		{"BHD", "BHD", 3},
		{"TND", "TND", 3},
		{"XOF", "XOF", 0},
		{"XCD", "XCD", 2},
		{"XCG", "XCG", 2},
		{"ZWG", "ZWG", 2},
		{"HUF", "HUF", 2},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			c, err := ParseCurrency(tt.in)
			if err != nil {
				t.Fatalf("ParseCurrency(%q) = %v", tt.in, err)
			}
			if c.Code() != tt.wantCode || c.Exponent() != tt.wantExp || c.String() != tt.wantCode {
				t.Fatalf("ParseCurrency(%q) = %s/%d, want %s/%d", tt.in, c, c.Exponent(), tt.wantCode, tt.wantExp)
			}
		})
	}
}

func TestParseCurrencyRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"unknown code", "ABC"},
		{"too long", "EURO"},
		{"too short", "EU"},
		{"leading space", " EUR"},
		{"trailing newline", "EUR\n"},
		{"digits", "978"},
		{"gold is not a card currency", "XAU"},
		{"special drawing rights", "XDR"},
		{"test code", "XTS"},
		{"fund code", "CLF"},
		{"withdrawn kuna", "HRK"},
		{"withdrawn Zimbabwe dollar", "ZWL"},
		{"long s folds to S under Unicode rules", "uſd"},
		{"full-width letters", "ＥＵＲ"},
		{"NUL inside", "E\x00R"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCurrency(tt.in)
			if !errors.Is(err, ErrUnsupportedCurrency) {
				t.Fatalf("ParseCurrency(%q) = %v, %v; want ErrUnsupportedCurrency", tt.in, c, err)
			}
			if c != (Currency{}) {
				t.Fatalf("ParseCurrency(%q) returned %v with its error, want the zero Currency", tt.in, c)
			}
		})
	}
}

func TestCurrencyTable(t *testing.T) {
	// The table is ISO 4217 list one less funds, metals and withdrawn codes;
	// a count guards against a line lost or pasted twice in an edit.
	if got, want := len(minorUnits), 155; got != want {
		t.Errorf("table has %d currencies, want %d: update the count only with the ISO list at hand", got, want)
	}
	zeroOrThree := map[int]int{}
	for code, exp := range minorUnits {
		if len(code) != 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || code[2] < 'A' || code[2] > 'Z' {
			t.Errorf("code %q is not three upper-case letters", code)
		}
		if exp != 0 && exp != 2 && exp != 3 {
			t.Errorf("%s has exponent %d; every current ISO currency has 0, 2 or 3", code, exp)
		}
		zeroOrThree[exp]++
	}
	if zeroOrThree[0] != 16 || zeroOrThree[3] != 7 {
		t.Errorf("exponent counts %v, want 16 with 0 and 7 with 3", zeroOrThree)
	}
}

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name       string
		amount     int64
		currency   string
		want       Money
		wantFields []string
	}{
		{"smallest", 1, "EUR", Money{1, "EUR"}, nil},
		{"typical", 12900, "eur", Money{12900, "EUR"}, nil},
		{"largest", MaxAmount, "JPY", Money{MaxAmount, "JPY"}, nil},
		{"zero", 0, "EUR", Money{}, []string{"amount"}},
		{"negative", -100, "EUR", Money{}, []string{"amount"}},
		{"one over the limit", MaxAmount + 1, "EUR", Money{}, []string{"amount"}},
		{"int64 max", math.MaxInt64, "EUR", Money{}, []string{"amount"}},
		{"int64 min", math.MinInt64, "EUR", Money{}, []string{"amount"}},
		{"unknown currency", 100, "ABC", Money{}, []string{"currency"}},
		{"missing currency", 100, "", Money{}, []string{"currency"}},
		{"both wrong", 0, "ABC", Money{}, []string{"amount", "currency"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMoney(tt.amount, tt.currency)
			if got != tt.want {
				t.Errorf("ParseMoney = %+v, want %+v", got, tt.want)
			}
			if gotFields := fieldNames(err); !reflect.DeepEqual(gotFields, tt.wantFields) {
				t.Errorf("ParseMoney error = %v, want problems with %v", err, tt.wantFields)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{12900, "EUR"}, "129.00 EUR"},
		{Money{5, "EUR"}, "0.05 EUR"},
		{Money{500, "JPY"}, "500 JPY"},
		{Money{1234, "KWD"}, "1.234 KWD"},
		{Money{1, "KWD"}, "0.001 KWD"},
		{Money{-250, "USD"}, "-2.50 USD"},
		{Money{MaxAmount, "EUR"}, "999999.99 EUR"},
		{Money{math.MinInt64, "EUR"}, "-92233720368547758.08 EUR"},
		{Money{42, "ABC"}, "42 ABC"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// fieldNames lists the fields of a *validate.Error in order; nil for nil. It
// fails loudly (with a made-up field) for an error of another kind, so a test
// expecting field problems cannot pass on a different error.
func fieldNames(err error) []string {
	if err == nil {
		return nil
	}
	fields, ok := validate.Fields(err)
	if !ok {
		return []string{"<not a *validate.Error: " + err.Error() + ">"}
	}
	names := make([]string, 0, len(fields))
	for _, f := range fields {
		names = append(names, f.Field)
	}
	return names
}
