package store

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

func TestEventsAreWrittenWithTheirChange(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		in := mustIntent(t, s, 10000)
		mustSucceed(t, s, in)
		r, _ := in.Refund(NewID(RefundIDPrefix), ptr(int64(100)), t0)
		if err := s.SaveRefund(t.Context(), r, event(payment.EventRefundSucceeded, r.ID), t0.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		page, next, err := s.EventPage(t.Context(), 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != 2 || next != 0 {
			t.Fatalf("%d events, next %d; want 2 and no next page", len(page), next)
		}
		// Newest first.
		got := page[0]
		if got.Event.Type != string(payment.EventRefundSucceeded) || !got.Event.Created.Equal(t0.Add(time.Second)) {
			t.Fatalf("newest event %+v", got.Event)
		}
		if string(got.Event.Data.Object) != `{"id":"`+r.ID+`"}` {
			t.Fatalf("object %s", got.Event.Data.Object)
		}
		if got.Delivery.State != StatePending || got.Delivery.Attempts != 0 || got.Delivery.NextAttemptAt == nil {
			t.Fatalf("delivery %+v, want pending and due", got.Delivery)
		}
		body, err := json.Marshal(got.Event)
		if err != nil {
			t.Fatal(err)
		}
		want := `{"id":"` + got.Event.ID + `","type":"refund.succeeded","created":"2027-03-15T10:00:01Z","data":{"object":{"id":"` + r.ID + `"}}}`
		if string(body) != want {
			t.Fatalf("event JSON\n%s\nwant\n%s", body, want)
		}

		one, attempts, err := s.EventByID(t.Context(), got.Event.ID)
		if err != nil || one.Event.ID != got.Event.ID || len(attempts) != 0 {
			t.Fatalf("EventByID: %+v %v %v", one, attempts, err)
		}
		if _, _, err := s.EventByID(t.Context(), "evt_missing"); !errors.Is(err, ErrEventNotFound) {
			t.Fatalf("missing event: %v", err)
		}
	})
}

func TestEventPages(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		var ids []string
		for range 5 {
			in := mustIntent(t, s, 100)
			mustSucceed(t, s, in)
			ids = append([]string{in.ID}, ids...) // newest first
		}
		var seen []string
		var after EventCursor
		for pages := 0; ; pages++ {
			page, next, err := s.EventPage(t.Context(), after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				var obj struct{ ID string }
				_ = json.Unmarshal(e.Event.Data.Object, &obj)
				seen = append(seen, obj.ID)
			}
			if next == 0 {
				if pages != 2 {
					t.Fatalf("%d pages, want 3", pages+1)
				}
				break
			}
			after = next
		}
		if len(seen) != len(ids) {
			t.Fatalf("saw %v, want %v", seen, ids)
		}
		for i := range ids {
			if seen[i] != ids[i] {
				t.Fatalf("saw %v, want %v", seen, ids)
			}
		}
	})
}

// pendingEvents makes n intents succeed, which leaves n events pending.
func pendingEvents(t *testing.T, s *Store, n int) {
	t.Helper()
	for range n {
		mustSucceed(t, s, mustIntent(t, s, 100))
	}
}

