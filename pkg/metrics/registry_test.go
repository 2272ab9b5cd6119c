package metrics_test

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/tourism-go/tourism/pkg/metrics"
)

func text(t *testing.T, r *metrics.Registry) string {
	t.Helper()
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// must unwraps a registration that cannot fail but for a bug in the
// test; the panic fails the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestWriteTextGolden(t *testing.T) {
	r := metrics.NewRegistry()
	// Labels declared out of name order: the output sorts them, and the
	// series by their values in that order.
	req := must(r.Counter("http_requests_total", "Requests.", "status", "method"))
	req.With("200", "GET").Add(3)
	req.With("404", "GET").Inc()
	req.With("200", "DELETE").Inc()
	req.With("200", "POST").Add(1234567)
	lat := must(r.Histogram("latency_seconds", "Latency.", []float64{0.1, 1}, "route"))
	lat.With("/b").Observe(0.25)
	lat.With("/a").Observe(0.1)
	lat.With("/a").Observe(2)
	plain := must(r.Histogram("plain_seconds", "No labels.", []float64{1}))
	plain.With() // a series with no observations yet
	must(r.Counter("unused_total", "Never counted.", "x"))
	if err := r.GaugeFunc("goroutines", "Goroutines.", func() float64 { return 7 }); err != nil {
		t.Fatal(err)
	}
	if err := r.CounterFunc("cpu_seconds_total", "CPU.", func() float64 { return 0.5 }); err != nil {
		t.Fatal(err)
	}

	want := `# HELP cpu_seconds_total CPU.
# TYPE cpu_seconds_total counter
cpu_seconds_total 0.5
# HELP goroutines Goroutines.
# TYPE goroutines gauge
goroutines 7
# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{method="DELETE",status="200"} 1
http_requests_total{method="GET",status="200"} 3
http_requests_total{method="GET",status="404"} 1
http_requests_total{method="POST",status="200"} 1.234567e+06
# HELP latency_seconds Latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{route="/a",le="0.1"} 1
latency_seconds_bucket{route="/a",le="1"} 1
latency_seconds_bucket{route="/a",le="+Inf"} 2
latency_seconds_sum{route="/a"} 2.1
latency_seconds_count{route="/a"} 2
latency_seconds_bucket{route="/b",le="0.1"} 0
latency_seconds_bucket{route="/b",le="1"} 1
latency_seconds_bucket{route="/b",le="+Inf"} 1
latency_seconds_sum{route="/b"} 0.25
latency_seconds_count{route="/b"} 1
# HELP plain_seconds No labels.
# TYPE plain_seconds histogram
plain_seconds_bucket{le="1"} 0
plain_seconds_bucket{le="+Inf"} 0
plain_seconds_sum 0
plain_seconds_count 0
`
	if got := text(t, r); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

func TestEscaping(t *testing.T) {
	r := metrics.NewRegistry()
	c := must(r.Counter("escaped_total", `Help with a \ and a "quote",`+"\nover two lines.", "v"))
	c.With(`back\slash "quoted"` + "\nnewline").Inc()
	c.With("bad utf-8 \xff").Inc()
	want := `# HELP escaped_total Help with a \\ and a "quote",\nover two lines.
# TYPE escaped_total counter
escaped_total{v="back\\slash \"quoted\"\nnewline"} 1
escaped_total{v="bad utf-8 ` + "\uFFFD" + `"} 1
`
	if got := text(t, r); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}

func TestValueFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {math.Copysign(0, -1), "0"}, {1, "1"}, {-1, "-1"}, {0.005, "0.005"}, {2.5, "2.5"},
		{1e-7, "1e-07"}, {123456, "123456"}, {1234567, "1.234567e+06"},
		{math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	} {
		r := metrics.NewRegistry()
		if err := r.GaugeFunc("g", "G.", func() float64 { return tc.v }); err != nil {
			t.Fatal(err)
		}
		if got, want := text(t, r), "# HELP g G.\n# TYPE g gauge\ng "+tc.want+"\n"; got != want {
			t.Errorf("%v: got %q, want %q", tc.v, got, want)
		}
	}
}

func TestHistogramBuckets(t *testing.T) {
	for _, tc := range []struct {
		name string
		obs  []float64
		want string // the bucket, sum and count lines
	}{
		{"none", nil, "0 0 0 0 0"},
		{"below the first bound", []float64{0.1}, "1 1 1 0.1 1"},
		{"on a bound, which is inclusive", []float64{0.5, 1}, "1 2 2 1.5 2"},
		{"above the last bound", []float64{3}, "0 0 1 3 1"},
		{"negative", []float64{-2}, "1 1 1 -2 1"},
		{"NaN goes to +Inf only", []float64{math.NaN()}, "0 0 1 NaN 1"},
		{"mixed", []float64{0.25, 0.5, 0.75, 1, 4}, "2 4 5 6.5 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := metrics.NewRegistry()
			h := must(r.Histogram("h", "H.", []float64{0.5, 1})).With()
			for _, v := range tc.obs {
				h.Observe(v)
			}
			var got []string
			for line := range strings.Lines(text(t, r)) {
				if !strings.HasPrefix(line, "#") {
					got = append(got, strings.Fields(line)[1])
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("bucket le=0.5, le=1, le=+Inf, sum, count: %s, want %s", g, tc.want)
			}
		})
	}
}

