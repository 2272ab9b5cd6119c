// Package report holds what one benchmark run measured and writes it as
// JSON (for tools and later comparison), Markdown (for people) and an SVG
// chart of latency percentiles per scenario, drawn here without a plotting
// library.
package report

import (
	"encoding/json"
	"math"
	"os"
	"time"
)

// Report is one run.
type Report struct {
	Date     time.Time `json:"date"`
	Quick    bool      `json:"quick"`
	Commit   string    `json:"commit"`
	Machine  Machine   `json:"machine"`
	Duration Seconds   `json:"duration_s"`

	Micro     []Micro     `json:"micro"`
	Footprint []Footprint `json:"footprint"`
	// NodeBaseline is the course's cited figure, not measured here.
	NodeBaseline Baseline   `json:"node_baseline"`
	Build        Build      `json:"build"`
	Ceilings     Ceilings   `json:"ceilings"`
	Scenarios    []Scenario `json:"scenarios"`
	Targets      []Target   `json:"targets"`
	// Failures lists every part that could not be measured, and why;
	// their numbers are absent, never estimated.
	Failures []Failure `json:"failures"`
	Notes    []string  `json:"notes"`
}

// Seconds is a duration written as seconds.
type Seconds float64

// Machine describes where the run happened.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	MemoryGiB int    `json:"memory_gib"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Postgres  string `json:"postgres"`
	// PostgresSource says which server that was: named by the
	// environment, the dev cluster, or a container the run started.
	PostgresSource string `json:"postgres_source,omitempty"`
	Docker         string `json:"docker"`
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute load at the start
	// and the end of the run: other work on the machine skews every number.
	LoadStart float64 `json:"load_start"`
	LoadEnd   float64 `json:"load_end"`
}

// Micro is one `go test -bench` result (the median of its -count runs).
type Micro struct {
	Package  string  `json:"package"`
	Name     string  `json:"name"`
	NsPerOp  float64 `json:"ns_per_op"`
	BPerOp   float64 `json:"bytes_per_op"`
	AllocsOp float64 `json:"allocs_per_op"`
	Runs     int     `json:"runs"`
}

// Footprint is one service's size, memory and start-up time. Zero means
// not measured (see Failures).
type Footprint struct {
	Service string `json:"service"`
	Image   string `json:"image,omitempty"`
	// ImageBytes is the image's size on disk (docker image inspect .Size).
	ImageBytes int64 `json:"image_bytes,omitempty"`
	// ImageGzipBytes is `docker save | gzip -c | wc -c`.
	ImageGzipBytes int64 `json:"image_gzip_bytes,omitempty"`
	BinaryBytes    int64 `json:"binary_bytes,omitempty"`
	// NativeRSSKiB is VmRSS of the native process after start, idle.
	NativeRSSKiB int64 `json:"native_rss_kib,omitempty"`
	// Of which anonymous memory (heap, stacks) and file-backed pages (the
	// binary's text and data that were touched).
	NativeRSSAnonKiB int64 `json:"native_rss_anon_kib,omitempty"`
	NativeRSSFileKiB int64 `json:"native_rss_file_kib,omitempty"`
	// NativeRSSAfterLoadKiB is VmHWM (the peak) after the load scenarios.
	NativeRSSAfterLoadKiB int64 `json:"native_rss_peak_after_load_kib,omitempty"`
	ContainerRSSKiB       int64 `json:"container_rss_kib,omitempty"`
	// NativeReadyMs: process start to the first /readyz 200, on a migrated
	// database, median of NativeReadyRuns runs; NativeFirstReadyMs is the
	// first start, which also creates the schema.
	NativeReadyMs      float64 `json:"native_ready_ms,omitempty"`
	NativeFirstReadyMs float64 `json:"native_first_ready_ms,omitempty"`
	NativeReadyRuns    int     `json:"native_ready_runs,omitempty"`
	// ContainerReadyMs: `docker start` to the first /readyz 200 through
	// the published port; ContainerHealthyMs: to docker's "healthy".
	// Medians of ContainerRuns runs.
	ContainerReadyMs   float64 `json:"container_ready_ms,omitempty"`
	ContainerHealthyMs float64 `json:"container_healthy_ms,omitempty"`
	ContainerRuns      int     `json:"container_runs,omitempty"`
}

