package metrics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync"
)

// Registration errors. Metric names are constants in the code, so either
// one is a bug found by the first test that builds the registry.
var (
	ErrInvalid   = errors.New("invalid metric")
	ErrDuplicate = errors.New("metric already registered")
)

// Registry holds metric families and writes them in the text format. Each
// service owns one (package-level registries would make two servers in one
// test process share counts).
type Registry struct {
	mu       sync.Mutex
	families map[string]family
}

// family is one metric name with its HELP, TYPE and series.
type family interface {
	// appendText appends the family in the text format, or nothing when it
	// has no series yet.
	appendText(b []byte) []byte
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{families: map[string]family{}}
}

// Counter registers a counter family with the given label names and
// returns it; its series are created by CounterVec.With.
func (r *Registry) Counter(name, help string, labelNames ...string) (*CounterVec, error) {
	d, err := newDesc(name, help, "counter", labelNames)
	if err != nil {
		return nil, err
	}
	v := &CounterVec{series: newSeriesSet(d, func() *Counter { return &Counter{} })}
	return v, r.add(name, v)
}

// Histogram registers a histogram family with the given upper bounds
// (strictly increasing; a trailing +Inf is implied and may be left out)
// and label names.
func (r *Registry) Histogram(name, help string, buckets []float64, labelNames ...string) (*HistogramVec, error) {
	if slices.Contains(labelNames, "le") {
		return nil, fmt.Errorf("%w: histogram %s: label name le is reserved for buckets", ErrInvalid, name)
	}
	upper, err := checkBuckets(buckets)
	if err != nil {
		return nil, fmt.Errorf("%w: histogram %s: %v", ErrInvalid, name, err)
	}
	d, err := newDesc(name, help, "histogram", labelNames)
	if err != nil {
		return nil, err
	}
	le := make([]string, len(upper))
	for i, u := range upper {
		le[i] = string(appendFloat(nil, u))
	}
	v := &HistogramVec{upper: upper, le: le}
	v.series = newSeriesSet(d, v.newHistogram)
	return v, r.add(name, v)
}

// GaugeFunc registers a gauge without labels whose value f returns at
// each scrape. f runs on the scrape's goroutine and must be safe for
// concurrent use.
func (r *Registry) GaugeFunc(name, help string, f func() float64) error {
	return r.valueFunc(name, help, "gauge", f)
}

// CounterFunc is GaugeFunc for a value that only goes up (CPU seconds),
// so that rate() applies to it.
func (r *Registry) CounterFunc(name, help string, f func() float64) error {
	return r.valueFunc(name, help, "counter", f)
}

func (r *Registry) valueFunc(name, help, typ string, f func() float64) error {
	if f == nil {
		return fmt.Errorf("%w: %s: no function", ErrInvalid, name)
	}
	d, err := newDesc(name, help, typ, nil)
	if err != nil {
		return err
	}
	return r.add(name, &funcFamily{desc: d, f: f})
}

func (r *Registry) add(name string, f family) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.families[name]; ok {
		return fmt.Errorf("%w: %s", ErrDuplicate, name)
	}
	r.families[name] = f
	return nil
}

// WriteText writes every family in the Prometheus text format 0.0.4,
// families sorted by name and series by label values, so that the output
// is deterministic. Families without series are left out, as the
// Prometheus client does.
func (r *Registry) WriteText(w io.Writer) error {
	if _, err := w.Write(r.appendText(nil)); err != nil {
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

func (r *Registry) appendText(b []byte) []byte {
	r.mu.Lock()
	names := make([]string, 0, len(r.families))
	for name := range r.families {
		names = append(names, name)
	}
	families := make([]family, len(names))
	slices.Sort(names)
	for i, name := range names {
		families[i] = r.families[name]
	}
	// Families are written outside the lock: a slow GaugeFunc must not
	// hold up a service registering its metrics.
	r.mu.Unlock()
	for _, f := range families {
		b = f.appendText(b)
	}
	return b
}

// desc is what a family's series share: its name, help, type and label
// names.
type desc struct {
	name, help, typ string
	labels          []string
	// order lists label indexes by label name: series are sorted and
	// their labels written in that order, as the Prometheus client does.
	order []int
}

func newDesc(name, help, typ string, labels []string) (desc, error) {
	if !validName(name, true) {
		return desc{}, fmt.Errorf("%w: metric name %q", ErrInvalid, name)
	}
	for i, l := range labels {
		if !validName(l, false) || strings.HasPrefix(l, "__") {
			return desc{}, fmt.Errorf("%w: %s: label name %q", ErrInvalid, name, l)
		}
		if slices.Contains(labels[:i], l) {
			return desc{}, fmt.Errorf("%w: %s: label name %q given twice", ErrInvalid, name, l)
		}
	}
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return desc{name: name, help: help, typ: typ, labels: slices.Clone(labels), order: order}, nil
}

// validName reports whether s matches [a-zA-Z_:][a-zA-Z0-9_:]* (a metric
// name) or, without colons, [a-zA-Z_][a-zA-Z0-9_]* (a label name).
func validName(s string, colon bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' ||
			c >= '0' && c <= '9' && i > 0 || c == ':' && colon
		if !ok {
			return false
		}
	}
	return true
}

// checkBuckets returns the finite upper bounds of buckets.
func checkBuckets(buckets []float64) ([]float64, error) {
	if n := len(buckets); n > 0 && math.IsInf(buckets[n-1], +1) {
		buckets = buckets[:n-1]
	}
	if len(buckets) == 0 {
		return nil, errors.New("no finite bucket")
	}
	for i, u := range buckets {
		if math.IsNaN(u) || math.IsInf(u, 0) {
			return nil, fmt.Errorf("bucket %v", u)
		}
		if i > 0 && u <= buckets[i-1] {
			return nil, fmt.Errorf("buckets not strictly increasing at %v", u)
		}
	}
	return slices.Clone(buckets), nil
}

// funcFamily is a GaugeFunc or CounterFunc.
type funcFamily struct {
	desc
	f func() float64
}

func (f *funcFamily) appendText(b []byte) []byte {
	b = appendHeader(b, &f.desc)
	return appendSample(b, &f.desc, "", nil, "", "", f.f())
}
