package payment

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		{"4242424242424242", true},
		{"5555555555554444", true},
		{"378282246310005", true},
		{"6011111111111117", true},
		{"4000000000000002", true},
		{"79927398713", true}, // the textbook example
		{"0000000000000000", true},
		{"0", true},
		{"4242424242424241", false}, // last digit mistyped
		{"4242424242424224", false}, // last two swapped
		{"79927398710", false},
		{"1", false},
		{"18", true}, // 1 doubled is 2, plus 8
		{"59", true}, // 5 doubled is 10, minus 9 is 1, plus 9
		{"58", false},
	}
	for _, tt := range tests {
		if got := luhnValid(tt.digits); got != tt.want {
			t.Errorf("luhnValid(%q) = %v, want %v", tt.digits, got, tt.want)
		}
	}
}

func TestDetectBrand(t *testing.T) {
	tests := []struct {
		number string
		want   Brand
	}{
		{"4242424242424242", BrandVisa},
		{"4000000000000000006", BrandVisa},
		{"5555555555554444", BrandMastercard},
		{"5100000000000000", BrandMastercard},
		{"5500000000000000", BrandMastercard},
		{"2221000000000009", BrandMastercard},
		{"2720999999999996", BrandMastercard},
		{"2220999999999999", BrandUnknown}, // just below the 2-series
		{"2721000000000000", BrandUnknown}, // just above it
		{"5000000000000000", BrandUnknown}, // Maestro, not recognised
		{"5600000000000000", BrandUnknown},
		{"378282246310005", BrandAmex},
		{"341111111111111", BrandAmex},
		{"351111111111111", BrandUnknown},
		{"6011111111111117", BrandDiscover},
		{"6500000000000000", BrandDiscover},
		{"6440000000000000", BrandDiscover},
		{"6490000000000000", BrandDiscover},
		{"6430000000000000", BrandUnknown},
		{"622126000000000000", BrandDiscover},
		{"6229250000000000", BrandDiscover},
		{"6221250000000000", BrandUnionPay}, // just below Discover's slice of 62
		{"6229260000000000", BrandUnionPay}, // just above it
		{"6200000000000005", BrandUnionPay},
		{"3566002020360505", BrandJCB},
		{"3528000000000000", BrandJCB},
		{"3589000000000000", BrandJCB},
		{"3527000000000000", BrandUnknown},
		{"3590000000000000", BrandUnknown},
		{"3056930009020004", BrandDiners},
		{"36227206271667", BrandDiners},
		{"3095000000000000", BrandDiners},
		{"3800000000000000", BrandDiners},
		{"3060000000000000", BrandUnknown},
		{"1000000000000000", BrandUnknown},
		{"0000000000000000", BrandUnknown},
		{"", BrandUnknown},
		{"4", BrandVisa},
		{"3", BrandUnknown},
	}
	for _, tt := range tests {
		if got := detectBrand(tt.number); got != tt.want {
			t.Errorf("detectBrand(%q) = %q, want %q", tt.number, got, tt.want)
		}
	}
}

// validCard is a valid Visa test card with a far expiry; cases change one field.
func validCard() Card {
	return Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2099, CVC: "123"}
}

