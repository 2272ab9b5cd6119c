//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// outcomes counts how a scenario's flows ended, by a short name.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) add(k string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.n == nil {
		o.n = map[string]int{}
	}
	o.n[k]++
}

func (o *outcomes) get(k string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n[k]
}

// overbookingStorm: 300 customers at once, through both replicas, for the
// 10 seats of one departure. The catalog's one conditional UPDATE must let
// exactly 10 holds through, and each of those must end confirmed.
func overbookingStorm(ctx context.Context, r *run) {
	const seats, attempts = 10, 300
	dep := r.newDeparture(ctx, seats)
	var out outcomes
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range attempts {
		wg.Go(func() {
			<-gate
			// Created at one replica, paid at the other.
			at := replicas[i%2]
			b, rep := r.create(ctx, at, dep, 1, newKey("storm"))
			switch {
			case rep.status == 201:
			case rep.status == 409 && rep.code == "seats_unavailable":
				out.add("sold out")
				return
			default:
				out.add("create " + rep.kind())
				return
			}
			if _, rep := r.pay(ctx, other(at), b.ID, cardOK, newKey("storm-pay")); rep.status == 200 {
				out.add("confirmed")
			} else {
				out.add("pay " + rep.kind())
			}
		})
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	r.note("%d attempts in %s: %v", attempts, time.Since(start).Round(10*time.Millisecond), out.n)
	if got := out.get("confirmed"); got != seats {
		r.violate("storm: %d bookings confirmed, want exactly %d", got, seats)
	}
	if got := out.get("sold out"); got != attempts-seats {
		r.violate("storm: %d answered seats_unavailable, want %d (every other answer: %v)", got, attempts-seats, out.n)
	}
	r.converge(ctx)
	if d, err := r.departure(ctx, dep); err == nil && d.SeatsReserved != seats {
		r.violate("storm: departure has %d seats reserved after the storm, want %d", d.SeatsReserved, seats)
	}
}

// killGateway: customers pay while the gateway is killed (no shutdown, no
// flush) and started again. A payment interrupted at any point must end
// charged-and-confirmed or not charged; events in the gateway's outbox are
// delivered once it is back.
func killGateway(ctx context.Context, r *run) {
	const n = 60
	dep := r.newDeparture(ctx, 100)
	ids, err := r.w.stack.ids(ctx, svcGateway)
	if err != nil {
		r.t.Fatal(err)
	}
	type customer struct {
		id, card, key string
		payBy         time.Time
	}
	customers := make([]customer, n)
	parallel(n, 8, func(i int) {
		b, rep := r.create(ctx, replicas[i%2], dep, 1, newKey("kg"))
		if rep.status != 201 || b.HoldExpiresAt == nil {
			r.violate("kill-gateway: create before the fault answered %s", rep.kind())
			return
		}
		card := cardOK
		if i%5 == 4 {
			card = cardDeclined // stays payable, then expires: must not be charged
		}
		customers[i] = customer{b.ID, card, newKey("kg-pay"), *b.HoldExpiresAt}
	})

	var answered, killedAfter atomic.Int32
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for answered.Load() < n/8 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		if err := r.w.stack.kill(ctx, ids, svcGateway); err != nil {
			r.violate("kill gateway: %v", err)
		}
		killedAfter.Store(answered.Load())
	}()
	var out outcomes
	replies := make([]reply, n)
	// With the gateway dead each payment waits out its timeouts (2-4.5 s):
	// paid 8 at a time, the burst outlasted the 15 s holds, and the
	// retries after the restart found them expired. 20 at a time leaves
	// the customers time to retry, which is what the scenario is about.
	parallel(n, 20, func(i int) {
		if customers[i].id == "" {
			return
		}
		_, replies[i] = r.pay(ctx, replicas[i%2], customers[i].id, customers[i].card, customers[i].key)
		answered.Add(1)
		out.add(replies[i].kind())
	})
	<-killed
	r.note("payments around the kill: %v (the kill landed after %d answers)", out.n, killedAfter.Load())
	sleep(ctx, time.Second)
	if err := r.w.start(ctx, svcGateway); err != nil {
		r.violate("start gateway: %v", err)
		return
	}
	// Customers whose payment got no definite answer keep trying, with
	// the same key, until their deadline, while the gateway comes back.
	var retried outcomes
	parallel(n, n, func(i int) {
		if customers[i].id == "" || !retryable(replies[i]) {
			return
		}
		retried.add(r.settlePayment(ctx, customers[i].id, customers[i].card, customers[i].key, customers[i].payBy).kind())
	})
	r.note("payments retried while the gateway came back: %v", retried.n)
	if err := r.w.stack.waitHealthy(ctx, svcGateway); err != nil {
		r.violate("gateway not healthy again: %v", err)
	}
	r.converge(ctx)
}

