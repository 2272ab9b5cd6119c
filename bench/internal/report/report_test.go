package report

import (
	"math"
	"strings"
	"testing"
)

func TestSharesWithoutACeiling(t *testing.T) {
	cases := []struct {
		name            string
		c               Ceilings
		rps             float64
		ofGin, ofPgbnch float64
	}{
		{"both measured", Ceilings{GinRPS: 1000, PgbenchTPS: 4000}, 500, 0.5, 0.125},
		{"no pgbench", Ceilings{GinRPS: 1000}, 500, 0.5, 0},
		{"none", Ceilings{}, 500, 0, 0},
		{"a nonsense ceiling", Ceilings{GinRPS: math.Inf(1), PgbenchTPS: math.NaN()}, 500, 0, 0},
		{"no throughput", Ceilings{GinRPS: 1000, PgbenchTPS: 4000}, 0, 0, 0},
	}
	for _, c := range cases {
		g, p := c.c.Shares(c.rps)
		if g != c.ofGin || p != c.ofPgbnch {
			t.Errorf("%s: Shares(%v) = %v, %v; want %v, %v", c.name, c.rps, g, p, c.ofGin, c.ofPgbnch)
		}
	}
}

// A run whose pgbench ceiling is missing: its column is empty, never 0%,
// NaN or Inf, and the text says it was not measured.
func TestMarkdownWithoutPgbench(t *testing.T) {
	r := &Report{
		Machine:  Machine{Postgres: "PostgreSQL 15.18", PostgresSource: "in container tourism-bench-pg-1"},
		Ceilings: Ceilings{GinRPS: 10000, GinP50: 1, GinP99: 3},
		Failures: []Failure{{Part: "pgbench ceiling", Error: "pgbench is not on this machine"}},
	}
	sc := Scenario{Name: "GET /v1/tours/{id}", Where: "native", Mode: "max-rate", Concurrency: 16, OK: 1000, RPS: 2500, P50: 5, P90: 8, P99: 12, Max: 30}
	sc.OfGin, sc.OfPgbench = r.Ceilings.Shares(sc.RPS)
	r.Scenarios = append(r.Scenarios, sc)
	var b strings.Builder
	if err := r.WriteMarkdown(&b, "x.svg"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, bad := range []string{"NaN", "Inf", "0.0%", "0 clients"} {
		if strings.Contains(md, bad) {
			t.Errorf("the report shows %q:\n%s", bad, md)
		}
	}
	for _, want := range []string{
		"`pgbench -S` not measured",
		"| 25.0% |  |\n", // of gin, then an empty of pgbench
		"PostgreSQL 15.18 (in container tourism-bench-pg-1)",
		"**pgbench ceiling**: pgbench is not on this machine",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
}

func TestCeilingsSentence(t *testing.T) {
	if s := ceilingsSentence(Ceilings{}); !strings.Contains(s, "were not measured") {
		t.Errorf("none: %s", s)
	}
	s := ceilingsSentence(Ceilings{GinRPS: 1, PgbenchTPS: 2, PgbenchClients: 16})
	if strings.Contains(s, "not measured") || !strings.Contains(s, "16 clients") {
		t.Errorf("both: %s", s)
	}
	if s := ceilingsSentence(Ceilings{PgbenchTPS: 2, PgbenchClients: 16}); !strings.Contains(s, "gin JSON handler not measured") {
		t.Errorf("no gin: %s", s)
	}
}
