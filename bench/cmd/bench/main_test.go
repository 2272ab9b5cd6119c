package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
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

// TestDocListsEveryKnob keeps main.go's doc comment in step with the
// variables the command reads.
func TestDocListsEveryKnob(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	read := regexp.MustCompile(`(?:[gG]etenv|LookupEnv|envOr)\(\s*"([A-Z][A-Z0-9_]*)"|HasPrefix\(k, "([A-Z][A-Z0-9_]*)"\)`)
	knobs := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range read.FindAllSubmatch(b, -1) {
			knobs[string(m[1])+string(m[2])] = true
		}
	}
	// chooseDatabase reads these through its getenv argument.
	knobs["BENCH_DATABASE_URL"], knobs["TEST_DATABASE_URL"] = true, true
	b, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	doc, _, _ := strings.Cut(string(b), "package main")
	if len(knobs) < 10 {
		t.Fatalf("found only %d variables read: %v", len(knobs), knobs)
	}
	for k := range knobs {
		if k == "PORT" || k == "PATH" {
			continue // the services', set by the command itself
		}
		if !strings.Contains(doc, k) {
			t.Errorf("main.go's doc comment does not list %s", k)
		}
	}
}
