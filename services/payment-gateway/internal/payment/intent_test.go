package payment

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/validate"
)

var created = time.Date(2026, time.March, 15, 12, 0, 0, 0, time.UTC)

func newTestIntent(t *testing.T, amount int64) *Intent {
	t.Helper()
	i, err := NewIntent("pi_1", IntentParams{Amount: amount, Currency: "EUR"}, created)
	if err != nil {
		t.Fatalf("NewIntent: %v", err)
	}
	return i
}

func TestNewIntent(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	i, err := NewIntent("pi_1", IntentParams{
		Amount: 12900, Currency: "eur", Description: "Lisbon walking tour, 2 seats",
		Metadata: map[string]string{"booking_id": "b1"},
	}, created.In(paris))
	if err != nil {
		t.Fatal(err)
	}
	want := &Intent{
		ID: "pi_1", Status: StatusRequiresPaymentMethod, Amount: 12900, Currency: "EUR",
		Description: "Lisbon walking tour, 2 seats", Metadata: map[string]string{"booking_id": "b1"},
		CreatedAt: created,
	}
	if !reflect.DeepEqual(i, want) {
		t.Fatalf("NewIntent =\n%+v\nwant\n%+v", i, want)
	}
	if i.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt in %v, want UTC", i.CreatedAt.Location())
	}

	bare, err := NewIntent("pi_2", IntentParams{Amount: 1, Currency: "JPY"}, created)
	if err != nil {
		t.Fatal(err)
	}
	if bare.Metadata == nil || len(bare.Metadata) != 0 {
		t.Errorf("Metadata = %#v, want an empty, non-nil map (it is rendered as {})", bare.Metadata)
	}
}

func TestNewIntentCopiesMetadata(t *testing.T) {
	in := map[string]string{"k": "v"}
	i, err := NewIntent("pi_1", IntentParams{Amount: 100, Currency: "EUR", Metadata: in}, created)
	if err != nil {
		t.Fatal(err)
	}
	in["k"] = "changed"
	in["new"] = "x"
	if !maps.Equal(i.Metadata, map[string]string{"k": "v"}) {
		t.Fatalf("intent metadata changed with the caller's map: %v", i.Metadata)
	}
}

func TestNewIntentValidation(t *testing.T) {
	keys := func(n int) map[string]string {
		m := make(map[string]string, n)
		for k := range n {
			m[fmt.Sprintf("key%02d", k)] = "v"
		}
		return m
	}
	tests := []struct {
		name       string
		p          IntentParams
		wantFields []string
	}{
		{"description of 1000 characters", IntentParams{Description: strings.Repeat("é", 1000)}, nil},
		{"description of 1001 characters", IntentParams{Description: strings.Repeat("a", 1001)}, []string{"description"}},
		{"description with NUL", IntentParams{Description: "a\x00b"}, []string{"description"}},
		{"description not UTF-8", IntentParams{Description: "\xff"}, []string{"description"}},
		{"20 metadata keys", IntentParams{Metadata: keys(20)}, nil},
		{"21 metadata keys", IntentParams{Metadata: keys(21)}, []string{"metadata"}},
		{"key of 40 characters", IntentParams{Metadata: map[string]string{strings.Repeat("k", 40): "v"}}, nil},
		{"key of 41 characters", IntentParams{Metadata: map[string]string{strings.Repeat("k", 41): "v"}}, []string{"metadata"}},
		{"empty key", IntentParams{Metadata: map[string]string{"": "v"}}, []string{"metadata"}},
		{"key not UTF-8", IntentParams{Metadata: map[string]string{"\xff": "v"}}, []string{"metadata"}},
		{"value of 500 characters", IntentParams{Metadata: map[string]string{"k": strings.Repeat("€", 500)}}, nil},
		{"value of 501 characters", IntentParams{Metadata: map[string]string{"k": strings.Repeat("v", 501)}}, []string{"metadata.k"}},
		{"empty value", IntentParams{Metadata: map[string]string{"k": ""}}, nil},
		{"problems in key order", IntentParams{Metadata: map[string]string{
			"b": strings.Repeat("v", 501), "a": strings.Repeat("v", 501), "": "x",
		}}, []string{"metadata", "metadata.a", "metadata.b"}},
		{"every field at once", IntentParams{Amount: -1, Currency: "XXX", Description: strings.Repeat("a", 1001), Metadata: keys(21)},
			[]string{"amount", "currency", "description", "metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			if p.Amount == 0 {
				p.Amount, p.Currency = 100, "EUR"
			}
			i, err := NewIntent("pi_1", p, created)
			if fields := fieldNames(err); !reflect.DeepEqual(fields, tt.wantFields) {
				t.Fatalf("NewIntent error = %v, want problems with %v", err, tt.wantFields)
			}
			if (err == nil) != (i != nil) {
				t.Fatalf("NewIntent = %v, %v: want exactly one of intent and error", i, err)
			}
		})
	}
}