// Baseline is a cited, not measured, comparison figure.
type Baseline struct {
	Image      string `json:"image"`
	ImageBytes int64  `json:"image_bytes"`
	Source     string `json:"source"`
}

// Build is the build cache experiment on one service's image.
type Build struct {
	Service string `json:"service"`
	GoImage string `json:"go_image"`
	// Seconds of `docker build`: with --no-cache; after a one-line edit of
	// a source file; after a change to go.mod.
	ColdS   Seconds `json:"cold_s,omitempty"`
	EditS   Seconds `json:"edit_s,omitempty"`
	GoModS  Seconds `json:"go_mod_s,omitempty"`
	CachedS Seconds `json:"cached_s,omitempty"`
}

// Ceilings are the same-run references the services are compared with.
type Ceilings struct {
	// GinRPS is the minimal gin JSON handler at the scenarios' concurrency.
	GinRPS float64 `json:"gin_rps,omitempty"`
	GinP50 float64 `json:"gin_p50_ms,omitempty"`
	GinP99 float64 `json:"gin_p99_ms,omitempty"`
	// PgbenchTPS is `pgbench -S` (select-only, prepared) on the same server.
	PgbenchTPS     float64 `json:"pgbench_select_tps,omitempty"`
	PgbenchClients int     `json:"pgbench_clients,omitempty"`
	// FlowTxPerBooking is each service database's committed transactions
	// per confirmed booking over the flow runs (every autocommit statement
	// is one): with a commit costing an fsync, the flow's bill.
	FlowTxPerBooking map[string]float64 `json:"flow_tx_per_booking,omitempty"`
	FlowConfirmed    int64              `json:"flow_confirmed,omitempty"`
}

// Shares returns rps as shares of the gin and the pgbench ceilings. A
// ceiling that was not measured gives 0, which the report leaves empty,
// rather than a division by zero.
func (c Ceilings) Shares(rps float64) (ofGin, ofPgbench float64) {
	return share(rps, c.GinRPS), share(rps, c.PgbenchTPS)
}

func share(v, ceiling float64) float64 {
	if !(ceiling > 0) || math.IsInf(ceiling, 0) || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v / ceiling
}

// Scenario is one load run.
type Scenario struct {
	Name        string           `json:"name"`
	Where       string           `json:"where"` // native or compose
	Mode        string           `json:"mode"`  // max-rate or constant-rate
	Concurrency int              `json:"concurrency"`
	OfferedRate float64          `json:"offered_rate,omitempty"`
	DurationS   Seconds          `json:"duration_s"`
	OK          int64            `json:"ok"`
	Errors      int64            `json:"errors"`
	ErrorKinds  map[string]int64 `json:"error_kinds,omitempty"`
	RPS         float64          `json:"rps"`
	P50         float64          `json:"p50_ms"`
	P90         float64          `json:"p90_ms"`
	P99         float64          `json:"p99_ms"`
	Max         float64          `json:"max_ms"`
	Mean        float64          `json:"mean_ms"`
	// Ratios to the ceilings of the same run (0: ceiling missing).
	OfGin     float64 `json:"of_gin_ceiling,omitempty"`
	OfPgbench float64 `json:"of_pgbench_ceiling,omitempty"`
	Truncated bool    `json:"truncated,omitempty"`
	// CPUMsPerOp is the CPU time each process used per operation during a
	// max-rate run (warmup included): what an operation costs, which other
	// work on the machine skews far less than throughput.
	CPUMsPerOp map[string]float64 `json:"cpu_ms_per_op,omitempty"`
}

// Target is one goal of the issue and how the run did.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Status is met, missed or not measured.
	Status string `json:"status"`
	Note   string `json:"note,omitempty"`
}

// Failure is a part that did not produce numbers.
type Failure struct {
	Part  string `json:"part"`
	Error string `json:"error"`
}

// Fail records a part that failed.
func (r *Report) Fail(part string, err error) {
	r.Failures = append(r.Failures, Failure{Part: part, Error: err.Error()})
}

// Footprint returns the footprint entry of service, adding it if needed.
func (r *Report) FootprintOf(service string) *Footprint {
	for i := range r.Footprint {
		if r.Footprint[i].Service == service {
			return &r.Footprint[i]
		}
	}
	r.Footprint = append(r.Footprint, Footprint{Service: service})
	return &r.Footprint[len(r.Footprint)-1]
}

// WriteJSON writes r to path.
func (r *Report) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
