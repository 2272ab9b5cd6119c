package metrics

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
)

// userHZ is the unit of the times in /proc/<pid>/stat. The kernel fixes it
// at 100 for user space on every architecture we run on; the Prometheus
// client assumes the same.
const userHZ = 100

// addRuntime registers the few Go and process metrics our dashboards use,
// under the names the Prometheus client gives them. The process metrics
// come from /proc and are left out where it cannot be read (not Linux).
func addRuntime(r *Registry) error {
	errs := []error{
		r.GaugeFunc("go_goroutines", "Number of goroutines that currently exist.",
			func() float64 { return float64(runtime.NumGoroutine()) }),
		// runtime/metrics reads without stopping the world, which
		// runtime.ReadMemStats would do at every scrape.
		r.GaugeFunc("go_memstats_heap_alloc_bytes",
			"Number of heap bytes allocated and currently in use. Equals to /memory/classes/heap/objects:bytes.",
			heapObjectBytes),
	}
	if _, err := readProcStat(); err == nil {
		errs = append(errs,
			r.CounterFunc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
				procValue(func(s procStat) float64 { return s.cpuSeconds })),
			r.GaugeFunc("process_resident_memory_bytes", "Resident memory size in bytes.",
				procValue(func(s procStat) float64 { return s.residentBytes })))
	}
	if start, err := processStart(); err == nil {
		errs = append(errs, r.GaugeFunc("process_start_time_seconds",
			"Start time of the process since unix epoch in seconds.", func() float64 { return start }))
	}
	return errors.Join(errs...)
}

func heapObjectBytes() float64 {
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 {
		return math.NaN()
	}
	return float64(s[0].Value.Uint64())
}

// procStat is what we use of /proc/self/stat.
type procStat struct {
	cpuSeconds    float64
	residentBytes float64
	// startTicks is the start time in userHZ ticks since boot.
	startTicks uint64
}

func readProcStat() (procStat, error) {
	data, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseProcStat(string(data), os.Getpagesize())
}

// procValue returns a function reading one value of /proc/self/stat at
// each scrape; NaN says it could not (it could at registration).
func procValue(pick func(procStat) float64) func() float64 {
	return func() float64 {
		s, err := readProcStat()
		if err != nil {
			return math.NaN()
		}
		return pick(s)
	}
}

// parseProcStat parses a proc(5) stat line.
func parseProcStat(line string, pageSize int) (procStat, error) {
	// Field 2, the command name in parentheses, may itself hold spaces
	// and parentheses; the fields after its last ")" are fixed, starting
	// with field 3.
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return procStat{}, errors.New("proc stat: no command name")
	}
	f := strings.Fields(line[i+1:])
	field := func(n int) (uint64, error) { // n counts from 1, as in proc(5)
		if n-3 >= len(f) {
			return 0, fmt.Errorf("proc stat: no field %d", n)
		}
		return strconv.ParseUint(f[n-3], 10, 64)
	}
	utime, err1 := field(14)
	stime, err2 := field(15)
	start, err3 := field(22)
	rss, err4 := field(24)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return procStat{}, err
	}
	return procStat{
		cpuSeconds:    float64(utime+stime) / userHZ,
		residentBytes: float64(rss) * float64(pageSize),
		startTicks:    start,
	}, nil
}

// processStart returns when the process started, in seconds since the
// epoch: boot time plus the start time since boot. Not the time New ran,
// which comes after waiting for the database.
func processStart() (float64, error) {
	s, err := readProcStat()
	if err != nil {
		return 0, err
	}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	boot, err := parseBootTime(string(data))
	if err != nil {
		return 0, err
	}
	return float64(boot) + float64(s.startTicks)/userHZ, nil
}

// parseBootTime returns the btime line of /proc/stat.
func parseBootTime(stat string) (uint64, error) {
	for line := range strings.Lines(stat) {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errors.New("proc stat: no btime")
}
