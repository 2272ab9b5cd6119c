// Command bench is `make bench`: it measures the services natively on
// loopback (start-up, memory, throughput and latency against a gin and a
// pgbench ceiling, micro-benchmarks), then in containers (the cold image
// build, image size, build cache, compose start-up and memory), and writes
// bench/results/<date>.md, .json and .svg. `bench render FILE.json` writes
// a report's .md and .svg again from its JSON.
//
// Every part is bounded in time; a part that fails is recorded as failed in
// the report, never filled in. A full run's 10 minutes are split up front:
// the native part leaves the container parts 310 s, which start with the
// cold (--no-cache) build of one image. Load goes to loopback only (and to the
// containers this run starts, through their ports published on loopback).
//
// PostgreSQL: BENCH_DATABASE_URL, else TEST_DATABASE_URL, else the dev
// cluster at 127.0.0.1:5432. When neither variable is set and the dev
// cluster does not answer within 2 s, the run starts a PostgreSQL container
// of its own (POSTGRES_IMAGE, published on a free loopback port) and
// removes it at the end, also after a failure or Ctrl-C. pgbench is the
// machine's; without one it runs inside that container, and with neither
// the pgbench ceiling is reported as not measured.
//
// Environment:
//
//	QUICK=1                 about 2 minutes instead of 10: shorter runs,
//	                        fewer repetitions, no micro-benchmarks, no cold
//	                        or go.mod image build, no load through compose
//	BENCH_PARTS             comma-separated subset of micro,native,load,containers
//	BENCH_OUT               where reports go (default bench/results)
//	BENCH_DATABASE_URL      a PostgreSQL role that may create databases
//	TEST_DATABASE_URL       used when BENCH_DATABASE_URL is not set; also
//	                        what the micro-benchmarks' store suites use
//	POSTGRES_IMAGE          image of the run's own PostgreSQL container
//	                        (default postgres:17-alpine, as docker-compose.yml)
//	                        and of compose's postgres service
//	GO_IMAGE                builder image for the Dockerfiles (CI stand-in)
//	BENCH_CONCURRENCY       load workers of the read scenarios and ceilings (16)
//	BENCH_FLOW_CONCURRENCY  load workers of the booking flow (64)
//	BENCH_SVC_<VAR>=...     passes <VAR>=... to the native services
//	                        (BENCH_SVC_DB_MAX_OPEN_CONNS=20: pool tuning)
//	BENCH_BIN_<NAME>=PATH   runs another binary of a service (A/B comparisons):
//	                        BENCH_BIN_TOUR_CATALOG, BENCH_BIN_BOOKING,
//	                        BENCH_BIN_PAYMENT_GATEWAY, BENCH_BIN_GINCEILING
//	BENCH_PROFILE=1         save CPU profiles of the services under max-rate load
//	BENCH_PROFILE_DIR       where they go (default $TMPDIR/tourism-bench-profiles)
//	BENCH_KEEP=1            keep the work directory with the services' logs
//	DOCKER_HOST             unix:// socket of the engine, for health polling
//	                        (the docker CLI reads it too)
//	GOPROXY                 through `go env GOPROXY`, passed to image builds
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tourism-go/tourism/bench/internal/report"
)

// settings are the knobs of one run, from the environment.
type settings struct {
	quick     bool
	root      string // repository root
	out       string
	db        dbChoice
	pgImage   string // of the run's own PostgreSQL container
	goImage   string
	parts     map[string]bool
	profile   bool
	budget    time.Duration
	loadDur   time.Duration // measured seconds per load run
	warmup    time.Duration
	readyRuns int
	benchtime string
	count     int
}