// flowResult is what one create-and-pay flow saw.
type flowResult struct {
	id      string
	card    string
	payKey  string
	payBy   time.Time
	created reply
	paid    reply
}

// flow creates a one-seat booking at replica svc and pays it there.
func (r *run) flow(ctx context.Context, svc, dep, card string) flowResult {
	f := flowResult{card: card, payKey: newKey("pay")}
	var b bookingDoc
	b, f.created = r.create(ctx, svc, dep, 1, newKey("create"))
	if f.created.status != 201 {
		return f
	}
	f.id = b.ID
	if b.HoldExpiresAt != nil {
		f.payBy = *b.HoldExpiresAt
	}
	_, f.paid = r.pay(ctx, svc, f.id, card, f.payKey)
	return f
}

// killBooking: both booking replicas are killed while flows are in every
// step (holding seats, charging, confirming), then started again. The
// reconciler (once the dead operations' leases lapse), the expiry sweep
// and the gateway's webhook retries must settle every booking.
func killBooking(ctx context.Context, r *run) {
	dep := r.newDeparture(ctx, 200)
	ids, err := r.w.stack.ids(ctx, svcBooking, svcBooking2)
	if err != nil {
		r.t.Fatal(err)
	}
	var mu sync.Mutex
	var flows []flowResult
	var started atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				card := cardOK
				if (w+i)%6 == 5 {
					card = cardDeclined
				}
				started.Add(1)
				f := r.flow(ctx, replicas[(w+i)%2], dep, card)
				mu.Lock()
				flows = append(flows, f)
				mu.Unlock()
				// A customer whose request broke stops here: the kill.
				if f.created.err != nil || f.paid.err != nil {
					return
				}
			}
		})
	}
	for started.Load() < 24 && ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
	}
	if err := r.w.stack.kill(ctx, ids, svcBooking, svcBooking2); err != nil {
		r.violate("kill booking: %v", err)
	}
	wg.Wait()
	var out outcomes
	for _, f := range flows {
		out.add("create " + f.created.kind())
		if f.id != "" {
			out.add("pay " + f.paid.kind())
		}
	}
	r.note("%d flows around the kill: %v", len(flows), out.n)
	sleep(ctx, 2*time.Second)
	if err := r.w.start(ctx, svcBooking, svcBooking2); err != nil {
		r.violate("start booking: %v", err)
		return
	}
	// Customers with a booking id and no definite payment answer retry
	// until their deadline, while booking comes back.
	var retried outcomes
	parallel(len(flows), len(flows), func(i int) {
		f := flows[i]
		if f.id == "" || f.payBy.IsZero() || !retryable(f.paid) {
			return
		}
		retried.add(r.settlePayment(ctx, f.id, f.card, f.payKey, f.payBy).kind())
	})
	r.note("payments retried while booking came back: %v", retried.n)
	if err := r.w.stack.waitHealthy(ctx, svcBooking, svcBooking2); err != nil {
		r.violate("booking not healthy again: %v", err)
	}
	// And the service works normally again.
	for i := range 4 {
		if f := r.flow(ctx, replicas[i%2], dep, cardOK); f.paid.status != 200 {
			r.violate("kill-booking: a new booking after the restart: create %s, pay %s", f.created.kind(), f.paid.kind())
		}
	}
	r.converge(ctx)
}

// dbUnavailable reports the answer a service must give while a dependency
// is down: 503 problem+json saying so (service_unavailable: its own
// database; upstream_unavailable: a peer), or a 504 for a peer too slow.
func dbUnavailable(rep reply) bool {
	return rep.err == nil && strings.HasPrefix(rep.ctype, "application/problem+json") &&
		((rep.status == 503 && (rep.code == "service_unavailable" || rep.code == "upstream_unavailable")) ||
			(rep.status == 504 && rep.code == "upstream_unavailable"))
}

