package store

import (
	"encoding/json"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

// t0 is the tests' "now": fixed, so times are deterministic.
var t0 = time.Date(2027, time.March, 15, 10, 0, 0, 0, time.UTC)

// eachStore runs fn once per database backend with a migrated, empty store.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store, gdb *gorm.DB)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if err := Migrate(t.Context(), gdb); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		fn(t, New(gdb), gdb)
	})
}

func card(number string) payment.Card {
	return payment.Card{Number: number, ExpMonth: 12, ExpYear: 2099, CVC: "123"}
}

const (
	approved = "4242424242424242"
	declined = "4000000000009995"
)

func mustIntent(t *testing.T, s *Store, amount int64) *payment.Intent {
	t.Helper()
	in, err := payment.NewIntent(NewID(IntentIDPrefix), payment.IntentParams{
		Amount: amount, Currency: "EUR", Description: "Lisbon walk", Metadata: map[string]string{"booking_id": "b1"},
	}, t0)
	if err != nil {
		t.Fatalf("new intent: %v", err)
	}
	if err := s.CreateIntent(t.Context(), in); err != nil {
		t.Fatalf("create intent: %v", err)
	}
	return in
}

// event is what the API would record; the object here is a stand-in.
func event(typ payment.EventType, id string) NewEvent {
	obj, _ := json.Marshal(map[string]string{"id": id})
	return NewEvent{Type: typ, Object: obj, RequestID: "req-" + id}
}

// mustSucceed confirms in with an approved card and saves it.
func mustSucceed(t *testing.T, s *Store, in *payment.Intent) {
	t.Helper()
	if d, err := in.Confirm(card(approved), t0); err != nil || d != nil {
		t.Fatalf("confirm: %v %v", d, err)
	}
	if err := s.SaveConfirmation(t.Context(), in, event(payment.EventIntentSucceeded, in.ID), t0); err != nil {
		t.Fatalf("save confirmation: %v", err)
	}
}

func countRows(t *testing.T, gdb *gorm.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := gdb.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
