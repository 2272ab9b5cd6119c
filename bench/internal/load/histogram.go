package load

import (
	"math"
	"math/bits"
	"time"
)

// subBuckets is the number of linear buckets in each power of two: values
// are kept to within 1/128 (under 0.8%) of what was recorded, the
// precision of an HDR histogram with two significant digits, in a fixed
// 8 KiB per histogram whatever the range.
const (
	subBucketBits = 7
	subBuckets    = 1 << subBucketBits
	// Microseconds up to 2^(subBucketBits+maxExp) ~ 2^40 us: 12 days.
	maxExp     = 33
	numBuckets = (maxExp + 1) * subBuckets
)

// Histogram records latencies in microseconds with bounded relative error,
// like HdrHistogram: log-spaced powers of two, each split linearly. The
// minimum, maximum and mean are exact. Not safe for concurrent use: each
// worker keeps its own and Merge adds them up.
type Histogram struct {
	counts [numBuckets]uint32
	n      int64
	sum    float64
	min    int64
	max    int64
}

func bucketOf(us int64) int {
	if us < subBuckets {
		return int(us)
	}
	// The power of two above the linear range, then the top
	// subBucketBits bits below the leading one.
	exp := bits.Len64(uint64(us)) - subBucketBits
	idx := exp*subBuckets + int(us>>uint(exp-1)) - subBuckets
	if idx >= numBuckets {
		return numBuckets - 1
	}
	return idx
}

// valueOf is the highest value bucket idx holds, so that a percentile is
// never reported lower than what was measured.
func valueOf(idx int) int64 {
	if idx < subBuckets {
		return int64(idx)
	}
	exp := idx / subBuckets
	sub := idx%subBuckets + subBuckets
	return int64(sub+1)<<uint(exp-1) - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(us)]++
	if h.n == 0 || us < h.min {
		h.min = us
	}
	if us > h.max {
		h.max = us
	}
	h.n++
	h.sum += float64(us)
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count is how many latencies were recorded.
func (h *Histogram) Count() int64 { return h.n }

// Max is the largest latency recorded, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) * time.Microsecond }

// Mean is the average latency.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum/float64(h.n)) * time.Microsecond
}

// Percentile returns the latency below or at which p percent (0..100) of
// the records fall, within the histogram's precision, capped at the exact
// maximum.
func (h *Histogram) Percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(p / 100 * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			return time.Duration(min(max(valueOf(i), h.min), h.max)) * time.Microsecond
		}
	}
	return h.Max()
}
