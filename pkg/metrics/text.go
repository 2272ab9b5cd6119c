package metrics

import (
	"math"
	"strconv"
)

// The text format 0.0.4, as the Prometheus client writes it:
// https://prometheus.io/docs/instrumenting/exposition_formats/

func appendHeader(b []byte, d *desc) []byte {
	b = append(b, "# HELP "...)
	b = append(b, d.name...)
	b = append(b, ' ')
	b = appendEscaped(b, d.help, false)
	b = append(b, "\n# TYPE "...)
	b = append(b, d.name...)
	b = append(b, ' ')
	b = append(b, d.typ...)
	return append(b, '\n')
}

// appendSample appends one line: the name with suffix, the labels in name
// order then the extra label (le goes last), and the value.
func appendSample(b []byte, d *desc, suffix string, values []string, extraName, extraValue string, v float64) []byte {
	b = append(b, d.name...)
	b = append(b, suffix...)
	if len(d.labels) > 0 || extraName != "" {
		b = append(b, '{')
		for n, i := range d.order {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, d.labels[i], values[i])
		}
		if extraName != "" {
			if len(d.labels) > 0 {
				b = append(b, ',')
			}
			b = appendLabel(b, extraName, extraValue)
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

func appendLabel(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, `="`...)
	b = appendEscaped(b, value, true)
	return append(b, '"')
}

// appendEscaped escapes \ and newline, and " too in a label value (HELP
// text is not quoted).
func appendEscaped(b []byte, s string, quote bool) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b = append(b, `\\`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '"' && quote:
			b = append(b, `\"`...)
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendFloat writes v as Go's shortest 'g' form (1, 0.005, 1.234567e+06),
// with Prometheus' spelling of the special values.
func appendFloat(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case math.IsInf(v, +1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case v == 0:
		return append(b, '0') // not -0
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}