// restartPostgres: PostgreSQL stops under load and comes back. While it is
// down every service must say so (readiness 503, API answers 503
// problem+json, quickly); once it is back they must serve again on their
// own, without a restart.
func restartPostgres(ctx context.Context, r *run) {
	// The load is bounded in count as well as time: every flow may keep a
	// seat, and the bookings after the recovery need some left. (Once the
	// services failed fast while the database was down, the load made
	// more flows in the same time and sold the departure out.)
	const capacity, maxLoadFlows = 500, 450
	dep := r.newDeparture(ctx, capacity)
	all := []string{svcCatalog, svcGateway, svcBooking, svcBooking2}
	before := map[string]string{}
	for _, svc := range all {
		before[svc], _ = r.w.stack.startedAt(ctx, svc)
	}
	// A booking and an intent to read while the database is down.
	seed := r.flow(ctx, svcBooking, dep, cardOK)
	if seed.paid.status != 200 {
		r.t.Fatalf("seed booking: create %s, pay %s", seed.created.kind(), seed.paid.kind())
	}
	seedDoc, err := r.getBooking(ctx, seed.id)
	if err != nil {
		r.t.Fatalf("read seed booking: %v", err)
	}

	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	var flows atomic.Int32
	var slowMu sync.Mutex
	var slow []string
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				if flows.Add(1) > maxLoadFlows {
					flows.Add(-1)
					return
				}
				f := r.flow(ctx, replicas[(w+i)%2], dep, cardOK)
				for name, rep := range map[string]reply{"create": f.created, "pay": f.paid} {
					if rep.latency > 10*time.Second {
						slowMu.Lock()
						slow = append(slow, fmt.Sprintf("%s at %s: %s after %s", name, replicas[(w+i)%2], rep.kind(), rep.latency.Round(time.Millisecond)))
						slowMu.Unlock()
					}
				}
				if !f.created.ok() || !f.paid.ok() {
					time.Sleep(200 * time.Millisecond)
				}
			}
		})
	}
	sleep(ctx, 2*time.Second)
	if err := r.w.stack.stop(ctx, svcPostgres); err != nil {
		r.violate("stop postgres: %v", err)
	}
	downAt := time.Now()
	// While it is down: every service's readiness, and API calls that
	// need the database, a few times over.
	calls := []request{
		{method: "GET", svc: svcCatalog, path: "/v1/departures/" + dep},
		{method: "GET", svc: svcBooking, path: "/v1/bookings/" + seed.id},
		{method: "GET", svc: svcBooking2, path: "/v1/bookings/" + seed.id},
		{method: "GET", svc: svcGateway, path: "/v1/payment_intents/" + seedDoc.intentID(), token: merchantKey},
		r.createRequest(svcBooking, dep, 1, newKey("pg")),
		{method: "POST", svc: svcGateway, path: "/v1/payment_intents", token: merchantKey, key: newKey("pg-intent"),
			body: map[string]any{"amount": 100, "currency": "EUR", "description": "chaos"}},
	}
	var probes outcomes
	for round := range 3 {
		for _, svc := range all {
			rep := r.probe(ctx, request{method: "GET", svc: svc, path: "/readyz", timeout: 10 * time.Second})
			probes.add("readyz " + rep.kind())
			if rep.status != 503 {
				r.violate("postgres down: %s /readyz answered %s, want 503", svc, rep.kind())
			}
		}
		for _, c := range calls {
			c.timeout = 15 * time.Second
			rep := r.do(ctx, c)
			probes.add(route(c) + " " + rep.kind())
			if !dbUnavailable(rep) {
				r.violate("postgres down (round %d): %s answered %s, want 503 problem+json: %s", round, route(c), rep.kind(), truncate(string(rep.body), 160))
			}
			if rep.latency > 5*time.Second {
				r.violate("postgres down (round %d): %s took %s", round, route(c), rep.latency.Round(time.Millisecond))
			}
		}
		sleep(ctx, time.Second)
	}
	r.note("answers while PostgreSQL was down: %v", probes.n)
	if err := r.w.stack.start(ctx, svcPostgres); err != nil {
		r.violate("start postgres: %v", err)
	}
	r.note("PostgreSQL down for %s", time.Since(downAt).Round(100*time.Millisecond))
	// Recovery on their own: ready again within a minute, not restarted.
	upAt := time.Now()
	for _, svc := range all {
		for {
			rep := r.probe(ctx, request{method: "GET", svc: svc, path: "/readyz", timeout: 5 * time.Second})
			if rep.status == 200 {
				break
			}
			if time.Since(upAt) > time.Minute {
				r.violate("%s not ready a minute after PostgreSQL came back (%s)", svc, rep.kind())
				break
			}
			sleep(ctx, 250*time.Millisecond)
		}
	}
	r.note("services ready %s after PostgreSQL started", time.Since(upAt).Round(100*time.Millisecond))
	sleep(ctx, 3*time.Second)
	close(stopLoad)
	wg.Wait()
	r.note("%d flows under load", flows.Load())
	for _, s := range slow {
		r.violate("hung while PostgreSQL restarted: %s", s)
	}
	for i := range 4 {
		if f := r.flow(ctx, replicas[i%2], dep, cardOK); f.paid.status != 200 {
			r.violate("postgres-restart: a new booking after recovery: create %s, pay %s", f.created.kind(), f.paid.kind())
		}
	}
	for _, svc := range all {
		if after, _ := r.w.stack.startedAt(ctx, svc); after != before[svc] {
			r.violate("%s was restarted (%s -> %s): it must recover on its own", svc, before[svc], after)
		}
	}
	r.converge(ctx)
}