// The intent states a test can start from, each reached through the API.
type fromState int

const (
	fresh fromState = iota
	declined
	succeeded
	partlyRefunded
	fullyRefunded
	canceled
)

func (s fromState) String() string {
	return [...]string{"fresh", "declined", "succeeded", "partly refunded", "fully refunded", "canceled"}[s]
}

func intentIn(t *testing.T, s fromState) *Intent {
	t.Helper()
	i := newTestIntent(t, 10000)
	mustNoErr := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setting up %s: %v", s, err)
		}
	}
	switch s {
	case declined:
		_, err := i.Confirm(testCard("4000000000000002"), created)
		mustNoErr(err)
	case succeeded, partlyRefunded, fullyRefunded:
		_, err := i.Confirm(testCard("4242424242424242"), created)
		mustNoErr(err)
		if s == partlyRefunded {
			_, err = i.Refund("re_0", ptr(int64(4000)), created)
			mustNoErr(err)
		}
		if s == fullyRefunded {
			_, err = i.Refund("re_0", nil, created)
			mustNoErr(err)
		}
	case canceled:
		mustNoErr(i.Cancel())
	}
	return i
}

func testCard(number string) Card {
	return Card{Number: number, ExpMonth: 12, ExpYear: 2030, CVC: "123"}
}

func ptr[T any](v T) *T { return &v }

// clone copies an intent deeply enough to compare before and after.
func clone(i *Intent) *Intent {
	c := *i
	c.Metadata = maps.Clone(i.Metadata)
	if i.Card != nil {
		card := *i.Card
		c.Card = &card
	}
	if i.LastPaymentError != nil {
		d := *i.LastPaymentError
		c.LastPaymentError = &d
	}
	return &c
}