func TestClaimLeaseAndFinish(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		pendingEvents(t, s, 1)
		lease := 10 * time.Second

		claims, err := s.ClaimDue(t.Context(), t0, lease, 10)
		if err != nil || len(claims) != 1 || claims[0].Attempt != 1 || claims[0].RequestID == "" {
			t.Fatalf("first claim: %+v %v", claims, err)
		}
		first := claims[0]
		// Leased: nobody else gets it, until the lease runs out.
		if again, _ := s.ClaimDue(t.Context(), t0.Add(lease-time.Second), lease, 10); len(again) != 0 {
			t.Fatalf("claimed a leased event: %+v", again)
		}
		expired := t0.Add(lease + time.Second)
		claims, err = s.ClaimDue(t.Context(), expired, lease, 10)
		if err != nil || len(claims) != 1 || claims[0].Attempt != 2 {
			t.Fatalf("claim after the lease: %+v %v", claims, err)
		}
		second := claims[0]

		// The first holder comes back late: its attempt is recorded,
		// but it may not decide the event's state any more.
		held, err := s.FinishAttempt(t.Context(), first, AttemptResult{StartedAt: t0, Latency: time.Second, StatusCode: 200, State: StateDelivered})
		if err != nil || held {
			t.Fatalf("late finish: held=%v err=%v", held, err)
		}
		held, err = s.FinishAttempt(t.Context(), second, AttemptResult{
			StartedAt: expired, Latency: 5 * time.Millisecond, StatusCode: 500,
			Error: "receiver answered 500", State: StatePending, RetryAt: expired.Add(time.Minute),
		})
		if err != nil || !held {
			t.Fatalf("finish: held=%v err=%v", held, err)
		}
		if due, _ := s.ClaimDue(t.Context(), expired.Add(59*time.Second), lease, 10); len(due) != 0 {
			t.Fatalf("claimed before its retry time: %+v", due)
		}
		ev, attempts, err := s.EventByID(t.Context(), second.Event.ID)
		if err != nil {
			t.Fatal(err)
		}
		d := ev.Delivery
		if d.State != StatePending || d.Attempts != 2 || *d.LastStatusCode != 500 || *d.LastError != "receiver answered 500" ||
			!d.NextAttemptAt.Equal(expired.Add(time.Minute)) {
			t.Fatalf("delivery %+v", d)
		}
		if len(attempts) != 2 || attempts[0].Attempt != 1 || *attempts[0].StatusCode != 200 ||
			attempts[1].Attempt != 2 || *attempts[1].StatusCode != 500 || attempts[1].Latency != 5*time.Millisecond {
			t.Fatalf("attempts %+v", attempts)
		}

		claims, _ = s.ClaimDue(t.Context(), expired.Add(time.Minute), lease, 10)
		if len(claims) != 1 || claims[0].Attempt != 3 {
			t.Fatalf("retry claim: %+v", claims)
		}
		if held, err := s.FinishAttempt(t.Context(), claims[0], AttemptResult{StartedAt: expired.Add(time.Minute), StatusCode: 204, State: StateDelivered}); err != nil || !held {
			t.Fatalf("finish: %v %v", held, err)
		}
		ev, _, _ = s.EventByID(t.Context(), second.Event.ID)
		if ev.Delivery.State != StateDelivered || ev.Delivery.DeliveredAt == nil || ev.Delivery.NextAttemptAt != nil {
			t.Fatalf("delivery %+v", ev.Delivery)
		}
		if more, _ := s.ClaimDue(t.Context(), expired.Add(time.Hour), lease, 10); len(more) != 0 {
			t.Fatalf("claimed a delivered event: %+v", more)
		}
	})
}

// Replicas claiming from one table at the same moment never both get an
// attempt: every (event, attempt) is claimed exactly once.
func TestConcurrentClaimsAreExclusive(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			cfg := dbtest.Config(t, b)
			first := dbtest.OpenConfig(t, cfg)
			if err := Migrate(t.Context(), first); err != nil {
				t.Fatal(err)
			}
			s := New(first)
			pendingEvents(t, s, 30)
			// Four replicas, each with its own pool.
			replicas := []*Store{s, New(dbtest.OpenConfig(t, cfg)), New(dbtest.OpenConfig(t, cfg)), New(dbtest.OpenConfig(t, cfg))}
			var mu sync.Mutex
			claimed := map[int64]int{}
			var wg sync.WaitGroup
			for _, r := range replicas {
				wg.Go(func() {
					for {
						claims, err := r.ClaimDue(t.Context(), t0, time.Minute, 3)
						if err != nil {
							t.Error(err)
							return
						}
						if len(claims) == 0 {
							return
						}
						mu.Lock()
						for _, c := range claims {
							claimed[c.Seq]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(claimed) != 30 {
				t.Fatalf("%d events claimed, want 30", len(claimed))
			}
			for seq, n := range claimed {
				if n != 1 {
					t.Fatalf("event %d claimed %d times", seq, n)
				}
			}
		})
	}
}
