//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Timers of the chaos project (compose.chaos.yml sets the services' side).
const (
	// holdTTL is BOOKING_HOLD_TTL: how long a customer has to pay.
	holdTTL = 15 * time.Second
	// sweepInterval is BOOKING_SWEEP_INTERVAL and HOLD_SWEEP_INTERVAL.
	sweepInterval = 2 * time.Second
	// crashLease is how long a booking stays claimed by an operation that
	// died: booking's operation timeout (20 s) plus two persist timeouts.
	crashLease = 30 * time.Second
	// pendingBound is how long a create may legitimately keep a booking
	// pending: the operation timeout.
	pendingBound = 20 * time.Second
	// settleMargin is invariant C's margin past a deadline: a crashed
	// operation's lease, two sweeps and some slack.
	settleMargin = crashLease + 2*sweepInterval + 5*time.Second
	// webhookBackoffMax is WEBHOOK_BACKOFF_MAX: the longest wait between
	// two deliveries of an event.
	webhookBackoffMax = 3 * time.Second
	// maxConverge caps any convergence wait, so a stuck booking fails the
	// scenario instead of stalling the suite.
	maxConverge = 100 * time.Second
)

// snapshot is everything the invariants look at, read through the APIs.
type snapshot struct {
	at         time.Time
	bookings   []bookingDoc            // the scenario's (by its email)
	others     map[string]bookingDoc   // bookings named by charges, beyond those
	departures map[string]departureDoc // the scenario's
	intents    map[string]intentDoc    // every intent named by a booking or an event
	events     []eventDoc              // the gateway's, since the scenario started
}

func (r *run) snapshot(ctx context.Context) (snapshot, error) {
	s := snapshot{at: time.Now().UTC(), others: map[string]bookingDoc{}, departures: map[string]departureDoc{}, intents: map[string]intentDoc{}}
	var err error
	if s.bookings, err = r.bookings(ctx); err != nil {
		return s, err
	}
	r.mu.Lock()
	deps := slices.Clone(r.departures)
	r.mu.Unlock()
	for _, id := range deps {
		d, err := r.departure(ctx, id)
		if err != nil {
			return s, fmt.Errorf("departure %s: %w", id, err)
		}
		s.departures[id] = d
	}
	if s.events, err = r.events(ctx); err != nil {
		return s, err
	}
	ids := map[string]bool{}
	known := map[string]bool{}
	for _, b := range s.bookings {
		known[b.ID] = true
		if id := b.intentID(); id != "" {
			ids[id] = true
		}
	}
	var wanted []string // bookings outside the scenario's email named by a charge
	for _, e := range s.events {
		if i, ok := e.intent(); ok && e.Type == "payment_intent.succeeded" {
			ids[i.ID] = true
			if bid := i.Metadata["booking_id"]; bid != "" && !known[bid] {
				known[bid] = true
				wanted = append(wanted, bid)
			}
		}
	}
	var mu sync.Mutex
	var errs []error
	list := slices.Collect(maps.Keys(ids))
	parallel(len(list), 8, func(i int) {
		in, err := r.intent(ctx, list[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("intent %s: %w", list[i], err))
			return
		}
		s.intents[list[i]] = in
	})
	parallel(len(wanted), 8, func(i int) {
		b, err := r.getBooking(ctx, wanted[i])
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, fmt.Errorf("booking %s: %w", wanted[i], err))
			return
		}
		s.others[b.ID] = b
	})
	if len(errs) > 0 {
		return s, errs[0]
	}
	return s, nil
}

// verdict is what a snapshot says.
type verdict struct {
	violations []string // broken invariants
	// waiting lists what is legitimately not settled yet (a booking before
	// its deadline, an event not delivered yet); empty once converged.
	waiting []string
	// webhooksPending counts the events the gateway is still retrying.
	webhooksPending int
	// until is when the last thing waited for is overdue (deadline plus
	// margin).
	until time.Time
}

