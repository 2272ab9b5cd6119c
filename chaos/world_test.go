//go:build chaos

package chaos

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// containerPorts are the ports the services listen on inside the stack.
var containerPorts = map[string]int{svcCatalog: 3001, svcBooking: 3002, svcBooking2: 3002, svcGateway: 3004}

// world is the running stack as the scenarios see it: the docker side
// (stack) and the HTTP side (client, the services' current addresses).
type world struct {
	stack *stack
	http  *client
	runID string // tells this run's data apart from any earlier run's

	mu   sync.RWMutex
	base map[string]string // service -> http://127.0.0.1:port
}

// url is service's current base URL.
func (w *world) url(svc string) string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.base[svc]
}

// refresh looks up where services' ports are published now.
func (w *world) refresh(ctx context.Context, services ...string) error {
	for _, svc := range services {
		addr, err := w.stack.port(ctx, svc, containerPorts[svc])
		if err != nil {
			return err
		}
		w.mu.Lock()
		if w.base == nil {
			w.base = map[string]string{}
		}
		w.base[svc] = "http://" + addr
		w.mu.Unlock()
	}
	return nil
}

// start starts services (stopped or killed) and learns their new ports; it
// does not wait for their health checks.
func (w *world) start(ctx context.Context, services ...string) error {
	if err := w.stack.start(ctx, services...); err != nil {
		return err
	}
	return w.refresh(ctx, services...)
}

// startHealthy starts services and waits until they are healthy.
func (w *world) startHealthy(ctx context.Context, services ...string) error {
	if err := w.start(ctx, services...); err != nil {
		return err
	}
	return w.stack.waitHealthy(ctx, services...)
}

// run is one scenario's bookkeeping: its traffic, the departures and the
// customer email it used (the invariant check looks at exactly those), and
// what it found wrong.
type run struct {
	t          *testing.T
	w          *world
	name       string
	what       string
	start      time.Time
	email      string
	traffic    tally
	mu         sync.Mutex
	departures []string
	violations []string
	notes      []string
	duration   time.Duration
}

func (w *world) newRun(t *testing.T, name string) *run {
	return &run{
		t: t, w: w, name: name, start: time.Now().UTC(),
		email: fmt.Sprintf("chaos-%s-%s@example.com", name, w.runID),
	}
}

// violate records a broken promise; any fails the run.
func (r *run) violate(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.violations = append(r.violations, msg)
	r.mu.Unlock()
	r.t.Errorf("violation: %s", msg)
}

func (r *run) violationCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.violations)
}

// resolve fills rq.url from its service's current address.
func (r *run) resolve(rq request) request {
	if rq.svc != "" {
		rq.url = r.w.url(rq.svc) + rq.path
	}
	return rq
}

// do sends a request of the scenario's traffic and tallies its outcome.
func (r *run) do(ctx context.Context, rq request) reply {
	rq = r.resolve(rq)
	rep := r.w.http.do(ctx, rq)
	r.traffic.add(rq, rep)
	return rep
}

// probe sends a request that is not part of the traffic (setup, checks).
func (r *run) probe(ctx context.Context, rq request) reply {
	return r.w.http.do(ctx, r.resolve(rq))
}

func newKey(prefix string) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// newDeparture creates a tour and one departure of capacity seats for this
// scenario alone.
func (r *run) newDeparture(ctx context.Context, capacity int) string {
	r.t.Helper()
	var tour struct {
		ID string `json:"id"`
	}
	rep := r.probe(ctx, request{method: "POST", svc: svcCatalog, path: "/v1/tours", token: catalogAdminToken, body: map[string]any{
		"title": "Chaos " + r.name + " " + newKey(r.w.runID), "summary": "A tour the chaos suite books.",
		"destination": "Nowhere", "duration_days": 2, "difficulty": "easy",
		"price": money{Amount: 12900, Currency: "EUR"}, "max_group_size": 20,
	}})
	if err := rep.decode(&tour); err != nil {
		r.t.Fatalf("create tour: %v", err)
	}
	var dep departureDoc
	startsOn := time.Now().UTC().AddDate(0, 6, 0).Format(time.DateOnly)
	rep = r.probe(ctx, request{method: "POST", svc: svcCatalog, path: "/v1/tours/" + tour.ID + "/departures", token: catalogAdminToken,
		body: map[string]any{"starts_on": startsOn, "capacity": capacity}})
	if err := rep.decode(&dep); err != nil {
		r.t.Fatalf("create departure: %v", err)
	}
	r.mu.Lock()
	r.departures = append(r.departures, dep.ID)
	r.mu.Unlock()
	return dep.ID
}

