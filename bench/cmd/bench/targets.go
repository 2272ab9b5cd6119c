package main

import (
	"fmt"
	"strings"

	"github.com/tourism-go/tourism/bench/internal/report"
)

// evaluateTargets compares the run with the targets for this
// 2-core machine. A target whose numbers are missing is "not measured".
func evaluateTargets(r *report.Report) {
	find := func(name, where, mode string) *report.Scenario {
		for i := range r.Scenarios {
			s := &r.Scenarios[i]
			if s.Name == name && s.Where == where && s.Mode == mode {
				return s
			}
		}
		return nil
	}
	add := func(name, goal, measured string, met, measuredOK bool, note string) {
		status := "not measured"
		if measuredOK {
			status = "missed"
			if met {
				status = "met"
			}
		}
		r.Targets = append(r.Targets, report.Target{Name: name, Goal: goal, Measured: measured, Status: status, Note: note})
	}
	shared := "load generator, services and PostgreSQL share the 2 cores"

	if s := find("GET /v1/tours/{id}", "native", "max-rate"); s != nil && r.Ceilings.GinRPS > 0 {
		note := ""
		if s.OfGin < 0.4 {
			note = fmt.Sprintf("short by %.0f%% of the target; each read is a database round trip (gin ceiling: none)", (0.4-s.OfGin)/0.4*100)
			if c := s.CPUMsPerOp["tour-catalog"]; c > 0 {
				note += fmt.Sprintf(", and %.2f ms of the catalog's own CPU per request (gorm, pgx, JSON, the access log)", c)
			}
			note += "; " + shared
		}
		add("GET tour by id vs gin ceiling", "≥ 40%", fmt.Sprintf("%.1f%% (%.0f of %.0f req/s)", s.OfGin*100, s.RPS, r.Ceilings.GinRPS), s.OfGin >= 0.4, true, note)
	} else {
		add("GET tour by id vs gin ceiling", "≥ 40%", "", false, false, "")
	}

	maxFlow := find("booking flow", "native", "max-rate")
	var constFlow *report.Scenario
	for i := range r.Scenarios {
		if s := &r.Scenarios[i]; s.Name == "booking flow" && s.Where == "native" && s.OfferedRate == flowRate {
			constFlow = s
		}
	}
	if maxFlow != nil {
		note := ""
		if maxFlow.RPS < 300 {
			cost := "8 HTTP requests over 3 services, a webhook"
			if t := r.Ceilings.FlowTxPerBooking; len(t) > 0 {
				cost += fmt.Sprintf(" and %.0f database transactions (each commit an fsync)", t["tour-catalog"]+t["booking"]+t["payment-gateway"])
			}
			if c := maxFlow.CPUMsPerOp; len(c) > 0 {
				cost += fmt.Sprintf("; %.1f ms of CPU in the services and load generator alone, before PostgreSQL's",
					c["tour-catalog"]+c["booking"]+c["payment-gateway"]+c["load generator"])
			}
			note = fmt.Sprintf("short by %.0f/s (%.0f%%); a booking is %s; %s", 300-maxFlow.RPS, (300-maxFlow.RPS)/300*100, cost, shared)
		}
		add("booking flow throughput", "≥ 300 confirmed/s", fmt.Sprintf("%.0f/s at max rate (c=%d)", maxFlow.RPS, maxFlow.Concurrency), maxFlow.RPS >= 300, true, note)
	} else {
		add("booking flow throughput", "≥ 300 confirmed/s", "", false, false, "")
	}
	if constFlow != nil {
		note := ""
		if constFlow.P99 > 50 || constFlow.Errors > 0 {
			note = fmt.Sprintf("at %.0f/s offered: p99 %.1f ms, %d errors", constFlow.OfferedRate, constFlow.P99, constFlow.Errors)
		}
		add("booking flow p99 and errors at 300/s", "p99 ≤ 50 ms, 0 errors",
			fmt.Sprintf("p99 %.1f ms, %d errors, %.0f/s achieved", constFlow.P99, constFlow.Errors, constFlow.RPS),
			constFlow.P99 <= 50 && constFlow.Errors == 0 && constFlow.RPS >= 0.97*constFlow.OfferedRate, true, note)
	} else {
		add("booking flow p99 and errors at 300/s", "p99 ≤ 50 ms, 0 errors", "", false, false, "")
	}

	perService := func(name, goal string, limit float64, unit string, value func(f report.Footprint) float64, note string) {
		for _, f := range r.Footprint {
			v := value(f)
			if v == 0 {
				add(name+" ("+f.Service+")", goal, "", false, false, "")
				continue
			}
			n := ""
			if v > limit {
				n = fmt.Sprintf("over by %.1f %s (%.0f%%)", v-limit, unit, (v-limit)/limit*100)
				if note != "" {
					n += "; " + note
				}
				switch {
				case strings.HasPrefix(name, "image") && f.BinaryBytes > 0:
					n += fmt.Sprintf("; the static binary alone is %.1f MB", float64(f.BinaryBytes)/1e6)
				case name == "idle RSS native" && f.NativeRSSFileKiB > 0:
					n += fmt.Sprintf("; %.1f MB of it are the binary's own pages mapped from its file, %.1f MB heap and stacks",
						float64(f.NativeRSSFileKiB)*1024/1e6, float64(f.NativeRSSAnonKiB)*1024/1e6)
				}
			}
			add(name+" ("+f.Service+")", goal, fmt.Sprintf("%.1f %s", v, unit), v <= limit, true, n)
		}
	}
	perService("idle RSS native", "≤ 25 MB", 25, "MB", func(f report.Footprint) float64 { return float64(f.NativeRSSKiB) * 1024 / 1e6 }, "")
	perService("idle memory container", "≤ 25 MB", 25, "MB", func(f report.Footprint) float64 { return float64(f.ContainerRSSKiB) * 1024 / 1e6 }, "")
	perService("native start → ready", "≤ 100 ms", 100, "ms", func(f report.Footprint) float64 { return f.NativeReadyMs }, "")
	perService("container start → healthy", "≤ 1 s", 1000, "ms", func(f report.Footprint) float64 { return f.ContainerHealthyMs },
		"docker runs the first health check one HEALTHCHECK --interval after start (Engine 20.10 has no --start-interval)")
	perService("image on disk", "≤ 25 MB", 25, "MB", func(f report.Footprint) float64 { return float64(f.ImageBytes) / 1e6 }, "")
	perService("image compressed", "≤ 10 MB", 10, "MB", func(f report.Footprint) float64 { return float64(f.ImageGzipBytes) / 1e6 }, "")
	if r.Build.EditS > 0 {
		n := ""
		if r.Build.EditS > 10 {
			n = fmt.Sprintf("over by %.1f s", float64(r.Build.EditS)-10)
		}
		add("cached rebuild after a one-line edit", "≤ 10 s", fmt.Sprintf("%.1f s", float64(r.Build.EditS)), r.Build.EditS <= 10, true, n)
	} else {
		add("cached rebuild after a one-line edit", "≤ 10 s", "", false, false, "")
	}
}