func TestTransitions(t *testing.T) {
	confirmWith := func(number string) func(*Intent) (*Decline, error) {
		return func(i *Intent) (*Decline, error) { return i.Confirm(testCard(number), created) }
	}
	cancel := func(i *Intent) (*Decline, error) { return nil, i.Cancel() }
	refund := func(amount *int64) func(*Intent) (*Decline, error) {
		return func(i *Intent) (*Decline, error) {
			_, err := i.Refund("re_1", amount, created)
			return nil, err
		}
	}
	const (
		approve      = "4242424242424242"
		decline      = "4000000000009995"
		invalidLuhn  = "4242424242424241"
		noDecline    = DeclineCode("")
		sameAsBefore = Status("")
	)
	tests := []struct {
		from        fromState
		action      string
		do          func(*Intent) (*Decline, error)
		wantErr     error // nil: allowed
		wantStatus  Status
		wantDecline DeclineCode // the decline returned and kept as last_payment_error
	}{
		{fresh, "confirm, approved", confirmWith(approve), nil, StatusSucceeded, noDecline},
		{fresh, "confirm, declined", confirmWith(decline), nil, StatusRequiresPaymentMethod, DeclineInsufficientFunds},
		{fresh, "confirm, invalid card", confirmWith(invalidLuhn), ErrIncorrectNumber, sameAsBefore, noDecline},
		{fresh, "cancel", cancel, nil, StatusCanceled, noDecline},
		{fresh, "refund", refund(nil), ErrIntentNotRefundable, sameAsBefore, noDecline},

		{declined, "confirm, approved", confirmWith(approve), nil, StatusSucceeded, noDecline},
		{declined, "confirm, declined again", confirmWith(decline), nil, StatusRequiresPaymentMethod, DeclineInsufficientFunds},
		{declined, "confirm, invalid card", confirmWith(invalidLuhn), ErrIncorrectNumber, sameAsBefore, noDecline},
		{declined, "cancel", cancel, nil, StatusCanceled, noDecline},
		{declined, "refund", refund(nil), ErrIntentNotRefundable, sameAsBefore, noDecline},

		{succeeded, "confirm", confirmWith(approve), ErrIntentNotConfirmable, sameAsBefore, noDecline},
		{succeeded, "confirm, invalid card", confirmWith(invalidLuhn), ErrIntentNotConfirmable, sameAsBefore, noDecline},
		{succeeded, "cancel", cancel, ErrIntentNotCancelable, sameAsBefore, noDecline},
		{succeeded, "refund", refund(nil), nil, StatusSucceeded, noDecline},

		{partlyRefunded, "confirm", confirmWith(approve), ErrIntentNotConfirmable, sameAsBefore, noDecline},
		{partlyRefunded, "cancel", cancel, ErrIntentNotCancelable, sameAsBefore, noDecline},
		{partlyRefunded, "refund", refund(nil), nil, StatusSucceeded, noDecline},

		{fullyRefunded, "confirm", confirmWith(approve), ErrIntentNotConfirmable, sameAsBefore, noDecline},
		{fullyRefunded, "cancel", cancel, ErrIntentNotCancelable, sameAsBefore, noDecline},
		{fullyRefunded, "refund", refund(nil), ErrIntentNotRefundable, sameAsBefore, noDecline},
		{fullyRefunded, "refund 1", refund(ptr(int64(1))), ErrIntentNotRefundable, sameAsBefore, noDecline},

		{canceled, "confirm", confirmWith(approve), ErrIntentNotConfirmable, sameAsBefore, noDecline},
		{canceled, "cancel", cancel, ErrIntentNotCancelable, sameAsBefore, noDecline},
		{canceled, "refund", refund(nil), ErrIntentNotRefundable, sameAsBefore, noDecline},
	}
	for _, tt := range tests {
		t.Run(tt.from.String()+"/"+tt.action, func(t *testing.T) {
			i := intentIn(t, tt.from)
			before := clone(i)
			d, err := tt.do(i)

			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if !reflect.DeepEqual(i, before) {
					t.Fatalf("a refused %s changed the intent:\n%+v\nwas\n%+v", tt.action, i, before)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want the transition allowed", err)
			}
			if i.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s", i.Status, tt.wantStatus)
			}
			switch {
			case tt.wantDecline == noDecline && d != nil:
				t.Errorf("returned decline %+v, want none", d)
			case tt.wantDecline != noDecline && (d == nil || d.DeclineCode != tt.wantDecline):
				t.Errorf("returned decline %+v, want %s", d, tt.wantDecline)
			}
			if strings.HasPrefix(tt.action, "confirm") {
				// The last confirm's outcome is what the intent shows.
				if !reflect.DeepEqual(i.LastPaymentError, d) {
					t.Errorf("last_payment_error = %+v, want %+v", i.LastPaymentError, d)
				}
				if i.Card == nil || i.Card.Last4 == "" {
					t.Errorf("card = %+v, want the confirmed card's details", i.Card)
				}
			} else if !reflect.DeepEqual(i.LastPaymentError, before.LastPaymentError) {
				t.Errorf("%s changed last_payment_error to %+v", tt.action, i.LastPaymentError)
			}
		})
	}
}

func TestConfirmKeepsItsOwnCopyOfTheDecline(t *testing.T) {
	i := newTestIntent(t, 100)
	d, err := i.Confirm(testCard("4000000000000002"), created)
	if err != nil || d == nil {
		t.Fatalf("Confirm = %v, %v; want a decline", d, err)
	}
	d.Message = "changed by the caller"
	if i.LastPaymentError.Message != "Your card was declined." {
		t.Fatalf("the caller's change reached the intent: %q", i.LastPaymentError.Message)
	}
}