// createRequest asks booking replica svc for seats; key is the
// Idempotency-Key.
func (r *run) createRequest(svc, departureID string, seats int, key string) request {
	return request{method: "POST", svc: svc, path: "/v1/bookings", key: key, body: map[string]any{
		"departure_id": departureID, "seats": seats,
		"customer": map[string]string{"name": "Chaos Monkey", "email": r.email},
	}}
}

func (r *run) create(ctx context.Context, svc, departureID string, seats int, key string) (bookingDoc, reply) {
	var b bookingDoc
	rep := r.do(ctx, r.createRequest(svc, departureID, seats, key))
	if rep.status == 201 {
		_ = rep.decode(&b)
	}
	return b, rep
}

// payRequest pays booking id at replica svc with card number.
func payRequest(svc, id, number, key string) request {
	return request{method: "POST", svc: svc, path: "/v1/bookings/" + id + "/payments", key: key, body: map[string]any{
		"card": map[string]any{"number": number, "exp_month": 12, "exp_year": time.Now().Year() + 3, "cvc": "123"},
	}}
}

func (r *run) pay(ctx context.Context, svc, id, number, key string) (bookingDoc, reply) {
	var b bookingDoc
	rep := r.do(ctx, payRequest(svc, id, number, key))
	if rep.status == 200 {
		_ = rep.decode(&b)
	}
	return b, rep
}

// retryable reports an outcome a client should simply try again: nobody
// listening, a broken connection, a timeout, or an explicit "not now".
func retryable(rep reply) bool {
	return rep.err != nil || rep.unavailable() || rep.status >= 500
}