func main() {
	// `bench render FILE.json` writes FILE.md and FILE.svg again from a
	// run's JSON, after a change to how reports are written.
	if len(os.Args) == 3 && os.Args[1] == "render" {
		if err := render(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	s, err := loadSettings()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	// Ctrl-C cancels the run's context; what the run started is then
	// stopped and removed by its deferred clean-ups, each with a context
	// of its own. Further signals are caught too, so that they cannot cut
	// the clean-up short.
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(sig, s.budget)
	defer cancel()
	err = run(ctx, s)
	if sig.Err() != nil {
		fmt.Fprintln(os.Stderr, "bench: interrupted")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func loadSettings() (settings, error) {
	root, err := repoRoot()
	if err != nil {
		return settings{}, err
	}
	s := settings{
		quick:   os.Getenv("QUICK") == "1" || os.Getenv("QUICK") == "true",
		root:    root,
		out:     envOr("BENCH_OUT", filepath.Join(root, "bench", "results")),
		db:      chooseDatabase(os.Getenv),
		pgImage: envOr("POSTGRES_IMAGE", defaultPostgresImage),
		goImage: os.Getenv("GO_IMAGE"),
		profile: os.Getenv("BENCH_PROFILE") == "1",
		parts:   map[string]bool{},
	}
	parts := "micro,native,load,containers"
	if s.quick {
		// Compiling the benchmarks' test binaries alone can take the
		// whole of a quick run's share; `go test -bench` runs them.
		parts = "native,load,containers"
	}
	for _, p := range strings.Split(envOr("BENCH_PARTS", parts), ",") {
		if p = strings.TrimSpace(p); p != "" {
			s.parts[p] = true
		}
	}
	if s.quick {
		s.budget, s.loadDur, s.warmup, s.readyRuns, s.benchtime, s.count = 2*time.Minute, 3*time.Second, 500*time.Millisecond, 3, "100ms", 1
	} else {
		s.budget, s.loadDur, s.warmup, s.readyRuns, s.benchtime, s.count = 10*time.Minute, 10*time.Second, 2*time.Second, 7, "300ms", 3
	}
	return s, nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// repoRoot is the directory holding go.work, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.work above the working directory: run from the repository")
		}
		dir = parent
	}
}

var started = time.Now()

// logf prints progress on stderr, with the seconds since the start.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> [%4.0fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

// phase runs fn with at most limit of ctx's time, and records its error as
// a failure of part.
func phase(ctx context.Context, r *report.Report, part string, limit time.Duration, fn func(ctx context.Context) error) {
	if ctx.Err() != nil {
		r.Fail(part, fmt.Errorf("not started: the run's time budget was spent or it was interrupted"))
		return
	}
	if limit <= 0 {
		r.Fail(part, fmt.Errorf("not started: the time left belongs to the container parts"))
		return
	}
	pctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	t0 := time.Now()
	logf("%s: start (at most %s)", part, limit.Round(time.Second))
	err := fn(pctx)
	if err != nil {
		if pctx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("%w (phase time limit %s reached)", err, limit.Round(time.Second))
		}
		logf("%s: FAILED after %.1fs: %v", part, time.Since(t0).Seconds(), err)
		r.Fail(part, err)
		return
	}
	logf("%s: done in %.1fs", part, time.Since(t0).Seconds())
}

// plan is the split of the run's budget, made before any part starts. The
// native phases each have a ceiling, and together must leave reserve():
// the cold image build's allowance, the other container parts' and the
// margin for the report. Whatever the native part leaves over goes to the
// container parts.
type plan struct {
	margin time.Duration
	// coldBuild is 0 when there is none (QUICK=1, or no containers part).
	coldBuild      time.Duration
	containersRest time.Duration
}

func newPlan(s settings) plan {
	p := plan{margin: 10 * time.Second}
	if s.parts["containers"] && !s.quick {
		// A cold build is a module download and a compile of every
		// package: about 50 s for CI's first build of the catalog, and
		// more when other work competes for the 2 cores. The other
		// container parts (the cache experiment, two more images,
		// compose) get at least three minutes, and the cold build's
		// time left over.
		p.coldBuild, p.containersRest = 120*time.Second, 180*time.Second
	}
	return p
}

// reserve is what the native part must leave of the run's time.
func (p plan) reserve() time.Duration { return p.margin + p.coldBuild + p.containersRest }

// limit is a phase's time: its ceiling, cut so that reserve stays of left.
func limit(left, ceiling, reserve time.Duration) time.Duration {
	return max(min(ceiling, left-reserve), 0)
}

func run(ctx context.Context, s settings) error {
	r := &report.Report{Date: time.Now().UTC(), Quick: s.quick}
	r.Commit = gitCommit(s.root)
	r.Machine = machineInfo(ctx)
	r.NodeBaseline = report.Baseline{
		Image:      "node:18-alpine",
		ImageBytes: 171_000_000,
		Source: "The Node.js baseline (node:18-alpine, about 171 MB on disk) is the course's figure, " +
			"cited and not measured: this machine has no registry to pull it from.",
	}
	if err := os.MkdirAll(s.out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "tourism-bench-")
	if err != nil {
		return err
	}
	if os.Getenv("BENCH_KEEP") == "1" {
		logf("BENCH_KEEP=1: the work dir (service logs) is kept")
	} else {
		defer os.RemoveAll(work)
	}
	logf("bench: quick=%v budget=%s parts=%v work dir %s", s.quick, s.budget, keys(s.parts), work)

	pl := newPlan(s)
	// The native phases' limits: their own ceiling in a full and a quick
	// run, cut to leave the container parts their share.
	budget := func(full, quick time.Duration) time.Duration {
		ceiling := full
		if s.quick {
			ceiling = quick
		}
		return limit(time.Until(deadlineOf(ctx)), ceiling, pl.reserve())
	}
	if pl.coldBuild > 0 {
		logf("plan: the native part leaves %s to the container parts (cold build %s, the others %s, report %s)",
			pl.reserve(), pl.coldBuild, pl.containersRest, pl.margin)
	}

	// The server of the native part, and of the micro-benchmarks' store
	// suites. Removed last, after the services that use it have stopped.
	var db *database
	pg := newPGContainer(s.pgImage, os.Getpid())
	defer pg.remove()
	if s.parts["native"] || s.parts["load"] || s.parts["micro"] {
		phase(ctx, r, "PostgreSQL", budget(90*time.Second, 75*time.Second), func(ctx context.Context) error {
			var err error
			db, err = openDatabase(ctx, s.db, pg)
			return err
		})
	}
	if db != nil {
		r.Machine.Postgres, r.Machine.PostgresSource = db.version, db.source
		logf("PostgreSQL: %s, %s", db.version, db.source)
		if db.container != "" {
			r.Notes = append(r.Notes, fmt.Sprintf("No PostgreSQL answered at the dev cluster's address (127.0.0.1:5432), so the run used %s. "+
				"The services' connections to it cross docker-proxy, the engine's relay for published ports.", db.source))
		}
	}

	var n *native
	if s.parts["native"] || s.parts["load"] {
		phase(ctx, r, "build native binaries", budget(3*time.Minute, 90*time.Second), func(ctx context.Context) error {
			var err error
			n, err = buildNative(ctx, s, work, db, r)
			return err
		})
	}
	if n != nil {
		defer n.cleanup()
		phase(ctx, r, "databases", budget(30*time.Second, 30*time.Second), func(ctx context.Context) error { return n.createDatabases(ctx) })
	}
	if n != nil && n.dbReady && s.parts["native"] {
		phase(ctx, r, "native start-up and idle memory", budget(60*time.Second, 20*time.Second), func(ctx context.Context) error {
			return n.measureStartup(ctx, r)
		})
	}
	if n != nil && n.dbReady && s.parts["load"] {
		phase(ctx, r, "ceilings (gin, pgbench)", budget(50*time.Second, 15*time.Second), func(ctx context.Context) error {
			return n.ceilings(ctx, r)
		})
		phase(ctx, r, "native load scenarios", budget(150*time.Second, 35*time.Second), func(ctx context.Context) error {
			return n.loadScenarios(ctx, r)
		})
	}
	if n != nil {
		n.cleanup()
	}
	// Last of the native part: of its phases the micro-benchmarks can best
	// lose time to the container parts' share (each package's results are
	// kept as it finishes), and the services are stopped by now.
	if s.parts["micro"] {
		dbURL := ""
		if db != nil {
			dbURL = db.url
		}
		phase(ctx, r, "micro-benchmarks", budget(120*time.Second, 25*time.Second), func(ctx context.Context) error {
			return runMicro(ctx, s, dbURL, r)
		})
	}
	if s.parts["containers"] {
		c := &containers{s: s, work: work, plan: pl}
		phase(ctx, r, "containers", max(time.Until(deadlineOf(ctx))-pl.margin, 10*time.Second), func(ctx context.Context) error {
			return c.run(ctx, r)
		})
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		// Interrupted: a report of parts that never ran is no result.
		logf("interrupted: no report written; cleaning up")
		return ctx.Err()
	}
	r.Machine.LoadEnd = loadAverage()
	evaluateTargets(r)
	r.Duration = report.Seconds(time.Since(started).Seconds())
	return writeReport(s, r)
}

func deadlineOf(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Hour)
	}
	return d
}