func TestRefundArithmetic(t *testing.T) {
	type step struct {
		amount       *int64
		wantRefunded int64 // the refund's amount when allowed
		wantErr      error
		wantDetail   string // for a validation failure
	}
	tests := []struct {
		name          string
		steps         []step
		wantRefunded  int64
		wantRemaining int64
	}{
		{"everything by default", []step{{nil, 10000, nil, ""}}, 10000, 0},
		{"one partial", []step{{ptr(int64(3000)), 3000, nil, ""}}, 3000, 7000},
		{"partials adding up exactly", []step{{ptr(int64(3000)), 3000, nil, ""}, {ptr(int64(7000)), 7000, nil, ""}}, 10000, 0},
		{"default after a partial is the rest", []step{{ptr(int64(3000)), 3000, nil, ""}, {nil, 7000, nil, ""}}, 10000, 0},
		{"one unit", []step{{ptr(int64(1)), 1, nil, ""}}, 1, 9999},
		{"the whole amount explicitly", []step{{ptr(int64(10000)), 10000, nil, ""}}, 10000, 0},
		{"over the remainder", []step{
			{ptr(int64(3000)), 3000, nil, ""},
			{ptr(int64(7001)), 0, ErrRefundExceedsAmount, "must be at most 7000"},
		}, 3000, 7000},
		{"over the amount", []step{{ptr(int64(10001)), 0, ErrRefundExceedsAmount, "must be at most 10000"}}, 0, 10000},
		{"int64 max", []step{{ptr(int64(math.MaxInt64)), 0, ErrRefundExceedsAmount, "must be at most 10000"}}, 0, 10000},
		{"zero", []step{{ptr(int64(0)), 0, nil, "must be a positive number of minor units"}}, 0, 10000},
		{"negative", []step{{ptr(int64(-500)), 0, nil, "must be a positive number of minor units"}}, 0, 10000},
		{"nothing left", []step{{nil, 10000, nil, ""}, {ptr(int64(1)), 0, ErrIntentNotRefundable, ""}}, 10000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := intentIn(t, succeeded)
			for n, s := range tt.steps {
				r, err := i.Refund(fmt.Sprintf("re_%d", n), s.amount, created)
				switch {
				case s.wantErr != nil && !errors.Is(err, s.wantErr):
					t.Fatalf("step %d: err = %v, want %v", n, err, s.wantErr)
				case s.wantDetail != "":
					fields, ok := validate.Fields(err)
					want := []validate.FieldError{{Field: "amount", Detail: s.wantDetail}}
					if !ok || !reflect.DeepEqual(fields, want) {
						t.Fatalf("step %d: err = %v, want %v", n, err, want)
					}
					if s.wantErr == nil && errors.Is(err, ErrRefundExceedsAmount) {
						t.Fatalf("step %d: %v is a plain validation error, not ErrRefundExceedsAmount", n, err)
					}
				case s.wantErr == nil && err != nil:
					t.Fatalf("step %d: err = %v", n, err)
				case err == nil:
					want := Refund{ID: fmt.Sprintf("re_%d", n), PaymentIntentID: "pi_1", Amount: s.wantRefunded,
						Currency: "EUR", Status: RefundStatusSucceeded, CreatedAt: created}
					if r != want {
						t.Fatalf("step %d: refund = %+v, want %+v", n, r, want)
					}
				}
			}
			if i.AmountRefunded != tt.wantRefunded || i.Remaining() != tt.wantRemaining {
				t.Fatalf("refunded %d, remaining %d; want %d and %d", i.AmountRefunded, i.Remaining(), tt.wantRefunded, tt.wantRemaining)
			}
			if i.Status != StatusSucceeded {
				t.Fatalf("status = %s; refunds must not change it", i.Status)
			}
		})
	}
}

func TestRemainingIsZeroUnlessSucceeded(t *testing.T) {
	for _, s := range []fromState{fresh, declined, canceled} {
		if got := intentIn(t, s).Remaining(); got != 0 {
			t.Errorf("%s: Remaining() = %d, want 0", s, got)
		}
	}
}