// settlePayment retries paying until booking id has a definite answer:
// paid (200), declined (402), or not payable any more (409 other than
// busy). It gives up at the deadline.
func (r *run) settlePayment(ctx context.Context, id, number, key string, deadline time.Time) reply {
	var rep reply
	for i := 0; ; i++ {
		_, rep = r.pay(ctx, replicas[i%2], id, number, key)
		if !retryable(rep) || time.Now().After(deadline) || ctx.Err() != nil {
			return rep
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func (r *run) getBooking(ctx context.Context, id string) (bookingDoc, error) {
	var b bookingDoc
	err := r.probe(ctx, request{method: "GET", svc: svcBooking, path: "/v1/bookings/" + id, timeout: 10 * time.Second}).decode(&b)
	return b, err
}

// bookings lists every booking of this scenario (its email), from the admin
// list.
func (r *run) bookings(ctx context.Context) ([]bookingDoc, error) {
	var out []bookingDoc
	cursor := ""
	for range 100 {
		path := "/v1/bookings?limit=100&email=" + url.QueryEscape(r.email)
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p page[bookingDoc]
		if err := r.probe(ctx, request{method: "GET", svc: svcBooking, path: path, token: bookingAdminToken, timeout: 10 * time.Second}).decode(&p); err != nil {
			return nil, fmt.Errorf("list bookings: %w", err)
		}
		out = append(out, p.Data...)
		if p.NextCursor == nil {
			return out, nil
		}
		cursor = *p.NextCursor
	}
	return nil, fmt.Errorf("list bookings: more than 100 pages")
}

func (r *run) departure(ctx context.Context, id string) (departureDoc, error) {
	var d departureDoc
	err := r.probe(ctx, request{method: "GET", svc: svcCatalog, path: "/v1/departures/" + id, timeout: 10 * time.Second}).decode(&d)
	return d, err
}

func (r *run) intent(ctx context.Context, id string) (intentDoc, error) {
	var i intentDoc
	err := r.probe(ctx, request{method: "GET", svc: svcGateway, path: "/v1/payment_intents/" + url.PathEscape(id), token: merchantKey, timeout: 10 * time.Second}).decode(&i)
	return i, err
}

// events returns the gateway's events created since the scenario started,
// newest first.
func (r *run) events(ctx context.Context) ([]eventDoc, error) {
	var out []eventDoc
	cursor := ""
	// The log is newest first: stop at the first event from before the
	// start (with a second of slack for clock rounding).
	since := r.start.Add(-time.Second)
	for range 200 {
		path := "/v1/events?limit=100"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		var p page[eventDoc]
		if err := r.probe(ctx, request{method: "GET", svc: svcGateway, path: path, token: merchantKey, timeout: 10 * time.Second}).decode(&p); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		for _, e := range p.Data {
			if e.Created.Before(since) {
				return out, nil
			}
			out = append(out, e)
		}
		if p.NextCursor == nil {
			return out, nil
		}
		cursor = *p.NextCursor
	}
	return nil, fmt.Errorf("list events: more than 200 pages")
}

// dumpBooking logs the booking a path names, and what the containers
// logged about it, to explain a failure.
func (r *run) dumpBooking(ctx context.Context, path string) {
	m := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(path)
	if m == "" {
		return
	}
	rep := r.probe(ctx, request{method: "GET", svc: svcBooking, path: "/v1/bookings/" + m, timeout: 5 * time.Second})
	r.t.Logf("booking %s: %s %s", m, rep.kind(), rep.body)
	out, _ := r.w.stack.compose(ctx, "logs", "--no-color", "--since", r.start.Format(time.RFC3339), svcBooking, svcBooking2)
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, m) {
			r.t.Logf("  %s", truncate(line, 600))
		}
	}
}

// balancer plays the load balancer a real deployment puts in front of the
// services: it polls every service's /readyz and sends traffic only to
// ready ones. With SHUTDOWN_DELAY (compose.chaos.yml) a stopping service
// keeps serving after its readiness turns 503, so a client that follows
// readiness never meets a closed listener.
type balancer struct {
	w     *world
	mu    sync.Mutex
	ready map[string]bool
}

func (w *world) startBalancer(ctx context.Context, services ...string) *balancer {
	b := &balancer{w: w, ready: map[string]bool{}}
	for _, svc := range services {
		go func() {
			for ctx.Err() == nil {
				rep := w.http.do(ctx, request{method: "GET", url: w.url(svc) + "/readyz", timeout: time.Second})
				b.mu.Lock()
				b.ready[svc] = rep.status == 200
				b.mu.Unlock()
				sleep(ctx, 100*time.Millisecond)
			}
		}()
	}
	return b
}

// pick returns the first ready service of candidates, waiting (up to a
// minute) while none is.
func (b *balancer) pick(ctx context.Context, candidates ...string) (string, bool) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		b.mu.Lock()
		for _, c := range candidates {
			if b.ready[c] {
				b.mu.Unlock()
				return c, true
			}
		}
		b.mu.Unlock()
		sleep(ctx, 50*time.Millisecond)
	}
	return "", false
}

// parallel runs fn(i) for i in [0, n) on at most width goroutines.
func parallel(n, width int, fn func(i int)) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, width)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			fn(i)
		})
	}
	wg.Wait()
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// short is the last six characters of an id, enough to find it in a log.
func short(id string) string {
	if len(id) > 6 {
		return id[len(id)-6:]
	}
	return id
}

var idSegment = regexp.MustCompile(`/[0-9a-f]{8}-[0-9a-f-]{27}|/pi_[0-9a-z]+|/evt_[0-9a-z]+`)

// route is a request's path with its ids replaced, for tallies by endpoint.
func route(rq request) string {
	p := rq.path
	if p == "" {
		if u, err := url.Parse(rq.url); err == nil {
			p = u.Path
		}
	}
	p, _, _ = strings.Cut(p, "?")
	return rq.method + " " + idSegment.ReplaceAllString(p, "/{id}")
}
