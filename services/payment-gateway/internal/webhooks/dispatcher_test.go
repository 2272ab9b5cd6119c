package webhooks

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

func TestDeliveryIsSignedWithEverySecret(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		// The gateway is mid-rotation: it signs with both secrets.
		rcv := newReceiver(t, "whsec_new")
		d := newDispatcher(t, s, testConfig(rcv.URL, "whsec_old", "whsec_new"))
		if err := d.DispatchDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := rcv.deliveries()
		if len(got) != 1 {
			t.Fatalf("%d deliveries, want 1", len(got))
		}
		dl := got[0]
		if dl.Verified != nil {
			t.Fatalf("the receiver refused the signature: %v", dl.Verified)
		}
		if n := strings.Count(dl.Signature, "v1="); n != 2 {
			t.Fatalf("signature %q has %d v1 values, want one per secret", dl.Signature, n)
		}
		// A receiver that still has only the old secret accepts it too.
		old := webhook.Verifier{Secrets: webhook.ParseSecrets("whsec_old")}
		if err := old.Verify(dl.Signature, dl.Body); err != nil {
			t.Fatalf("old secret: %v", err)
		}
		if dl.EventID != ids[0] || dl.Type != "payment_intent.succeeded" || !strings.HasPrefix(dl.RequestID, "req-pi_") {
			t.Fatalf("delivery %+v", dl)
		}
		// The body is the event exactly as the log shows it.
		ev, attempts, err := s.EventByID(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(ev.Event)
		if string(dl.Body) != string(want) {
			t.Fatalf("body\n%s\nwant\n%s", dl.Body, want)
		}
		if ev.Delivery.State != store.StateDelivered || ev.Delivery.Attempts != 1 || len(attempts) != 1 || *attempts[0].StatusCode != 200 {
			t.Fatalf("delivery %+v, attempts %+v", ev.Delivery, attempts)
		}
	})
}

func TestRetriesUntilTheReceiverAccepts(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		rcv := newReceiver(t, "whsec_1", 500, 500, 200)
		reg := metrics.NewRegistry()
		d, err := New(s, testConfig(rcv.URL, "whsec_1"), slog.New(slog.DiscardHandler), reg)
		if err != nil {
			t.Fatal(err)
		}
		start(t, d)
		waitFor(t, 10*time.Second, "delivery", func() bool { return states(t, s)[store.StateDelivered] == 1 })

		ev, attempts, err := s.EventByID(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if ev.Delivery.Attempts != 3 || len(attempts) != 3 {
			t.Fatalf("%d attempts counted, %d recorded; want 3", ev.Delivery.Attempts, len(attempts))
		}
		for i, want := range []int{500, 500, 200} {
			a := attempts[i]
			if a.Attempt != i+1 || a.StatusCode == nil || *a.StatusCode != want || a.StartedAt.IsZero() || a.Latency <= 0 {
				t.Fatalf("attempt %d: %+v, want status %d", i+1, a, want)
			}
			if (a.Error != nil) != (want != 200) {
				t.Fatalf("attempt %d: error %v", i+1, a.Error)
			}
		}
		if !attempts[1].StartedAt.After(attempts[0].StartedAt) || !attempts[2].StartedAt.After(attempts[1].StartedAt) {
			t.Fatal("attempts are not in time order")
		}
		if n := len(rcv.deliveries()); n != 3 {
			t.Fatalf("the receiver got %d requests, want 3", n)
		}
		// Counted before the attempt is recorded, so they are in by now.
		var text strings.Builder
		if err := reg.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`webhook_delivery_attempts_total{outcome="delivered"} 1`,
			`webhook_delivery_attempts_total{outcome="retry"} 2`,
			`webhook_delivery_duration_seconds_count 3`,
		} {
			if !strings.Contains(text.String(), want+"\n") {
				t.Errorf("metrics lack %s:\n%s", want, text.String())
			}
		}
	})
}