// partitionCatalog: booking loses its route to the catalog (not to the
// database or the gateway). New bookings fail fast with 503 within the
// configured catalog timeout; payments charged meanwhile are confirmed by
// the reconciler once the route is back; no hold is left behind.
func partitionCatalog(ctx context.Context, r *run) {
	dep := r.newDeparture(ctx, 100)
	// Booked before the partition, paid during it.
	type customer struct {
		id, key string
		payBy   time.Time
	}
	var before []customer
	for i := range 6 {
		b, rep := r.create(ctx, replicas[i%2], dep, 1, newKey("part"))
		if rep.status != 201 || b.HoldExpiresAt == nil {
			r.violate("partition: create before the fault answered %s", rep.kind())
			continue
		}
		before = append(before, customer{b.ID, newKey("part-pay"), *b.HoldExpiresAt})
	}
	for _, svc := range replicas {
		if err := r.w.stack.disconnect(ctx, catalogNetwork, svc); err != nil {
			r.violate("disconnect: %v", err)
			return
		}
	}
	cut := time.Now()
	// CATALOG_TIMEOUT=2s: a call gets two attempts' worth, 4.5 s.
	const failFast = 4500*time.Millisecond + 1500*time.Millisecond
	var during outcomes
	parallel(10, 5, func(i int) {
		_, rep := r.create(ctx, replicas[i%2], dep, 1, newKey("part-new"))
		during.add("create " + rep.kind())
		if (rep.status != 503 && rep.status != 504) || rep.code != "upstream_unavailable" {
			r.violate("partition: create at %s answered %s, want 503/504 upstream_unavailable", replicas[i%2], rep.kind())
		}
		if rep.latency > failFast {
			r.violate("partition: create at %s took %s, want under %s", replicas[i%2], rep.latency.Round(time.Millisecond), failFast)
		}
	})
	payReplies := make([]reply, len(before))
	parallel(len(before), 6, func(i int) {
		_, payReplies[i] = r.pay(ctx, replicas[i%2], before[i].id, cardOK, before[i].key)
		during.add("pay " + payReplies[i].kind())
		if payReplies[i].status == 200 {
			r.violate("partition: a payment confirmed the seats without the catalog")
		}
	})
	r.note("answers during the partition: %v", during.n)
	sleep(ctx, max(0, 6*time.Second-time.Since(cut)))
	for _, svc := range replicas {
		if err := r.w.stack.connect(ctx, catalogNetwork, svc); err != nil {
			r.violate("connect: %v", err)
		}
	}
	r.note("partition lasted %s", time.Since(cut).Round(100*time.Millisecond))
	healed := time.Now()
	// Normal service again, at once.
	for i := range 4 {
		f := r.flow(ctx, replicas[i%2], dep, cardOK)
		if f.paid.status != 200 {
			r.violate("partition healed: a new booking: create %s, pay %s", f.created.kind(), f.paid.kind())
		}
	}
	r.note("first bookings after the partition served in %s", time.Since(healed).Round(10*time.Millisecond))
	var retried outcomes
	parallel(len(before), len(before), func(i int) {
		if retryable(payReplies[i]) {
			retried.add(r.settlePayment(ctx, before[i].id, cardOK, before[i].key, before[i].payBy).kind())
		}
	})
	r.note("payments retried after the partition: %v", retried.n)
	r.converge(ctx)
}