func keys(m map[string]bool) []string {
	var out []string
	for _, k := range []string{"micro", "native", "load", "containers"} {
		if m[k] {
			out = append(out, k)
		}
	}
	return out
}

func render(jsonPath string) error {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %w", jsonPath, err)
	}
	r.Targets = nil
	evaluateTargets(&r)
	if err := r.WriteJSON(jsonPath); err != nil {
		return err
	}
	return writeViews(&r, strings.TrimSuffix(jsonPath, ".json"))
}

func writeReport(s settings, r *report.Report) error {
	name := r.Date.Format("2006-01-02")
	if s.quick {
		name += "-quick"
	}
	base := filepath.Join(s.out, name)
	if err := r.WriteJSON(base + ".json"); err != nil {
		return err
	}
	if err := writeViews(r, base); err != nil {
		return err
	}
	rel, _ := filepath.Rel(s.root, base)
	logf("report: %s.md, .json, .svg (%d failures)", rel, len(r.Failures))
	return nil
}

// writeViews writes base.svg and base.md from r.
func writeViews(r *report.Report, base string) error {
	name := filepath.Base(base)
	svg, err := os.Create(base + ".svg")
	if err != nil {
		return err
	}
	if err := r.WriteSVG(svg); err != nil {
		svg.Close()
		return err
	}
	if err := svg.Close(); err != nil {
		return err
	}
	md, err := os.Create(base + ".md")
	if err != nil {
		return err
	}
	if err := r.WriteMarkdown(md, name+".svg"); err != nil {
		md.Close()
		return err
	}
	return md.Close()
}
