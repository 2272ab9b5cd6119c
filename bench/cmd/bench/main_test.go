package main

import (
	"testing"
	"time"
)

func TestLimit(t *testing.T) {
	cases := []struct {
		left, ceiling, reserve, want time.Duration
	}{
		{500 * time.Second, 60 * time.Second, 310 * time.Second, 60 * time.Second}, // its own ceiling
		{350 * time.Second, 60 * time.Second, 310 * time.Second, 40 * time.Second}, // cut to leave the reserve
		{300 * time.Second, 60 * time.Second, 310 * time.Second, 0},                // nothing left for it
		{100 * time.Second, 30 * time.Second, 10 * time.Second, 30 * time.Second},  // QUICK: the margin only
	}
	for _, c := range cases {
		if got := limit(c.left, c.ceiling, c.reserve); got != c.want {
			t.Errorf("limit(%s, %s, %s) = %s, want %s", c.left, c.ceiling, c.reserve, got, c.want)
		}
	}
}

func TestPlan(t *testing.T) {
	parts := func(p ...string) map[string]bool {
		m := map[string]bool{}
		for _, x := range p {
			m[x] = true
		}
		return m
	}
	full := newPlan(settings{parts: parts("micro", "native", "load", "containers")})
	if full.coldBuild < time.Minute {
		t.Errorf("full run: cold build allowance %s, want at least a minute", full.coldBuild)
	}
	// The native part keeps most of the 10 minutes: its load scenarios
	// alone take about two.
	if left := 10*time.Minute - full.reserve(); left < 4*time.Minute {
		t.Errorf("full run: the native part gets %s of 10 minutes", left)
	}
	if q := newPlan(settings{quick: true, parts: parts("native", "load", "containers")}); q.coldBuild != 0 || q.reserve() != q.margin {
		t.Errorf("QUICK=1 has no cold build and reserves only the margin: %+v", q)
	}
	if n := newPlan(settings{parts: parts("native", "load")}); n.coldBuild != 0 || n.reserve() != n.margin {
		t.Errorf("without the containers part nothing is reserved for it: %+v", n)
	}
}
