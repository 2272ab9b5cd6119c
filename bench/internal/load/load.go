// Package load is the benchmark's load generator: a fixed number of workers
// call one operation either as fast as they can (max-rate: the throughput a
// closed system of that many clients gets) or on a fixed schedule
// (constant-rate: the latency at a given offered load). Every run is bounded
// by a duration and an iteration count, and records latencies in an
// HDR-style histogram and errors by kind.
//
// In constant-rate mode an operation's latency is measured from the moment
// it was scheduled, not from when a worker got to it, so a server that
// falls behind shows its queueing in the percentiles instead of hiding it
// (coordinated omission).
package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Op is one iteration: it gets the worker's number and the iteration's
// sequence number (0, 1, ...; unique across workers) and returns nil on
// success.
type Op func(ctx context.Context, worker int, seq int64) error

// Config bounds and shapes one run.
type Config struct {
	// Concurrency is the number of workers (at least 1).
	Concurrency int
	// Rate is the offered load in operations per second; 0 runs at the
	// maximum rate the workers reach.
	Rate float64
	// Warmup runs before the measured Duration; its results are dropped.
	Warmup   time.Duration
	Duration time.Duration
	// MaxOps bounds the operations started, warmup included (0: no bound
	// beyond time). A run that reaches it ends early, and says so.
	MaxOps int64
	// Timeout bounds one operation (default 10s).
	Timeout time.Duration
}

// Result is what one run measured.
type Result struct {
	Concurrency int           `json:"concurrency"`
	Rate        float64       `json:"offered_rate"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	OK          int64         `json:"ok"`
	Errors      int64         `json:"errors"`
	// ErrorKinds counts errors by Kind.
	ErrorKinds map[string]int64 `json:"error_kinds"`
	// Truncated is set when MaxOps ended the run before Duration.
	Truncated bool `json:"truncated,omitempty"`
	// Latency covers successful operations only.
	Latency *Histogram `json:"-"`
}

// Throughput is successful operations per second.
func (r Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Run runs op under cfg and returns what the measured part saw. ctx ends
// the run early.
func Run(ctx context.Context, cfg Config, op Op) Result {
	if cfg.Concurrency < 1 {
		cfg.Concurrency = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	var (
		seq atomic.Int64
		wg  sync.WaitGroup
	)
	type workerResult struct {
		hist    Histogram
		ok      int64
		started int64
		errs    map[string]int64
		capped  bool
	}
	results := make([]workerResult, cfg.Concurrency)
	start := time.Now()
	measureFrom := start.Add(cfg.Warmup)
	end := measureFrom.Add(cfg.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	for w := range cfg.Concurrency {
		wg.Go(func() {
			res := &results[w]
			res.errs = map[string]int64{}
			// No new operation starts after the end; one in flight
			// finishes (within Timeout) and counts if it started in the
			// measured window.
			for runCtx.Err() == nil {
				i := seq.Add(1) - 1
				if cfg.MaxOps > 0 && i >= cfg.MaxOps {
					res.capped = true
					return
				}
				began := time.Now()
				if cfg.Rate > 0 {
					// Operation i is due at start + i/rate.
					due := start.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
					if !due.Before(end) {
						return
					}
					if wait := time.Until(due); wait > 0 {
						t := time.NewTimer(wait)
						select {
						case <-runCtx.Done():
							t.Stop()
							return
						case <-t.C:
						}
					}
					began = due
				}
				opCtx, opCancel := context.WithTimeout(ctx, cfg.Timeout)
				err := op(opCtx, w, i)
				opCancel()
				done := time.Now()
				if began.Before(measureFrom) || !began.Before(end) {
					continue // warmup
				}
				res.started++
				if err != nil {
					res.errs[Kind(err)]++
					continue
				}
				res.ok++
				res.hist.Record(done.Sub(began))
			}
		})
	}
	wg.Wait()

	out := Result{Concurrency: cfg.Concurrency, Rate: cfg.Rate, ErrorKinds: map[string]int64{}, Latency: &Histogram{}}
	var started int64
	for i := range results {
		r := &results[i]
		out.Latency.Merge(&r.hist)
		out.OK += r.ok
		started += r.started
		for k, n := range r.errs {
			out.ErrorKinds[k] += n
			out.Errors += n
		}
		out.Truncated = out.Truncated || r.capped
	}
	out.Elapsed = cfg.Duration
	if now := time.Now(); now.Before(end) {
		// Ended early (MaxOps, or ctx).
		out.Elapsed = max(now.Sub(measureFrom), 0)
	}
	if cfg.Rate > 0 && !out.Truncated && ctx.Err() == nil {
		// Operations due in the window that no worker was free to start:
		// the offered load was not delivered, and that is an error too.
		due := int64(math.Ceil(cfg.Rate*end.Sub(start).Seconds())) - int64(math.Ceil(cfg.Rate*cfg.Warmup.Seconds()))
		if missed := due - started; missed > 0 {
			out.ErrorKinds[NotStarted] += missed
			out.Errors += missed
		}
	}
	return out
}

// NotStarted counts operations of a constant-rate run that were due in the
// measured window but found every worker busy until the window ended.
const NotStarted = "not started: all workers busy"

// HTTPError is an answer with an unexpected status; Code is the problem
// details' code, when the body had one.
type HTTPError struct {
	Step   string
	Status int
	Code   string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d", e.Step, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	return s
}

// Kind names err's kind for the error table: the step and status of an
// unexpected answer, or the transport failure (timeout, refused, reset).
func Kind(err error) string {
	var he *HTTPError
	switch {
	case errors.As(err, &he):
		return he.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "out of local ports"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		msg = msg[i+2:]
	}
	if len(msg) > 60 {
		msg = msg[:60]
	}
	return "other: " + msg
}

// SortedKinds lists error kinds, most frequent first.
func SortedKinds(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