// rollingRestart: each service in turn is stopped (SIGTERM) and started
// under steady load. The client routes like a load balancer, by readiness:
// requests a server accepted must all succeed (it drains them before
// exiting). Nothing listening, or a dependency unavailable, is counted
// apart and retried. Every container must exit 0 (never 137: killed at the
// end of the grace period).
func rollingRestart(ctx context.Context, r *run) {
	dep := r.newDeparture(ctx, 500)
	lbCtx, stopLB := context.WithCancel(ctx)
	defer stopLB()
	lb := r.w.startBalancer(lbCtx, svcCatalog, svcGateway, svcBooking, svcBooking2)
	var refused, unavailable, failed atomic.Int32
	var done, confirmed atomic.Int32
	// call sends rq to a ready one of candidates until it gets a definite
	// answer; anything a server accepted and failed is a failure.
	call := func(rq request, candidates ...string) reply {
		var rep reply
		for attempt := 0; attempt < 100 && ctx.Err() == nil; attempt++ {
			svc, ok := lb.pick(ctx, candidates...)
			if !ok {
				break
			}
			rq.svc = svc
			rep = r.do(ctx, rq)
			switch {
			case rep.refused():
				refused.Add(1)
			case rep.unavailable():
				unavailable.Add(1)
			case rep.err != nil || rep.status >= 500:
				failed.Add(1)
				r.violate("rolling restart: %s at %s failed after the server accepted it: %s %v", route(rq), svc, rep.kind(), rep.err)
				return rep
			default:
				return rep
			}
			time.Sleep(200 * time.Millisecond)
		}
		r.violate("rolling restart: %s still unavailable after 100 tries: %s", route(rq), rep.kind())
		r.dumpBooking(ctx, rq.path)
		return rep
	}
	stopLoad := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				// Created at one replica, paid at the other, when ready.
				at := replicas[(w+i)%2]
				rep := call(r.createRequest("", dep, 1, newKey("rr")), at, other(at))
				var b bookingDoc
				if rep.decode(&b) != nil {
					r.violate("rolling restart: create answered %s", rep.kind())
					return
				}
				rep = call(payRequest("", b.ID, cardOK, newKey("rr-pay")), other(at), at)
				done.Add(1)
				if rep.status == 200 {
					confirmed.Add(1)
				} else {
					r.violate("rolling restart: payment of %s answered %s", short(b.ID), rep.kind())
				}
				// A public read beside the writes.
				call(request{method: "GET", path: "/v1/departures/" + dep}, svcCatalog)
				// Steady, not flat out: about one flow a second per
				// worker, well within the departure's seats.
				sleep(ctx, 700*time.Millisecond)
			}
		})
	}
	for _, svc := range []string{svcCatalog, svcGateway, svcBooking, svcBooking2} {
		sleep(ctx, 2*time.Second)
		t0 := time.Now()
		if err := r.w.stack.stop(ctx, svc); err != nil {
			r.violate("stop %s: %v", svc, err)
		}
		stopped := time.Since(t0)
		if code, err := r.w.stack.exitCode(ctx, svc); err != nil || code != 0 {
			r.violate("%s exited with status %d (%v) on SIGTERM, want 0", svc, code, err)
		}
		if err := r.w.startHealthy(ctx, svc); err != nil {
			r.violate("start %s: %v", svc, err)
		}
		r.note("%s: stopped in %s (exit 0), back and healthy %s later", svc, stopped.Round(100*time.Millisecond), (time.Since(t0) - stopped).Round(100*time.Millisecond))
	}
	sleep(ctx, 2*time.Second)
	close(stopLoad)
	wg.Wait()
	r.note("%d flows, %d confirmed; %d refused and %d unavailable answers retried; %d failed after being accepted",
		done.Load(), confirmed.Load(), refused.Load(), unavailable.Load(), failed.Load())
	r.note("answers other than 2xx, by endpoint: %s", r.traffic.errorsByRoute())
	r.converge(ctx)
}
