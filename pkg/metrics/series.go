package metrics

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// CounterVec is a counter family; With picks one series by label values.
type CounterVec struct {
	series *seriesSet[Counter]
}

// With returns the counter of the given label values, one per label name
// in the order registered, creating it on first use. Keep the result when
// the values are fixed: the lookup is cheap but not free.
//
// With panics when given the wrong number of values: label names are fixed
// in the code, so that is a bug, and dropping the count silently would hide
// it.
func (v *CounterVec) With(values ...string) *Counter { return v.series.get(values) }

// Counter is one counter series. Its methods are safe for concurrent use
// and never block.
type Counter struct {
	n atomic.Uint64
}

// Inc adds one.
func (c *Counter) Inc() { c.n.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) { c.n.Add(n) }

func (v *CounterVec) appendText(b []byte) []byte {
	d := &v.series.desc
	return v.series.appendText(b, func(b []byte, values []string, c *Counter) []byte {
		return appendSample(b, d, "", values, "", "", float64(c.n.Load()))
	})
}

// HistogramVec is a histogram family; With picks one series by label
// values.
type HistogramVec struct {
	upper  []float64
	le     []string // upper formatted for the le label
	series *seriesSet[Histogram]
}

// With returns the histogram of the given label values, as CounterVec.With
// does (and panics as it does).
func (v *HistogramVec) With(values ...string) *Histogram { return v.series.get(values) }

func (v *HistogramVec) newHistogram() *Histogram {
	return &Histogram{upper: v.upper, buckets: make([]atomic.Uint64, len(v.upper))}
}

// Histogram is one histogram series. Observe is safe for concurrent use
// and never blocks.
type Histogram struct {
	upper []float64
	// buckets[i] counts the observations in (upper[i-1], upper[i]], not
	// cumulatively, so that Observe touches one bucket; those above the
	// last bound are in count only.
	buckets []atomic.Uint64
	count   atomic.Uint64
	sumBits atomic.Uint64 // float64 bits, updated by compare-and-swap
}

// Observe records v in the first bucket whose upper bound is ≥ v (bounds
// are inclusive, as Prometheus' le says). NaN goes to +Inf only, as with
// the Prometheus client.
func (h *Histogram) Observe(v float64) {
	// count first: appendText reads the buckets before count, so a scrape
	// never shows a finite bucket above +Inf (_count), whatever it races
	// with. _sum may lag or lead by the observations in flight.
	h.count.Add(1)
	if i := sort.SearchFloat64s(h.upper, v); i < len(h.upper) {
		h.buckets[i].Add(1)
	}
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func (v *HistogramVec) appendText(b []byte) []byte {
	d := &v.series.desc
	return v.series.appendText(b, func(b []byte, values []string, h *Histogram) []byte {
		var cumulative uint64
		for i := range h.buckets {
			cumulative += h.buckets[i].Load()
			b = appendSample(b, d, "_bucket", values, "le", v.le[i], float64(cumulative))
		}
		count := float64(h.count.Load())
		b = appendSample(b, d, "_bucket", values, "le", "+Inf", count)
		b = appendSample(b, d, "_sum", values, "", "", math.Float64frombits(h.sumBits.Load()))
		return appendSample(b, d, "_count", values, "", "", count)
	})
}

// seriesSet holds the series of one family by label values.
type seriesSet[M any] struct {
	desc
	newMetric func() *M
	mu        sync.RWMutex
	byKey     map[string]series[M]
}

type series[M any] struct {
	values []string
	metric *M
}

func newSeriesSet[M any](d desc, newMetric func() *M) *seriesSet[M] {
	return &seriesSet[M]{desc: d, newMetric: newMetric, byKey: map[string]series[M]{}}
}

// get returns the series of values, creating it on first use. A series
// that exists costs a read lock and no allocation: the key is built on the
// stack and the map is indexed without converting it to a string.
func (s *seriesSet[M]) get(values []string) *M {
	if len(values) != len(s.labels) {
		panic(fmt.Sprintf("metrics: %s takes %d label values, got %d", s.name, len(s.labels), len(values)))
	}
	var buf [256]byte
	key := buf[:0]
	for _, v := range values {
		// Each value is prefixed with its length, so no value, whatever
		// bytes it holds, makes two lists of values share a key.
		key = binary.AppendUvarint(key, uint64(len(v)))
		key = append(key, v...)
	}
	s.mu.RLock()
	e, ok := s.byKey[string(key)]
	s.mu.RUnlock()
	if ok {
		return e.metric
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.byKey[string(key)]; ok {
		return e.metric
	}
	// The exposition must be UTF-8 or Prometheus rejects the whole
	// scrape; a value from a request (a method) may not be.
	clean := make([]string, len(values))
	for i, v := range values {
		clean[i] = strings.ToValidUTF8(v, "\uFFFD")
	}
	m := s.newMetric()
	s.byKey[string(key)] = series[M]{values: clean, metric: m}
	return m
}

// appendText appends the family's HELP and TYPE, then what appendSeries
// writes of each series in label value order; nothing without a series.
func (s *seriesSet[M]) appendText(b []byte, appendSeries func(b []byte, values []string, m *M) []byte) []byte {
	all := s.sorted()
	if len(all) == 0 {
		return b
	}
	b = appendHeader(b, &s.desc)
	for _, e := range all {
		b = appendSeries(b, e.values, e.metric)
	}
	return b
}

// sorted returns the series ordered by label values, taken in label name
// order.
func (s *seriesSet[M]) sorted() []series[M] {
	s.mu.RLock()
	all := make([]series[M], 0, len(s.byKey))
	for _, e := range s.byKey {
		all = append(all, e)
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b series[M]) int {
		for _, i := range s.order {
			if c := strings.Compare(a.values[i], b.values[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	return all
}
