package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WriteSVG draws latency percentiles (p50, p90, p99, max) per scenario as
// grouped horizontal bars on a logarithmic millisecond axis: the tails of
// a loaded service are orders of magnitude above its median, and a linear
// axis would flatten the medians to nothing.
func (r *Report) WriteSVG(w io.Writer) error {
	type bar struct {
		label string
		v     float64
	}
	type group struct {
		name string
		bars []bar
	}
	var groups []group
	for _, s := range r.Scenarios {
		if s.OK == 0 {
			continue
		}
		name := fmt.Sprintf("%s (%s, %s", s.Name, s.Where, s.Mode)
		if s.OfferedRate > 0 {
			name += fmt.Sprintf(" %.0f/s", s.OfferedRate)
		}
		name += ")"
		groups = append(groups, group{name: name, bars: []bar{{"p50", s.P50}, {"p90", s.P90}, {"p99", s.P99}, {"max", s.Max}}})
	}
	if r.Ceilings.GinP50 > 0 {
		groups = append(groups, group{name: "gin ceiling (native, max-rate)", bars: []bar{{"p50", r.Ceilings.GinP50}, {"p99", r.Ceilings.GinP99}}})
	}
	colors := map[string]string{"p50": "#4e79a7", "p90": "#59a14f", "p99": "#f28e2b", "max": "#e15759"}

	const (
		left, right, top = 330.0, 30.0, 50.0
		barH, gap        = 11.0, 14.0
		width            = 960.0
	)
	lo, hi := math.Inf(1), 0.0
	for _, g := range groups {
		for _, b := range g.bars {
			if b.v > 0 {
				lo, hi = math.Min(lo, b.v), math.Max(hi, b.v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	minDec := math.Floor(math.Log10(lo))
	maxDec := math.Ceil(math.Log10(hi))
	if maxDec <= minDec {
		maxDec = minDec + 1
	}
	plotW := width - left - right
	x := func(v float64) float64 {
		if v <= 0 {
			return left
		}
		return left + (math.Log10(v)-minDec)/(maxDec-minDec)*plotW
	}
	height := top + 40
	for _, g := range groups {
		height += float64(len(g.bars))*barH + gap
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="11">`+"\n",
		width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="#ffffff"/>` + "\n")
	p(`<text x="%.0f" y="20" font-size="14" font-weight="bold">Latency percentiles per scenario, ms (log scale) — %s</text>`+"\n",
		left, html.EscapeString(r.Date.Format("2006-01-02")))
	// Legend.
	lx := left
	for _, k := range []string{"p50", "p90", "p99", "max"} {
		p(`<rect x="%.0f" y="30" width="10" height="10" fill="%s"/><text x="%.0f" y="39">%s</text>`+"\n", lx, colors[k], lx+14, k)
		lx += 60
	}
	plotBottom := height - 30
	// Grid lines at 1, 2 and 5 of each decade.
	for d := minDec; d <= maxDec; d++ {
		for _, m := range []float64{1, 2, 5} {
			v := m * math.Pow(10, d)
			if math.Log10(v) > maxDec+1e-9 {
				break
			}
			gx := x(v)
			stroke := "#eeeeee"
			if m == 1 {
				stroke = "#cccccc"
			}
			p(`<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="%s"/>`+"\n", gx, top, gx, plotBottom, stroke)
			p(`<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555555">%s</text>`+"\n", gx, plotBottom+14, axisLabel(v))
		}
	}
	y := top
	for _, g := range groups {
		mid := y + float64(len(g.bars))*barH/2
		p(`<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, mid+4, html.EscapeString(g.name))
		for _, bb := range g.bars {
			w := x(bb.v) - left
			if w < 1 {
				w = 1
			}
			p(`<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s %s: %s ms</title></rect>`+"\n",
				left, y, w, barH-2, colors[bb.label], html.EscapeString(g.name), bb.label, ms(bb.v))
			p(`<text x="%.1f" y="%.1f" font-size="9" fill="#333333">%s</text>`+"\n", left+w+3, y+barH-3, ms(bb.v))
			y += barH
		}
		y += gap
	}
	p(`<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#333333"/>`+"\n", left, top, left, plotBottom)
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func axisLabel(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}
