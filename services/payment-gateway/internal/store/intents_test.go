package store

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

func TestIntentRoundTrip(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		in := mustIntent(t, s, 12900)
		got, err := s.Intent(t.Context(), in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, in) {
			t.Fatalf("read back\n%+v\nwant\n%+v", got, in)
		}

		// A decline keeps the card and the decline; a later success
		// clears the decline and keeps the new card.
		if d, err := in.Confirm(card(declined), t0); err != nil || d == nil {
			t.Fatalf("confirm: %v %v", d, err)
		}
		if err := s.SaveConfirmation(t.Context(), in, event(payment.EventIntentPaymentFailed, in.ID), t0); err != nil {
			t.Fatal(err)
		}
		if got, _ = s.Intent(t.Context(), in.ID); !reflect.DeepEqual(got, in) || got.LastPaymentError == nil {
			t.Fatalf("after a decline\n%+v\nwant\n%+v", got, in)
		}
		mustSucceed(t, s, in)
		if got, _ = s.Intent(t.Context(), in.ID); !reflect.DeepEqual(got, in) || got.Status != payment.StatusSucceeded || got.LastPaymentError != nil {
			t.Fatalf("after success\n%+v\nwant\n%+v", got, in)
		}

		if _, err := s.Intent(t.Context(), "pi_missing"); !errors.Is(err, ErrIntentNotFound) {
			t.Fatalf("missing intent: %v", err)
		}
	})
}

func TestTransitionsAreConditional(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		// Two copies read before either change: the second write must
		// be refused by the database, not by the stale copy's status.
		in := mustIntent(t, s, 5000)
		stale, _ := s.Intent(t.Context(), in.ID)
		if err := stale.Cancel(); err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, s, in)
		err := s.SaveCancellation(t.Context(), stale, event(payment.EventIntentCanceled, in.ID), t0)
		if !errors.Is(err, payment.ErrIntentNotCancelable) {
			t.Fatalf("cancel after success: %v", err)
		}
		got, _ := s.Intent(t.Context(), in.ID)
		if got.Status != payment.StatusSucceeded {
			t.Fatalf("status %s after a refused cancel", got.Status)
		}
		if n := countRows(t, gdb, "SELECT COUNT(*) FROM events WHERE type = ?", string(payment.EventIntentCanceled)); n != 0 {
			t.Fatalf("a refused cancel wrote %d events", n)
		}

		ghost, _ := payment.NewIntent("pi_ghost", payment.IntentParams{Amount: 1, Currency: "EUR"}, t0)
		if err := ghost.Cancel(); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveCancellation(t.Context(), ghost, event(payment.EventIntentCanceled, "x"), t0); !errors.Is(err, ErrIntentNotFound) {
			t.Fatalf("cancel of an unknown intent: %v", err)
		}
	})
}

// Concurrent confirms of one intent: the card is charged once.
func TestConcurrentConfirmsChargeOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		in := mustIntent(t, s, 5000)
		const n = 10
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				mine, err := s.Intent(t.Context(), in.ID)
				if err != nil {
					errs[i] = err
					return
				}
				if _, err := mine.Confirm(card(approved), t0); err != nil {
					errs[i] = err
					return
				}
				errs[i] = s.SaveConfirmation(t.Context(), mine, event(payment.EventIntentSucceeded, in.ID), t0)
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, payment.ErrIntentNotConfirmable):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d confirms succeeded, want 1", wins)
		}
		if n := countRows(t, gdb, "SELECT COUNT(*) FROM events WHERE type = ?", string(payment.EventIntentSucceeded)); n != 1 {
			t.Fatalf("%d succeeded events, want 1", n)
		}
	})
}

func TestRefundLimitIsEnforcedByTheDatabase(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		in := mustIntent(t, s, 10000)
		mustSucceed(t, s, in)
		// Both refunds pass the rule on the same stale copy; the second
		// must still be refused, with the amount that truly remains.
		stale, _ := s.Intent(t.Context(), in.ID)
		for i, want := range []error{nil, payment.ErrRefundExceedsAmount} {
			copyOf := *stale
			r, err := copyOf.Refund(NewID(RefundIDPrefix), ptr(int64(6000)), t0)
			if err != nil {
				t.Fatal(err)
			}
			err = s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0)
			if want == nil && err != nil || want != nil && !errors.Is(err, want) {
				t.Fatalf("refund %d: %v, want %v", i, err, want)
			}
			if want != nil {
				fields, _ := validate.Fields(err)
				if len(fields) != 1 || fields[0].Detail != "must be at most 4000" {
					t.Fatalf("refund %d: fields %v, want the remaining 4000", i, fields)
				}
			}
		}
		// Everything left, then nothing left: not refundable any more.
		full, _ := s.Intent(t.Context(), in.ID)
		r, err := full.Refund(NewID(RefundIDPrefix), nil, t0)
		if err != nil || r.Amount != 4000 {
			t.Fatalf("refund the rest: %+v %v", r, err)
		}
		if err := s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0); err != nil {
			t.Fatal(err)
		}
		r.ID = NewID(RefundIDPrefix)
		if err := s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0); !errors.Is(err, payment.ErrIntentNotRefundable) {
			t.Fatalf("refund of a fully refunded intent: %v", err)
		}
		got, _ := s.Intent(t.Context(), in.ID)
		if got.AmountRefunded != 10000 {
			t.Fatalf("amount_refunded %d, want 10000", got.AmountRefunded)
		}
		if sum := countRows(t, gdb, "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_intent_id = ?", in.ID); sum != 10000 {
			t.Fatalf("refund rows add up to %d", sum)
		}

		// A refund of an intent that never succeeded is refused too.
		open := mustIntent(t, s, 100)
		r = payment.Refund{ID: NewID(RefundIDPrefix), PaymentIntentID: open.ID, Amount: 50, Currency: "EUR", Status: "succeeded", CreatedAt: t0}
		if err := s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0); !errors.Is(err, payment.ErrIntentNotRefundable) {
			t.Fatalf("refund of an unpaid intent: %v", err)
		}
	})
}

// Twenty partial refunds at once that together exceed the amount: the
// total refunded never does.
func TestConcurrentRefundsNeverExceedTheAmount(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		in := mustIntent(t, s, 10000)
		mustSucceed(t, s, in)
		const n, each = 20, 700 // 14 fit, 20 would be 14000
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				mine, err := s.Intent(t.Context(), in.ID)
				if err != nil {
					errs[i] = err
					return
				}
				r, err := mine.Refund(NewID(RefundIDPrefix), ptr(int64(each)), t0)
				if err != nil {
					errs[i] = err
					return
				}
				errs[i] = s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0)
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, payment.ErrRefundExceedsAmount):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		got, _ := s.Intent(t.Context(), in.ID)
		sum := countRows(t, gdb, "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_intent_id = ?", in.ID)
		events := countRows(t, gdb, "SELECT COUNT(*) FROM events WHERE type = ?", string(payment.EventRefundSucceeded))
		if ok != 14 || got.AmountRefunded != 9800 || sum != 9800 || events != 14 {
			t.Fatalf("%d refunds succeeded, amount_refunded %d, rows sum %d, %d events; want 14, 9800, 9800, 14",
				ok, got.AmountRefunded, sum, events)
		}
	})
}

func ptr[T any](v T) *T { return &v }
