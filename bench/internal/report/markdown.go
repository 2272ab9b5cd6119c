package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// WriteMarkdown writes r for people; svgName is the chart's file name,
// linked relative to the report.
func (r *Report) WriteMarkdown(w io.Writer, svgName string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	mode := "full"
	if r.Quick {
		mode = "QUICK=1"
	}
	p("# Benchmark %s\n\n", r.Date.Format("2006-01-02 15:04 MST"))
	p("`make bench` (%s) at commit `%s`, %.0f s. Machine: %s, %d cores, %d GiB; %s; Go %s; %s; Docker Engine %s.\n\n",
		mode, r.Commit, float64(r.Duration), orNA(r.Machine.CPU), r.Machine.Cores, r.Machine.MemoryGiB,
		orNA(r.Machine.Kernel), orNA(r.Machine.Go), postgresCell(r.Machine), orNA(r.Machine.Docker))
	p("The load generator, the services, PostgreSQL and Docker share these %d cores: every number below is for all of them on one machine. ", r.Machine.Cores)
	p("1-minute load average at the start of the run %.1f, at the end %.1f (above %d, other work competed for the cores).\n\n", r.Machine.LoadStart, r.Machine.LoadEnd, r.Machine.Cores)

	if len(r.Targets) > 0 {
		p("## Targets\n\n| target | goal | measured | status | note |\n|---|---|---|---|---|\n")
		for _, t := range r.Targets {
			p("| %s | %s | %s | %s | %s |\n", t.Name, t.Goal, t.Measured, t.Status, t.Note)
		}
		p("\n")
	}

	if len(r.Scenarios) > 0 {
		p("## Throughput and latency\n\n")
		p("%s\n\n", ceilingsSentence(r.Ceilings))
		p("Shares of the ceilings are given for max-rate runs, whose throughput is what the service can do; a constant-rate run's is what it was offered.\n\n")
		p("| scenario | where | mode | conc. | offered/s | ok/s | p50 ms | p90 ms | p99 ms | max ms | errors | of gin | of pgbench |\n")
		p("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n")
		for _, s := range r.Scenarios {
			offered := "-"
			if s.OfferedRate > 0 {
				offered = num0(s.OfferedRate)
			}
			p("| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
				s.Name, s.Where, s.Mode, s.Concurrency, offered, num0(s.RPS), ms(s.P50), ms(s.P90), ms(s.P99), ms(s.Max),
				errorsCell(s), ratio(s, s.OfGin), ratio(s, s.OfPgbench))
		}
		p("\n![latency percentiles per scenario](%s)\n\n", svgName)
		var cpuLines []string
		for _, s := range r.Scenarios {
			if len(s.CPUMsPerOp) == 0 {
				continue
			}
			names := make([]string, 0, len(s.CPUMsPerOp))
			for k := range s.CPUMsPerOp {
				names = append(names, k)
			}
			slices.Sort(names)
			var parts []string
			for _, k := range names {
				parts = append(parts, fmt.Sprintf("%s %.3f", k, s.CPUMsPerOp[k]))
			}
			cpuLines = append(cpuLines, fmt.Sprintf("- %s (%s): %s", s.Name, s.Mode, strings.Join(parts, ", ")))
		}
		if len(cpuLines) > 0 {
			p("CPU milliseconds per operation, by process (user + system time during the run, PostgreSQL not included):\n\n%s\n\n", strings.Join(cpuLines, "\n"))
		}
		if len(r.Ceilings.FlowTxPerBooking) > 0 {
			t := r.Ceilings.FlowTxPerBooking
			p("Database transactions per confirmed booking over the flow runs (%d bookings; every autocommit statement counts as one): tour-catalog %.1f, booking %.1f, payment-gateway %.1f, %.1f in all.\n\n",
				r.Ceilings.FlowConfirmed, t["tour-catalog"], t["booking"], t["payment-gateway"], t["tour-catalog"]+t["booking"]+t["payment-gateway"])
		}
		p("Latency is per operation (for the booking flow: create booking, then pay; one new booking per iteration). In constant-rate runs it is measured from the scheduled start, so queueing shows.\n\n")
	}

	if len(r.Footprint) > 0 {
		p("## Footprint\n\n")
		p("| service | image on disk | image gzip | binary | idle RSS native (anon + file) | peak RSS native after load | idle memory container | start → ready native (first start) | container start → ready | container start → healthy |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, f := range r.Footprint {
			first := ""
			if f.NativeFirstReadyMs > 0 {
				first = fmt.Sprintf(" (%s)", ms(f.NativeFirstReadyMs))
			}
			p("| %s | %s | %s | %s | %s | %s | %s | %s%s | %s | %s |\n", f.Service,
				mb(f.ImageBytes), mb(f.ImageGzipBytes), mb(f.BinaryBytes),
				rssCell(f), kib(f.NativeRSSAfterLoadKiB), kib(f.ContainerRSSKiB),
				msOr(f.NativeReadyMs), first, msOr(f.ContainerReadyMs), msOr(f.ContainerHealthyMs))
		}
		if r.NodeBaseline.ImageBytes > 0 {
			p("| *%s (baseline, cited)* | *%s* | | | | | | | | |\n", r.NodeBaseline.Image, mb(r.NodeBaseline.ImageBytes))
		}
		p("\nStart-up times are medians of several runs (%s). %s\n\n", runsNote(r.Footprint), r.NodeBaseline.Source)
	}

	if r.Build.Service != "" {
		p("## Build cache (%s image, builder `%s`)\n\n", r.Build.Service, orNA(r.Build.GoImage))
		p("| build | seconds |\n|---|---:|\n")
		p("| cold (`--no-cache`) | %s |\n| nothing changed | %s |\n| after a one-line source edit | %s |\n| after a go.mod change | %s |\n\n",
			secs(r.Build.ColdS), secs(r.Build.CachedS), secs(r.Build.EditS), secs(r.Build.GoModS))
	}

	if len(r.Micro) > 0 {
		p("## Micro-benchmarks (`go test -bench`, median of runs)\n\n| package | benchmark | ns/op | B/op | allocs/op |\n|---|---|---:|---:|---:|\n")
		for _, m := range r.Micro {
			p("| %s | %s | %s | %s | %s |\n", m.Package, m.Name, num0(m.NsPerOp), num0(m.BPerOp), num0(m.AllocsOp))
		}
		p("\n")
	}

	if len(r.Failures) > 0 {
		p("## Not measured\n\nThese parts failed; their cells above are empty, not estimated.\n\n")
		for _, f := range r.Failures {
			p("- **%s**: %s\n", f.Part, oneLine(f.Error))
		}
		p("\n")
	}
	if len(r.Notes) > 0 {
		p("## Notes\n\n")
		for _, n := range r.Notes {
			p("- %s\n", n)
		}
		p("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ceilingsSentence names the ceilings of the run; one that is missing is
// said to be, so that its empty column reads as not measured.
func ceilingsSentence(c Ceilings) string {
	gin := "minimal gin JSON handler not measured"
	if c.GinRPS > 0 {
		gin = fmt.Sprintf("minimal gin JSON handler %s req/s (p50 %s ms, p99 %s ms)", num0(c.GinRPS), ms(c.GinP50), ms(c.GinP99))
	}
	pgb := "`pgbench -S` not measured"
	if c.PgbenchTPS > 0 {
		pgb = fmt.Sprintf("`pgbench -S` (select-only, prepared, %d clients) %s tps", c.PgbenchClients, num0(c.PgbenchTPS))
	}
	switch {
	case c.GinRPS == 0 && c.PgbenchTPS == 0:
		return "The ceilings were not measured in this run (see Not measured)."
	case c.GinRPS == 0 || c.PgbenchTPS == 0:
		return "Ceilings of this run: " + gin + "; " + pgb + " (see Not measured)."
	default:
		return "Ceilings of this run: " + gin + "; " + pgb + "."
	}
}

// postgresCell is the server's version and, when known, which server it was.
func postgresCell(m Machine) string {
	v := m.Postgres
	if v == "" {
		v = "PostgreSQL n/a"
	}
	if m.PostgresSource != "" {
		v += " (" + m.PostgresSource + ")"
	}
	return v
}

func rssCell(f Footprint) string {
	if f.NativeRSSKiB == 0 {
		return ""
	}
	if f.NativeRSSAnonKiB == 0 && f.NativeRSSFileKiB == 0 {
		return kib(f.NativeRSSKiB)
	}
	return fmt.Sprintf("%s (%s + %s)", kib(f.NativeRSSKiB), kib(f.NativeRSSAnonKiB), kib(f.NativeRSSFileKiB))
}

func runsNote(fs []Footprint) string {
	var parts []string
	for _, f := range fs {
		if f.NativeReadyRuns > 0 {
			parts = append(parts, fmt.Sprintf("native %d", f.NativeReadyRuns))
			break
		}
	}
	for _, f := range fs {
		if f.ContainerRuns > 0 {
			parts = append(parts, fmt.Sprintf("container %d", f.ContainerRuns))
			break
		}
	}
	if len(parts) == 0 {
		return "none measured"
	}
	return strings.Join(parts, ", ")
}

func errorsCell(s Scenario) string {
	if s.Errors == 0 {
		return "0"
	}
	kinds := make([]string, 0, len(s.ErrorKinds))
	for k := range s.ErrorKinds {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return int(s.ErrorKinds[b] - s.ErrorKinds[a]) })
	var parts []string
	for i, k := range kinds {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%d %s", s.ErrorKinds[k], k))
	}
	return fmt.Sprintf("%d (%s)", s.Errors, strings.Join(parts, "; "))
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 600 {
		s = s[:600] + "..."
	}
	return s
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func num0(v float64) string {
	if v == 0 {
		return ""
	}
	if v >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	if v >= 10 {
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ms(v float64) string {
	switch {
	case v == 0:
		return ""
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func msOr(v float64) string {
	if v == 0 {
		return ""
	}
	return ms(v) + " ms"
}

// ratio shows a share of a ceiling for max-rate runs only: a
// constant-rate run's throughput is the rate it was offered.
func ratio(s Scenario, v float64) string {
	if s.OfferedRate > 0 {
		return ""
	}
	return pct(v)
}

func pct(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return ""
	}
	return fmt.Sprintf("%.1f%%", v*100)
}

func mb(b int64) string {
	if b == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f MB", float64(b)/1e6)
}

func kib(k int64) string {
	if k == 0 {
		return ""
	}
	return fmt.Sprintf("%.1f MiB", float64(k)/1024)
}

func secs(s Seconds) string {
	if s == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%.1f", float64(s))
}