func TestValidateCardAccepts(t *testing.T) {
	tests := []struct {
		name string
		card Card
		want CardDetails
	}{
		{"visa", validCard(), CardDetails{BrandVisa, "4242", 12, 2099}},
		{"mastercard", Card{"5555555555554444", 1, 2099, "000"}, CardDetails{BrandMastercard, "4444", 1, 2099}},
		{"amex with 4-digit cvc", Card{"378282246310005", 6, 2099, "1234"}, CardDetails{BrandAmex, "0005", 6, 2099}},
		{"discover", Card{"6011111111111117", 6, 2099, "123"}, CardDetails{BrandDiscover, "1117", 6, 2099}},
		{"unknown brand, 3-digit cvc", Card{"100000000008", 6, 2099, "123"}, CardDetails{BrandUnknown, "0008", 6, 2099}},
		{"unknown brand, 4-digit cvc", Card{"100000000008", 6, 2099, "1234"}, CardDetails{BrandUnknown, "0008", 6, 2099}},
		// DESIGN §5: test cards take any 3–4 digit CVC, whatever the brand.
		{"visa with 4-digit cvc", Card{"4242424242424242", 12, 2099, "1234"}, CardDetails{BrandVisa, "4242", 12, 2099}},
		{"mastercard with 4-digit cvc", Card{"5555555555554444", 12, 2099, "0000"}, CardDetails{BrandMastercard, "4444", 12, 2099}},
		{"amex with 3-digit cvc", Card{"378282246310005", 6, 2099, "123"}, CardDetails{BrandAmex, "0005", 6, 2099}},
		{"19 digits", Card{"4000000000000000006", 6, 2099, "123"}, CardDetails{BrandVisa, "0006", 6, 2099}},
		{"past expiry is valid input", Card{"4242424242424242", 1, 2000, "123"}, CardDetails{BrandVisa, "4242", 1, 2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateCard(tt.card)
			if err != nil {
				t.Fatalf("ValidateCard = %v", err)
			}
			if got != tt.want {
				t.Fatalf("ValidateCard = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestValidateCardRejects(t *testing.T) {
	with := func(change func(*Card)) Card {
		c := validCard()
		change(&c)
		return c
	}
	tests := []struct {
		name       string
		card       Card
		wantFields []string
		wantLuhn   bool
	}{
		{"number missing", with(func(c *Card) { c.Number = "" }), []string{"number"}, false},
		{"number with spaces", with(func(c *Card) { c.Number = "4242 4242 4242 4242" }), []string{"number"}, false},
		{"number with dashes", with(func(c *Card) { c.Number = "4242-4242-4242-4242" }), []string{"number"}, false},
		{"number with letters", with(func(c *Card) { c.Number = "42424242424242ab" }), []string{"number"}, false},
		{"number of 11 digits", with(func(c *Card) { c.Number = "79927398713" }), []string{"number"}, false},
		{"number of 20 digits", with(func(c *Card) { c.Number = "42424242424242424242" }), []string{"number"}, false},
		{"number failing Luhn", with(func(c *Card) { c.Number = "4242424242424241" }), []string{"number"}, true},
		{"cvc missing", with(func(c *Card) { c.CVC = "" }), []string{"cvc"}, false},
		{"cvc of 2 digits", with(func(c *Card) { c.CVC = "12" }), []string{"cvc"}, false},
		{"cvc of 5 digits on visa", with(func(c *Card) { c.CVC = "12345" }), []string{"cvc"}, false},
		{"cvc with a letter", with(func(c *Card) { c.CVC = "12a" }), []string{"cvc"}, false},
		{"cvc of 2 digits on amex", Card{"378282246310005", 6, 2099, "12"}, []string{"cvc"}, false},
		{"cvc of 5 digits on amex", Card{"378282246310005", 6, 2099, "12345"}, []string{"cvc"}, false},
		{"cvc of 5 digits, unknown brand", Card{"100000000008", 6, 2099, "12345"}, []string{"cvc"}, false},
		{"exp_month 0", with(func(c *Card) { c.ExpMonth = 0 }), []string{"exp_month"}, false},
		{"exp_month 13", with(func(c *Card) { c.ExpMonth = 13 }), []string{"exp_month"}, false},
		{"exp_month negative", with(func(c *Card) { c.ExpMonth = -1 }), []string{"exp_month"}, false},
		{"exp_year of 2 digits", with(func(c *Card) { c.ExpYear = 30 }), []string{"exp_year"}, false},
		{"exp_year of 5 digits", with(func(c *Card) { c.ExpYear = 20300 }), []string{"exp_year"}, false},
		{"exp_year missing", with(func(c *Card) { c.ExpYear = 0 }), []string{"exp_year"}, false},
		{"everything missing", Card{}, []string{"number", "cvc", "exp_month", "exp_year"}, false},
		{"Luhn and cvc together", Card{"4242424242424241", 12, 2099, "1"}, []string{"number", "cvc"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidateCard(tt.card)
			if got != (CardDetails{}) {
				t.Errorf("ValidateCard returned details %+v with an error", got)
			}
			if fields := fieldNames(err); !reflect.DeepEqual(fields, tt.wantFields) {
				t.Errorf("ValidateCard error = %v, want problems with %v", err, tt.wantFields)
			}
			if luhn := errors.Is(err, ErrIncorrectNumber); luhn != tt.wantLuhn {
				t.Errorf("errors.Is(err, ErrIncorrectNumber) = %v, want %v", luhn, tt.wantLuhn)
			}
		})
	}
}

func TestCardDecodesFromRequestJSON(t *testing.T) {
	var c Card
	body := `{"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}`
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	want := Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2030, CVC: "123"}
	if c.Number != want.Number || c.ExpMonth != want.ExpMonth || c.ExpYear != want.ExpYear || c.CVC != want.CVC {
		t.Fatalf("decoded %#v, want the four fields of %s", c, body)
	}
}

// The number and CVC below must never appear, whichever way a Card is printed.
const (
	secretNumber = "4242424242424242"
	secretCVC    = "987"
)

func secretCard() Card {
	return Card{Number: secretNumber, ExpMonth: 12, ExpYear: 2030, CVC: secretCVC}
}

func assertRedacted(t *testing.T, how, out string) {
	t.Helper()
	if strings.Contains(out, secretNumber) || strings.Contains(out, secretCVC) {
		t.Errorf("%s leaks card data: %s", how, out)
	}
	if !strings.Contains(out, "4242") || !strings.Contains(out, "visa") {
		t.Errorf("%s should still show brand and last four: %s", how, out)
	}
}

func TestCardNeverPrintsItsNumber(t *testing.T) {
	c := secretCard()
	type request struct {
		BookingID string
		Card      Card
		CardPtr   *Card
	}
	r := request{BookingID: "b1", Card: c, CardPtr: &c}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%20v", "%-30s"} {
		assertRedacted(t, verb, fmt.Sprintf(verb, c))
		assertRedacted(t, verb+" of a pointer", fmt.Sprintf(verb, &c))
		assertRedacted(t, verb+" of a struct holding a Card", fmt.Sprintf(verb, r))
		assertRedacted(t, verb+" of a slice", fmt.Sprintf(verb, []Card{c}))
	}
	if got, want := fmt.Sprintf("%x", c), fmt.Sprintf("%x", "visa ****4242"); got != want {
		t.Errorf("%%x = %s, want the hex of the redacted text %s", got, want)
	}
	assertRedacted(t, "Sprint", fmt.Sprint(c))
	assertRedacted(t, "Sprintln", fmt.Sprintln("paying with", c))
	if got := c.String(); got != "visa ****4242" {
		t.Errorf("String() = %q", got)
	}
	if got := (Card{Number: "12345"}).String(); got != "unknown ****????" {
		t.Errorf("String() of a short number = %q, want no digits shown", got)
	}
}

func TestCardJSONNeverCarriesItsNumber(t *testing.T) {
	c := secretCard()
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"brand":"visa","last4":"4242","exp_month":12,"exp_year":2030}`; string(got) != want {
		t.Errorf("json.Marshal(card) = %s, want %s", got, want)
	}
	nested, err := json.Marshal(struct {
		Card  Card  `json:"card"`
		Other *Card `json:"other"`
	}{c, &c})
	if err != nil {
		t.Fatal(err)
	}
	assertRedacted(t, "json.Marshal of a struct", string(nested))
}

func TestCardLogsRedacted(t *testing.T) {
	// Drop the time so that its digits cannot be mistaken for card data.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	c := secretCard()
	for name, newHandler := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, noTime) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, noTime) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("confirm", "card", c)
		log.Info("confirm", "card", &c)
		log.Info("confirm", "request", struct{ Card Card }{c})
		log.Info("confirm", slog.Any("card", c))
		for line := range strings.Lines(buf.String()) {
			assertRedacted(t, name+" handler", line)
		}
	}

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, noTime)).Info("confirm", "card", c)
	if want := `"card":{"brand":"visa","last4":"4242"}`; !strings.Contains(buf.String(), want) {
		t.Errorf("JSON log line %s does not contain %s", buf.String(), want)
	}
}