// A receiver configured with another secret refuses every delivery; the
// event fails after the attempt limit, visibly.
func TestWrongSecretIsRejectedAndTheEventFails(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		rcv := newReceiver(t, "whsec_receiver")
		cfg := testConfig(rcv.URL, "whsec_gateway")
		cfg.MaxAttempts = 3
		start(t, newDispatcher(t, s, cfg))
		waitFor(t, 10*time.Second, "failure", func() bool { return states(t, s)[store.StateFailed] == 1 })

		for _, dl := range rcv.deliveries() {
			if !errors.Is(dl.Verified, webhook.ErrSignatureMismatch) {
				t.Fatalf("the receiver accepted a signature made with another secret: %v", dl.Verified)
			}
		}
		ev, attempts, _ := s.EventByID(t.Context(), ids[0])
		if ev.Delivery.Attempts != 3 || len(attempts) != 3 || *ev.Delivery.LastStatusCode != http.StatusUnauthorized ||
			ev.Delivery.NextAttemptAt != nil {
			t.Fatalf("delivery %+v, %d attempts", ev.Delivery, len(attempts))
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(rcv.deliveries()); n != 3 {
			t.Fatalf("a failed event was attempted again: %d requests", n)
		}
	})
}

func TestTimeoutIsRecordedAndRetried(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		rcv := newReceiver(t, "whsec_1")
		rcv.delay = 300 * time.Millisecond
		cfg := testConfig(rcv.URL, "whsec_1")
		cfg.Timeout = 50 * time.Millisecond
		cfg.BackoffBase, cfg.BackoffMax = time.Hour, time.Hour
		d := newDispatcher(t, s, cfg)
		d.jitter = func() float64 { return 0.5 }
		if err := d.DispatchDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		ev, attempts, _ := s.EventByID(t.Context(), ids[0])
		if len(attempts) != 1 || attempts[0].StatusCode != nil || attempts[0].Error == nil ||
			*attempts[0].Error != "no answer within 50ms" {
			t.Fatalf("attempts %+v", attempts)
		}
		wait := ev.Delivery.NextAttemptAt.Sub(attempts[0].StartedAt)
		if ev.Delivery.State != store.StatePending || wait < 29*time.Minute || wait > 31*time.Minute {
			t.Fatalf("delivery %+v: retry in %v, want half an hour (half of the 1h ceiling)", ev.Delivery, wait)
		}
	})
}

// Stopping the dispatcher part way through the queue and starting a new
// one (a restart, a new replica) delivers every event: the queue lives in
// the database.
func TestRestartMidQueueLosesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 20)
		rcv := newReceiver(t, "whsec_1")
		rcv.delay = 20 * time.Millisecond
		cfg := testConfig(rcv.URL, "whsec_1")
		cfg.Concurrency = 2

		stop := start(t, newDispatcher(t, s, cfg))
		waitFor(t, 10*time.Second, "some deliveries", func() bool { return len(rcv.deliveries()) >= 4 })
		stop()
		if n := states(t, s)[store.StatePending]; n == 0 {
			t.Fatal("the first dispatcher finished the queue; the test proves nothing")
		}
		// A stopped dispatcher finishes its attempts in flight and leaves
		// nothing leased: the next one starts at once.
		var leased int64
		if err := gdb.Raw("SELECT COUNT(*) FROM events WHERE lease_until IS NOT NULL").Scan(&leased).Error; err != nil || leased != 0 {
			t.Fatalf("%d events still leased (%v)", leased, err)
		}

		start(t, newDispatcher(t, s, cfg))
		waitFor(t, 20*time.Second, "every delivery", func() bool { return states(t, s)[store.StateDelivered] == len(ids) })
		got := rcv.perEvent()
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("event %s delivered %d times, want once", id, got[id])
			}
		}
	})
}

// A dispatcher that dies mid-attempt (no graceful stop) holds its event
// only until the lease runs out; then another delivers it.
func TestCrashedDispatchersLeaseRunsOut(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		// The "crashed" dispatcher claimed the event and vanished.
		if claims, err := s.ClaimDue(t.Context(), time.Now(), 300*time.Millisecond, 10); err != nil || len(claims) != 1 {
			t.Fatalf("claim: %v %v", claims, err)
		}
		rcv := newReceiver(t, "whsec_1")
		start(t, newDispatcher(t, s, testConfig(rcv.URL, "whsec_1")))
		time.Sleep(150 * time.Millisecond)
		if n := len(rcv.deliveries()); n != 0 {
			t.Fatalf("delivered while another dispatcher held the lease: %d", n)
		}
		waitFor(t, 10*time.Second, "delivery after the lease", func() bool { return states(t, s)[store.StateDelivered] == 1 })
		ev, attempts, _ := s.EventByID(t.Context(), ids[0])
		// Attempt 1 is the lost one: counted, never recorded.
		if ev.Delivery.Attempts != 2 || len(attempts) != 1 || attempts[0].Attempt != 2 {
			t.Fatalf("delivery %+v, attempts %+v", ev.Delivery, attempts)
		}
	})
}

