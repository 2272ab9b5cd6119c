package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tourism-go/tourism/bench/internal/report"
)

// benchLine matches one result of `go test -bench -benchmem`.
var benchLine = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+([0-9.]+) ns/op(?:\s+([0-9.]+) B/op)?(?:\s+([0-9.]+) allocs/op)?`)

// microPackages are the packages under pkg/ and services/ with a Benchmark
// function in a test file.
func microPackages(root string) ([]string, error) {
	seen := map[string]bool{}
	for _, top := range []string{"pkg", "services"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(d.Name(), "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if benchFunc.Match(b) {
				rel, _ := filepath.Rel(root, filepath.Dir(path))
				seen["./"+filepath.ToSlash(rel)] = true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	pkgs := make([]string, 0, len(seen))
	for p := range seen {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	return pkgs, nil
}

var benchFunc = regexp.MustCompile(`(?m)^func Benchmark[A-Z0-9_]\w*\(b \*testing\.B\)`)

// runMicro runs the micro-benchmarks, the store suites also on the server
// of dbURL when there is one; the raw output is kept beside the report
// (benchstat reads it).
func runMicro(ctx context.Context, s settings, dbURL string, r *report.Report) error {
	pkgs, err := microPackages(s.root)
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("no Benchmark functions under pkg/ or services/")
	}
	env := os.Environ()
	if os.Getenv("TEST_DATABASE_URL") == "" && dbURL != "" {
		// The store benchmarks run on PostgreSQL too when given a server.
		env = append(env, "TEST_DATABASE_URL="+dbURL)
	}
	var raw strings.Builder
	var failed []string
	for _, pkg := range pkgs {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		logf("  go test -bench %s", pkg)
		cmd := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem",
			"-benchtime", s.benchtime, "-count", strconv.Itoa(s.count), pkg)
		cmd.Dir = s.root
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		raw.Write(out)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v: %s", pkg, err, lastLines(string(out), 3)))
		}
		parseBench(strings.TrimPrefix(pkg, "./"), string(out), r)
	}
	name := r.Date.Format("2006-01-02")
	if s.quick {
		name += "-quick"
	}
	if err := os.WriteFile(filepath.Join(s.out, name+"-micro.txt"), []byte(raw.String()), 0o644); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return nil
}

func parseBench(pkg, out string, r *report.Report) {
	type acc struct{ ns, b, allocs []float64 }
	runs := map[string]*acc{}
	var order []string
	for _, line := range strings.Split(out, "\n") {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		a := runs[m[1]]
		if a == nil {
			a = &acc{}
			runs[m[1]] = a
			order = append(order, m[1])
		}
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		a.ns, a.b, a.allocs = append(a.ns, f(m[2])), append(a.b, f(m[3])), append(a.allocs, f(m[4]))
	}
	for _, name := range order {
		a := runs[name]
		r.Micro = append(r.Micro, report.Micro{Package: pkg, Name: name, NsPerOp: median(a.ns),
			BPerOp: median(a.b), AllocsOp: median(a.allocs), Runs: len(a.ns)})
	}
}