func TestHistogramTrailingInfBucket(t *testing.T) {
	r := metrics.NewRegistry()
	must(r.Histogram("h", "H.", []float64{1, math.Inf(1)})).With().Observe(2)
	if got := text(t, r); strings.Count(got, `le="+Inf"`) != 1 {
		t.Errorf("want one +Inf bucket:\n%s", got)
	}
}

// TestConcurrentUpdates runs under -race in CI: no update may be lost.
func TestConcurrentUpdates(t *testing.T) {
	r := metrics.NewRegistry()
	c := must(r.Counter("c_total", "C.", "worker"))
	h := must(r.Histogram("h", "H.", []float64{1}, "worker"))
	const goroutines, n = 8, 2000
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range n {
				c.With("all").Inc()
				h.With("all").Observe(0.5)
				if i%2 == 0 {
					c.With(string(rune('a' + g))).Add(2)
				}
			}
			// Scrapes racing with updates must be safe too.
			_ = r.WriteText(new(strings.Builder))
		})
	}
	wg.Wait()
	got := text(t, r)
	for _, want := range []string{
		`c_total{worker="all"} 16000`,
		`c_total{worker="a"} 2000`,
		`c_total{worker="h"} 2000`,
		`h_bucket{worker="all",le="1"} 16000`,
		`h_bucket{worker="all",le="+Inf"} 16000`,
		`h_sum{worker="all"} 8000`,
		`h_count{worker="all"} 16000`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

func TestRegisterErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		register func(r *metrics.Registry) error
		want     error
	}{
		{"empty name", counter("", "a"), metrics.ErrInvalid},
		{"name starts with a digit", counter("1abc"), metrics.ErrInvalid},
		{"dash in name", counter("a-b"), metrics.ErrInvalid},
		{"space in name", counter("a b"), metrics.ErrInvalid},
		{"non-ASCII name", counter("größe"), metrics.ErrInvalid},
		{"colon in label name", counter("a", "b:c"), metrics.ErrInvalid},
		{"reserved label name", counter("a", "__name"), metrics.ErrInvalid},
		{"label starts with a digit", counter("a", "1b"), metrics.ErrInvalid},
		{"empty label name", counter("a", ""), metrics.ErrInvalid},
		{"label given twice", counter("a", "b", "c", "b"), metrics.ErrInvalid},
		{"le on a histogram", histogram("h", []float64{1}, "le"), metrics.ErrInvalid},
		{"no buckets", histogram("h", nil), metrics.ErrInvalid},
		{"only +Inf", histogram("h", []float64{math.Inf(1)}), metrics.ErrInvalid},
		{"unsorted buckets", histogram("h", []float64{1, 0.5}), metrics.ErrInvalid},
		{"equal buckets", histogram("h", []float64{1, 1}), metrics.ErrInvalid},
		{"NaN bucket", histogram("h", []float64{math.NaN()}), metrics.ErrInvalid},
		{"invalid gauge name", func(r *metrics.Registry) error { return r.GaugeFunc("a.b", "", func() float64 { return 0 }) }, metrics.ErrInvalid},
		{"gauge without a function", func(r *metrics.Registry) error { return r.GaugeFunc("g", "", nil) }, metrics.ErrInvalid},
		{"same name twice", func(r *metrics.Registry) error {
			if err := counter("x_total")(r); err != nil {
				return err
			}
			return histogram("x_total", []float64{1})(r)
		}, metrics.ErrDuplicate},
		{"valid names", counter("ns:sub_name_total", "_x", "Y9"), nil},
		{"le on a counter", counter("c", "le"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.register(metrics.NewRegistry())
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func counter(name string, labels ...string) func(*metrics.Registry) error {
	return func(r *metrics.Registry) error {
		_, err := r.Counter(name, "Help.", labels...)
		return err
	}
}

func histogram(name string, buckets []float64, labels ...string) func(*metrics.Registry) error {
	return func(r *metrics.Registry) error {
		_, err := r.Histogram(name, "Help.", buckets, labels...)
		return err
	}
}

func TestWithWrongValueCountPanics(t *testing.T) {
	r := metrics.NewRegistry()
	c := must(r.Counter("c_total", "C.", "a", "b"))
	for _, values := range [][]string{{"x"}, {"x", "y", "z"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("With(%q) did not panic", values)
				}
			}()
			c.With(values...)
		}()
	}
}

// TestLabelValuesDoNotCollide: values are keyed with their lengths, so a
// separator inside a value cannot merge two series.
func TestLabelValuesDoNotCollide(t *testing.T) {
	r := metrics.NewRegistry()
	c := must(r.Counter("c_total", "C.", "a", "b"))
	c.With("x\xff", "y").Inc()
	c.With("x", "\xffy").Inc()
	c.With("", "").Inc()
	if n := strings.Count(text(t, r), "c_total{"); n != 3 {
		t.Errorf("%d series, want 3", n)
	}
}

func BenchmarkCounterWith(b *testing.B) {
	c, err := metrics.NewRegistry().Counter("c_total", "C.", "service", "method", "route", "status")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		c.With("booking", "GET", "/v1/bookings/:id", "200").Inc()
	}
}

func BenchmarkHistogramObserve(b *testing.B) {
	h, err := metrics.NewRegistry().Histogram("h", "H.", []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		"service", "method", "route")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.With("booking", "GET", "/v1/bookings/:id").Observe(0.0042)
		}
	})
}