// Two dispatchers (two replicas, each with its own pool) working the same
// queue at once: every event is delivered exactly once.
func TestTwoDispatchersNeverDeliverTwice(t *testing.T) {
	for _, b := range dbtest.Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			cfg := dbtest.Config(t, b)
			a := dbtest.OpenConfig(t, cfg)
			if err := store.Migrate(t.Context(), a); err != nil {
				t.Fatal(err)
			}
			sa, sb := store.New(a), store.New(dbtest.OpenConfig(t, cfg))
			ids := makeEvents(t, sa, 30)
			rcv := newReceiver(t, "whsec_1")
			rcv.delay = 5 * time.Millisecond

			var wg sync.WaitGroup
			for _, s := range []*store.Store{sa, sb} {
				d := newDispatcher(t, s, testConfig(rcv.URL, "whsec_1"))
				wg.Go(func() {
					if err := d.DispatchDue(t.Context()); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			got := rcv.perEvent()
			if len(got) != len(ids) {
				t.Fatalf("%d events delivered, want %d", len(got), len(ids))
			}
			for id, n := range got {
				if n != 1 {
					t.Fatalf("event %s delivered %d times", id, n)
				}
			}
			if st := states(t, sa); st[store.StateDelivered] != len(ids) {
				t.Fatalf("states %v", st)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	const base, limit = time.Second, time.Minute
	tests := []struct {
		attempt int
		r       float64
		want    time.Duration
	}{
		{1, 0.5, 500 * time.Millisecond},
		{2, 0.5, time.Second},
		{3, 0.5, 2 * time.Second},
		{6, 1, 32 * time.Second},
		{7, 1, time.Minute}, // 64s, capped
		{40, 1, time.Minute},
		{1000, 0.25, 15 * time.Second},
		{3, 0, 0}, // full jitter reaches zero
	}
	for _, tt := range tests {
		if got := Backoff(tt.attempt, base, limit, tt.r); got != tt.want {
			t.Errorf("Backoff(%d, r=%v) = %v, want %v", tt.attempt, tt.r, got, tt.want)
		}
	}
}

// An event delivered just as the database stopped answering cannot be
// recorded as delivered. The dispatcher records it at its first poll once
// the database is back: it is not held back until its lease runs out, nor
// delivered a second time.
func TestAttemptUnrecordedInAnOutageIsRecordedOnceTheDatabaseIsBack(t *testing.T) {
	eachStore(t, func(t *testing.T, s *store.Store, gdb *gorm.DB) {
		ids := makeEvents(t, s, 1)
		outage := dbtest.NewOutage(t, gdb)
		rcv := newReceiver(t, "whsec_1")
		rcv.onRequest = outage.Start
		d := newDispatcher(t, s, testConfig(rcv.URL, "whsec_1"))
		if err := d.DispatchDue(t.Context()); !errors.Is(err, dbtest.ErrOutage) {
			t.Fatalf("poll that delivered as the database went: %v", err)
		}
		if err := d.DispatchDue(t.Context()); !errors.Is(err, dbtest.ErrOutage) {
			t.Fatalf("poll while the database is down: %v", err)
		}
		outage.End()

		if err := d.DispatchDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		ev, attempts, err := s.EventByID(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if ev.Delivery.State != store.StateDelivered || len(attempts) != 1 || attempts[0].StatusCode == nil || *attempts[0].StatusCode != 200 {
			t.Fatalf("delivery %+v, attempts %+v", ev.Delivery, attempts)
		}
		if n := rcv.perEvent()[ids[0]]; n != 1 {
			t.Fatalf("delivered %d times, want once", n)
		}
	})
}
