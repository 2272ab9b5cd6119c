package load

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestHistogramBucketsAreContiguous(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<22; us += 1 + us/1000 {
		b := bucketOf(us)
		if b < prev {
			t.Fatalf("bucket of %d is %d, before %d", us, b, prev)
		}
		if v := valueOf(b); v < us || float64(v-us) > float64(us)/subBuckets+1 {
			t.Fatalf("value %d in bucket %d reported as %d", us, b, v)
		}
		prev = b
	}
}

func TestHistogramPercentilesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var exact []int64
	for range 100000 {
		us := int64(r.ExpFloat64() * 2000)
		h.Record(time.Duration(us) * time.Microsecond)
		exact = append(exact, us)
	}
	slices.Sort(exact)
	for _, p := range []float64{50, 90, 99, 99.9, 100} {
		idx := int(p/100*float64(len(exact))+0.999999) - 1
		want := exact[max(idx, 0)]
		got := h.Percentile(p).Microseconds()
		if got < want || float64(got-want) > float64(want)/subBuckets+1 {
			t.Errorf("p%v = %d us, exact %d us", p, got, want)
		}
	}
	if h.Max().Microseconds() != exact[len(exact)-1] {
		t.Errorf("max = %v, want %d us", h.Max(), exact[len(exact)-1])
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i) * time.Millisecond
		all.Record(d)
		if i%2 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if a.Count() != all.Count() || a.Percentile(99) != all.Percentile(99) || a.Max() != all.Max() || a.Mean() != all.Mean() {
		t.Fatalf("merged %d/%v/%v, want %d/%v/%v", a.Count(), a.Percentile(99), a.Max(), all.Count(), all.Percentile(99), all.Max())
	}
}

func TestRunStopsAtMaxOpsAndCountsErrorKinds(t *testing.T) {
	var calls atomic.Int64
	res := Run(t.Context(), Config{Concurrency: 4, Duration: 5 * time.Second, MaxOps: 100}, func(ctx context.Context, _ int, seq int64) error {
		calls.Add(1)
		if seq%10 == 0 {
			return &HTTPError{Step: "get", Status: 503, Code: "upstream_unavailable"}
		}
		if seq%10 == 1 {
			return context.DeadlineExceeded
		}
		return nil
	})
	if calls.Load() != 100 || !res.Truncated {
		t.Fatalf("%d calls, truncated=%v; want 100 and true", calls.Load(), res.Truncated)
	}
	if res.OK != 80 || res.ErrorKinds["get: HTTP 503 upstream_unavailable"] != 10 || res.ErrorKinds["timeout"] != 10 {
		t.Fatalf("ok=%d kinds=%v", res.OK, res.ErrorKinds)
	}
}

func TestConstantRateKeepsTheSchedule(t *testing.T) {
	var calls atomic.Int64
	res := Run(t.Context(), Config{Concurrency: 2, Rate: 200, Duration: 300 * time.Millisecond}, func(context.Context, int, int64) error {
		calls.Add(1)
		return nil
	})
	// 200/s for 0.3 s is 60 operations; the schedule, not the speed of
	// the operation, sets the count.
	if n := calls.Load(); n < 50 || n > 61 {
		t.Fatalf("%d operations at 200/s in 300ms", n)
	}
	if res.Errors != 0 {
		t.Fatal(res.ErrorKinds)
	}
}

func TestKind(t *testing.T) {
	if k := Kind(errors.New("dial tcp: lookup: something odd")); k != "other: something odd" {
		t.Fatal(k)
	}
}