func (s snapshot) check() verdict {
	var v verdict
	live := map[string]int{}
	for _, b := range s.bookings {
		if b.Status == "awaiting_payment" || b.Status == "confirmed" {
			live[b.DepartureID] += b.Seats
		}
	}
	// A: seats reserved at the catalog are exactly the live bookings'.
	for id, d := range s.departures {
		if d.SeatsReserved > d.Capacity || d.SeatsReserved < 0 {
			v.violations = append(v.violations, fmt.Sprintf("A: departure %s has %d seats reserved of %d", short(id), d.SeatsReserved, d.Capacity))
		}
		if d.SeatsReserved != live[id] {
			v.violations = append(v.violations, fmt.Sprintf("A: departure %s has %d seats reserved, its live bookings hold %d", short(id), d.SeatsReserved, live[id]))
		}
	}
	// B: confirmed if and only if charged (and not refunded).
	for _, b := range s.bookings {
		in, has := s.intents[b.intentID()]
		switch {
		case b.Status == "confirmed" && (!has || !in.paid()):
			v.violations = append(v.violations, fmt.Sprintf("B: booking %s is confirmed but not charged (intent %q %s, refunded %d of %d)",
				short(b.ID), b.intentID(), in.Status, in.AmountRefunded, in.Amount))
		case b.Status != "confirmed" && has && in.paid():
			v.violations = append(v.violations, fmt.Sprintf("B: booking %s is %s but its charge %s holds %d", short(b.ID), b.Status, in.ID, in.Amount-in.AmountRefunded))
		}
	}
	byID := map[string]bookingDoc{}
	for _, b := range s.bookings {
		byID[b.ID] = b
	}
	for id, b := range s.others {
		byID[id] = b
	}
	for _, e := range s.events {
		ev, ok := e.intent()
		if !ok || e.Type != "payment_intent.succeeded" {
			continue
		}
		in := s.intents[ev.ID]
		if !in.paid() {
			continue // refunded since
		}
		b, found := byID[in.Metadata["booking_id"]]
		if !found || b.Status != "confirmed" || b.intentID() != in.ID {
			v.violations = append(v.violations, fmt.Sprintf("B: charge %s (%d) belongs to no confirmed booking (booking %s is %q, records intent %q)",
				in.ID, in.Amount-in.AmountRefunded, short(in.Metadata["booking_id"]), b.Status, b.intentID()))
		}
	}
	// C: nothing stays unsettled past its deadline plus the margin.
	for _, b := range s.bookings {
		var deadline time.Time
		switch {
		case b.Status == "pending":
			deadline = b.CreatedAt.Add(pendingBound)
		case b.Status == "awaiting_payment" && b.HoldExpiresAt != nil:
			deadline = *b.HoldExpiresAt
		case b.Status == "awaiting_payment":
			v.violations = append(v.violations, fmt.Sprintf("C: booking %s awaits payment without a deadline", short(b.ID)))
			continue
		default:
			continue
		}
		overdue := deadline.Add(settleMargin)
		if s.at.After(overdue) {
			v.violations = append(v.violations, fmt.Sprintf("C: booking %s still %s %s after its deadline", short(b.ID), b.Status, s.at.Sub(deadline).Round(time.Second)))
			continue
		}
		v.waiting = append(v.waiting, "booking "+short(b.ID)+" "+b.Status)
		if overdue.After(v.until) {
			v.until = overdue
		}
	}
	// Webhooks: every event reaches booking (at-least-once, with retries).
	for _, e := range s.events {
		switch e.Delivery.State {
		case "delivered":
		case "failed":
			v.violations = append(v.violations, fmt.Sprintf("webhook %s (%s) failed after %d attempts", e.ID, e.Type, e.Delivery.Attempts))
		default:
			v.waiting = append(v.waiting, "webhook "+e.ID+" "+e.Delivery.State)
			v.webhooksPending++
		}
	}
	return v
}

// converge polls the invariants until the scenario's bookings are settled
// and every invariant holds, or until what is still unsettled is overdue;
// it then records whatever is still wrong as violations. It returns how long
// convergence took.
func (r *run) converge(ctx context.Context) time.Duration {
	start := time.Now()
	hardStop := start.Add(maxConverge)
	var last verdict
	var lastErr error
	for {
		s, err := r.snapshot(ctx)
		lastErr = err
		if err == nil {
			last = s.check()
			if len(last.violations) == 0 && len(last.waiting) == 0 {
				r.note("converged in %s (%d bookings, %d events)", time.Since(start).Round(100*time.Millisecond), len(s.bookings), len(s.events))
				return time.Since(start)
			}
		}
		// Keep waiting while something is legitimately in progress, or
		// for a few sweeps in any case: a broken invariant may be a
		// compensation that has not run yet.
		until := start.Add(3*sweepInterval + crashLease/3)
		if last.until.After(until) {
			until = last.until
		}
		if last.webhooksPending > 0 {
			// booking refuses an event (409) while someone holds the
			// booking's lease, and a killed process's lease runs its
			// full crashLease. Every fault is over when convergence
			// starts, so such a refusal ends within crashLease of it,
			// and the next retry within one backoff more.
			if w := start.Add(crashLease + webhookBackoffMax + sweepInterval); w.After(until) {
				until = w
			}
		}
		if until.After(hardStop) {
			until = hardStop
		}
		if time.Now().After(until) || ctx.Err() != nil {
			break
		}
		sleep(ctx, sweepInterval)
	}
	if lastErr != nil {
		r.violate("invariant check could not read the services: %v", lastErr)
	}
	for _, msg := range last.violations {
		r.violate("%s", msg)
	}
	if len(last.violations) == 0 && len(last.waiting) > 0 {
		r.violate("not converged after %s: %s", time.Since(start).Round(time.Second), strings.Join(first(last.waiting, 5), "; "))
	}
	return time.Since(start)
}

// checkServerErrors turns every server error the scenario's traffic met,
// other than "a dependency is unavailable" (503/504 upstream_unavailable
// for a peer, 503 service_unavailable for the service's own database), into
// a violation: those are the answers a failing dependency must produce,
// and anything else (a 500, a body that is not problem+json) is a bug.
func (r *run) checkServerErrors() {
	r.traffic.mu.Lock()
	defer r.traffic.mu.Unlock()
	for k, n := range r.traffic.kinds {
		switch {
		case !strings.HasPrefix(k, "5"):
			continue
		case k == "503 upstream_unavailable", k == "504 upstream_unavailable", k == "503 service_unavailable":
			// A peer, or the service's own database, unavailable.
			continue
		}
		r.mu.Lock()
		r.violations = append(r.violations, fmt.Sprintf("%d answers %q", n, k))
		r.mu.Unlock()
		r.t.Errorf("violation: %d answers %q", n, k)
	}
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
	}
	return s
}
