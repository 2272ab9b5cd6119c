//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scenario is one way of breaking the stack.
type scenario struct {
	name   string
	what   string        // one line for the report
	budget time.Duration // the whole scenario, convergence included
	run    func(ctx context.Context, r *run)
}

var scenarios = []scenario{
	{"storm", "300 concurrent create+pay on a 10-seat departure, through both booking replicas", 2 * time.Minute, overbookingStorm},
	{"kill-gateway", "kill -9 payment-gateway during a burst of payments, start it again", 2*time.Minute + 30*time.Second, killGateway},
	{"kill-booking", "kill -9 both booking replicas mid-flow, start them again", 3 * time.Minute, killBooking},
	{"postgres-restart", "stop PostgreSQL under load for a few seconds, start it again", 2*time.Minute + 30*time.Second, restartPostgres},
	{"partition", "disconnect booking from the catalog's network, reconnect", 2*time.Minute + 30*time.Second, partitionCatalog},
	{"rolling-restart", "docker compose stop/start of each service in turn under steady load", 3 * time.Minute, rollingRestart},
	{"webhook-abuse", "replayed, reordered and forged gateway events to booking", 2 * time.Minute, webhookAbuse},
}

// TestChaos brings the chaos project up, runs every scenario against it in
// turn, writes the results table, and tears the project down (volumes
// included) whatever happened.
func TestChaos(t *testing.T) {
	s := newStack(t)
	w := &world{stack: s, http: newClient(), runID: time.Now().UTC().Format("150405")}
	suiteStart := time.Now()
	var runs []*run
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if t.Failed() {
			t.Logf("last container logs:\n%s", s.logs(ctx, 60))
			// Last, so that a CI log cut to its tail still says why.
			t.Logf("violations:\n%s", violationSummary(runs))
		}
		if os.Getenv("CHAOS_KEEP") != "" {
			t.Logf("CHAOS_KEEP is set: project %s left running", s.project)
			return
		}
		if err := s.down(ctx); err != nil {
			t.Errorf("tear down: %v", err)
		}
	})

	// The images first, on a budget of their own: on a busy machine with a
	// cold build cache they take minutes, and that is not the stack's fault.
	buildCtx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	buildStart := time.Now()
	err := s.build(buildCtx)
	cancel()
	if err != nil {
		t.Fatalf("compose build: %v", err)
	}
	buildTime := time.Since(buildStart)
	upCtx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// A project left over by an interrupted run would keep its volumes.
	_ = s.down(upCtx)
	upStart := time.Now()
	if err := s.up(upCtx); err != nil {
		t.Fatalf("compose up: %v", err)
	}
	if err := w.refresh(upCtx, svcCatalog, svcBooking, svcBooking2, svcGateway); err != nil {
		t.Fatalf("published ports: %v", err)
	}
	t.Logf("images built in %s, stack up in %s: %v", buildTime.Round(time.Second), time.Since(upStart).Round(time.Second), w.base)
	scenariosStart := time.Now()

	for _, sc := range scenarios {
		r := w.newRun(t, sc.name)
		ran := false
		ok := t.Run(sc.name, func(t *testing.T) {
			ran = true
			r.t = t
			ctx, cancel := context.WithTimeout(context.Background(), sc.budget)
			defer cancel()
			sc.run(ctx, r)
			r.checkServerErrors()
			if ctx.Err() != nil {
				r.violate("scenario ran out of its %s budget", sc.budget)
			}
		})
		if !ran {
			continue // not selected by -run
		}
		r.duration = time.Since(r.start)
		r.what = sc.what
		runs = append(runs, r)
		if !ok && r.violationCount() == 0 {
			// Failed without a violation: the harness itself (setup).
			r.violate("scenario did not run to the end")
		}
		// The next scenario starts on a healthy stack, whatever this
		// one left behind.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := s.waitHealthy(ctx, svcPostgres, svcCatalog, svcGateway, svcBooking, svcBooking2); err != nil {
			cancel()
			t.Fatalf("stack not healthy after %s: %v", sc.name, err)
		}
		cancel()
	}
	table := resultsTable(runs)
	times := timings{build: buildTime, scenarios: time.Since(scenariosStart), total: time.Since(suiteStart)}
	t.Logf("chaos results (%s):\n%s", times, table)
	if err := writeReport(runs, table, times); err != nil {
		t.Errorf("write report: %v", err)
	}
}

