package webhooks

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// eachStore runs fn once per database backend with a migrated, empty store.
func eachStore(t *testing.T, fn func(t *testing.T, s *store.Store, gdb *gorm.DB)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if err := store.Migrate(t.Context(), gdb); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		fn(t, store.New(gdb), gdb)
	})
}

// makeEvents makes n intents succeed, which queues n events, and returns
// the events' ids.
func makeEvents(t *testing.T, s *store.Store, n int) []string {
	t.Helper()
	now := time.Now()
	for range n {
		in, err := payment.NewIntent(store.NewID(store.IntentIDPrefix), payment.IntentParams{Amount: 100, Currency: "EUR"}, now)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CreateIntent(t.Context(), in); err != nil {
			t.Fatal(err)
		}
		if _, err := in.Confirm(payment.Card{Number: "4242424242424242", ExpMonth: 12, ExpYear: 2099, CVC: "123"}, now); err != nil {
			t.Fatal(err)
		}
		obj, _ := json.Marshal(map[string]string{"id": in.ID, "status": string(in.Status)})
		ev := store.NewEvent{Type: payment.EventIntentSucceeded, Object: obj, RequestID: "req-" + in.ID}
		if err := s.SaveConfirmation(t.Context(), in, ev, now); err != nil {
			t.Fatal(err)
		}
	}
	page, _, err := s.EventPage(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(page))
	for i, e := range page {
		ids[i] = e.Event.ID
	}
	return ids
}

// testConfig delivers to url fast: tests wait for retries, not minutes.
func testConfig(url string, secrets ...string) Config {
	cfg := Config{
		URL:         url,
		MaxAttempts: 5,
		Timeout:     2 * time.Second,
		Interval:    10 * time.Millisecond,
		BackoffBase: 5 * time.Millisecond,
		BackoffMax:  50 * time.Millisecond,
		Concurrency: 4,
		UserAgent:   "payment-gateway/test",
	}
	for _, s := range secrets {
		cfg.Secrets = append(cfg.Secrets, []byte(s))
	}
	return cfg
}

func newDispatcher(t *testing.T, o Outbox, cfg Config) *Dispatcher {
	t.Helper()
	d, err := New(o, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs d until the returned stop is called; stop waits for Run to
// return.
func start(t *testing.T, d *Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

// delivery is one request the receiver got.
type delivery struct {
	EventID   string
	Type      string
	RequestID string
	Signature string
	Verified  error
	Body      []byte
}

// receiver is a merchant's webhook endpoint: it verifies the signature
// with its own secrets and answers 401 to a bad one, as DESIGN §5 says
// receivers do; otherwise it answers the next status of script, then 200.
type receiver struct {
	*httptest.Server
	verifier webhook.Verifier
	delay    time.Duration
	// onRequest, when set, is called on every request.
	onRequest func()

	mu     sync.Mutex
	script []int
	got    []delivery
}

func newReceiver(t *testing.T, secrets string, script ...int) *receiver {
	t.Helper()
	r := &receiver{verifier: webhook.Verifier{Secrets: webhook.ParseSecrets(secrets)}, script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	if r.onRequest != nil {
		r.onRequest()
	}
	d := delivery{
		RequestID: req.Header.Get(requestid.Header),
		Signature: req.Header.Get(webhook.Header),
		Verified:  r.verifier.Verify(req.Header.Get(webhook.Header), body),
		Body:      body,
	}
	var ev struct{ ID, Type string }
	_ = json.Unmarshal(body, &ev)
	d.EventID, d.Type = ev.ID, ev.Type

	r.mu.Lock()
	r.got = append(r.got, d)
	status := http.StatusOK
	if len(r.script) > 0 {
		status, r.script = r.script[0], r.script[1:]
	}
	r.mu.Unlock()
	if d.Verified != nil {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

// perEvent counts the deliveries of each event id.
func (r *receiver) perEvent() map[string]int {
	n := map[string]int{}
	for _, d := range r.deliveries() {
		n[d.EventID]++
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// states counts the events in each delivery state.
func states(t *testing.T, s *store.Store) map[string]int {
	t.Helper()
	page, _, err := s.EventPage(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, e := range page {
		n[e.Delivery.State]++
	}
	return n
}