// note records a number worth keeping in the report.
func (r *run) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.notes = append(r.notes, msg)
	r.mu.Unlock()
	r.t.Log(msg)
}

// violationSummary lists every violation by scenario, or says there was none.
func violationSummary(runs []*run) string {
	var b strings.Builder
	for _, r := range runs {
		r.mu.Lock()
		for _, v := range r.violations {
			fmt.Fprintf(&b, "  %s: %s\n", r.name, v)
		}
		r.mu.Unlock()
	}
	if b.Len() == 0 {
		return "  none recorded (the harness itself failed: see above)\n"
	}
	return b.String()
}

func resultsTable(runs []*run) string {
	var b strings.Builder
	b.WriteString("| Scenario | Requests | Errors by kind | Invariant violations | Duration | Result |\n")
	b.WriteString("|---|---:|---|---:|---:|---|\n")
	for _, r := range runs {
		result := "pass"
		if n := r.violationCount(); n > 0 {
			result = "FAIL"
		}
		fmt.Fprintf(&b, "| %s | %d | %s | %d | %s | %s |\n", r.name, r.traffic.requests, r.traffic.errorsByKind(),
			r.violationCount(), r.duration.Round(100*time.Millisecond), result)
	}
	return b.String()
}

// timings are where the suite's time went.
type timings struct{ build, scenarios, total time.Duration }

func (t timings) String() string {
	return fmt.Sprintf("scenarios %s; suite %s, of which image build %s", t.scenarios.Round(time.Second), t.total.Round(time.Second), t.build.Round(time.Second))
}

// writeReport writes bench/results/chaos-<date>.md (or CHAOS_REPORT).
func writeReport(runs []*run, table string, times timings) error {
	path := os.Getenv("CHAOS_REPORT")
	if path == "" {
		path = filepath.Join("..", "bench", "results", "chaos-"+time.Now().UTC().Format(time.DateOnly)+".md")
	}
	var b strings.Builder
	b.WriteString("# Chaos run, " + time.Now().UTC().Format(time.DateOnly) + "\n\n")
	b.WriteString("`make chaos`: the compose stack (docker-compose.yml plus chaos/compose.chaos.yml: a second booking\n")
	b.WriteString("replica, BOOKING_HOLD_TTL=15s, sweeps every 2s, CATALOG_TIMEOUT=2s, PAYMENT_TIMEOUT=2s, webhook\n")
	b.WriteString("retries from 200ms to 3s), broken on purpose by the docker CLI. After each scenario the invariants are\n")
	b.WriteString("checked through the three services' APIs until they converge: A (seats reserved = seats of live\n")
	b.WriteString("bookings, at most the capacity), B (every charge belongs to a confirmed booking or is refunded, every\n")
	b.WriteString("confirmed booking is charged), C (nothing pending or awaiting payment past its deadline plus\n")
	b.WriteString(fmt.Sprintf("%s), and every webhook delivered.\n\n", settleMargin))
	b.WriteString("\"Errors by kind\" counts every answer of the scenario's traffic that was not 2xx, by status and\n")
	b.WriteString("problem code, and transport failures (refused: nothing listening; reset: connection broken after\n")
	b.WriteString("the request was sent; timeout). Many are the expected answers (409 seats_unavailable in the storm,\n")
	b.WriteString("402 card_declined, 503 upstream_unavailable while a dependency is down); the scenario checks say\n")
	b.WriteString("which are allowed.\n\n")
	b.WriteString(table)
	fmt.Fprintf(&b, "\nTime: %s (stack start and teardown included).\n", times)
	b.WriteString("\n## Scenarios\n")
	for i, r := range runs {
		fmt.Fprintf(&b, "\n### %d. %s\n\n%s.\n\n", i+1, r.name, r.what)
		for _, n := range r.notes {
			b.WriteString("- " + n + "\n")
		}
		for _, v := range r.violations {
			b.WriteString("- **violation**: " + v + "\n")
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
