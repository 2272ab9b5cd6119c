package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/tourism-go/tourism/bench/internal/load"
	"github.com/tourism-go/tourism/bench/internal/report"
)

// concurrency is the fixed number of load workers of every scenario.
func concurrency() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_CONCURRENCY")); err == nil && v > 0 {
		return v
	}
	return 16
}

// flowConcurrency is the fixed number of workers of the booking flow: a
// flow takes tens of milliseconds, so holding 300/s takes more clients
// than a read does.
func flowConcurrency() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_FLOW_CONCURRENCY")); err == nil && v > 0 {
		return v
	}
	return 64
}

// flowRate is the offered load of the booking flow's constant-rate run:
// the target.
const flowRate = 300

// maxHoldsPerDeparture is the catalog's capacity limit for one departure.
const maxHoldsPerDeparture = 500

func newClient(conc int) *http.Client {
	return &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        conc * 4,
			MaxIdleConnsPerHost: conc * 4,
			IdleConnTimeout:     30 * time.Second,
			DisableCompression:  true,
		},
	}
}

// call sends one request and decodes a JSON answer into out when the
// status is want; any other status is a *load.HTTPError with the problem's
// code.
func call(ctx context.Context, c *http.Client, method, u, token string, body any, want int, step string, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		var p struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(b, &p)
		return &load.HTTPError{Step: step, Status: resp.StatusCode, Code: p.Code}
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s: decode answer: %w", step, err)
		}
	}
	return nil
}

// fixture is what the scenarios read and book.
type fixture struct {
	tourIDs      []string
	destinations []string
	flowDeps     []string
}

type idJSON struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// seed creates tours with a few departures each, over a few destinations,
// and flowDeps departures of the largest capacity for the booking flow.
func seed(ctx context.Context, c *http.Client, catalogURL string, flowDeps int) (*fixture, error) {
	return seedWith(ctx, c, catalogURL, adminToken, flowDeps)
}

func seedWith(ctx context.Context, c *http.Client, catalogURL, adminToken string, flowDeps int) (*fixture, error) {
	f := &fixture{destinations: []string{"Chamonix", "Lisbon", "Reykjavik", "Kyoto", "Cusco", "Zermatt", "Tromso", "Marrakesh"}}
	start := time.Now().AddDate(0, 1, 0)
	for i := range 40 {
		dest := f.destinations[i%len(f.destinations)]
		var t idJSON
		err := call(ctx, c, http.MethodPost, catalogURL+"/v1/tours", adminToken, map[string]any{
			"title":          fmt.Sprintf("%s trek %d %d", dest, i, time.Now().UnixNano()%1e6),
			"summary":        "A week of walking with a guide, nights in mountain huts and small inns.",
			"description":    "Day by day: arrival, acclimatisation walk, three stages on marked trails, a rest day, the summit day and the way back down. Luggage transfer and half board included.",
			"destination":    dest,
			"duration_days":  7,
			"difficulty":     []string{"easy", "moderate", "hard"}[i%3],
			"price":          map[string]any{"amount": 99000 + i*1000, "currency": "EUR"},
			"max_group_size": 12,
		}, http.StatusCreated, "create tour", &t)
		if err != nil {
			return nil, err
		}
		f.tourIDs = append(f.tourIDs, t.ID)
		for d := range 3 {
			err := call(ctx, c, http.MethodPost, catalogURL+"/v1/tours/"+t.ID+"/departures", adminToken, map[string]any{
				"starts_on": start.AddDate(0, 0, 7*d+i%7).Format("2006-01-02"), "capacity": 12,
			}, http.StatusCreated, "create departure", nil)
			if err != nil {
				return nil, err
			}
		}
	}
	// The flow's departures belong to one tour of their own, so that the
	// reads above keep their shape whatever the flow books.
	var t idJSON
	err := call(ctx, c, http.MethodPost, catalogURL+"/v1/tours", adminToken, map[string]any{
		"title": fmt.Sprintf("Benchmark flow tour %d", time.Now().UnixNano()%1e6), "summary": "Departures for the booking flow.", "description": "",
		"destination": "Benchmark", "duration_days": 1, "difficulty": "easy",
		"price": map[string]any{"amount": 12900, "currency": "EUR"}, "max_group_size": 20,
	}, http.StatusCreated, "create flow tour", &t)
	if err != nil {
		return nil, err
	}
	for d := range flowDeps {
		var dep idJSON
		err := call(ctx, c, http.MethodPost, catalogURL+"/v1/tours/"+t.ID+"/departures", adminToken, map[string]any{
			"starts_on": start.AddDate(0, 0, d).Format("2006-01-02"), "capacity": maxHoldsPerDeparture,
		}, http.StatusCreated, "create flow departure", &dep)
		if err != nil {
			return nil, err
		}
		f.flowDeps = append(f.flowDeps, dep.ID)
	}
	return f, nil
}

// counted counts op's calls in n.
func counted(op load.Op, n *atomic.Int64) load.Op {
	return func(ctx context.Context, w int, seq int64) error {
		n.Add(1)
		return op(ctx, w, seq)
	}
}

func getTourOp(c *http.Client, base string, ids []string) load.Op {
	return func(ctx context.Context, _ int, seq int64) error {
		return call(ctx, c, http.MethodGet, base+"/v1/tours/"+ids[seq%int64(len(ids))], "", nil, http.StatusOK, "get tour", nil)
	}
}

func searchOp(c *http.Client, base string, dests []string) load.Op {
	return func(ctx context.Context, _ int, seq int64) error {
		return call(ctx, c, http.MethodGet, base+"/v1/tours?destination="+dests[seq%int64(len(dests))], "", nil, http.StatusOK, "search", nil)
	}
}

// flowOp books one seat of a new booking and pays for it. Bookings are
// spread over the departures in turn; next counts them across runs so that
// no departure is asked for more than its capacity.
func flowOp(c *http.Client, base string, deps []string, next *atomic.Int64) load.Op {
	card := map[string]any{"card": map[string]any{
		"number": "4242424242424242", "exp_month": 12, "exp_year": time.Now().Year() + 3, "cvc": "123"}}
	return func(ctx context.Context, _ int, _ int64) error {
		i := next.Add(1) - 1
		var b idJSON
		err := call(ctx, c, http.MethodPost, base+"/v1/bookings", "", map[string]any{
			"departure_id": deps[i%int64(len(deps))], "seats": 1,
			"customer": map[string]any{"name": "Ada Lovelace", "email": fmt.Sprintf("ada+%d@example.com", i)},
		}, http.StatusCreated, "create booking", &b)
		if err != nil {
			return err
		}
		if b.Status != "awaiting_payment" {
			return &load.HTTPError{Step: "create booking", Status: http.StatusCreated, Code: "status " + b.Status}
		}
		var paid idJSON
		if err := call(ctx, c, http.MethodPost, base+"/v1/bookings/"+b.ID+"/payments", "", card, http.StatusOK, "pay", &paid); err != nil {
			return err
		}
		if paid.Status != "confirmed" {
			return &load.HTTPError{Step: "pay", Status: http.StatusOK, Code: "status " + paid.Status}
		}
		return nil
	}
}

func toScenario(name, where string, res load.Result) report.Scenario {
	mode := "max-rate"
	if res.Rate > 0 {
		mode = "constant-rate"
	}
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	h := res.Latency
	return report.Scenario{
		Name: name, Where: where, Mode: mode, Concurrency: res.Concurrency, OfferedRate: res.Rate,
		DurationS: report.Seconds(res.Elapsed.Seconds()), OK: res.OK, Errors: res.Errors, ErrorKinds: res.ErrorKinds,
		RPS: res.Throughput(), P50: msOf(h.Percentile(50)), P90: msOf(h.Percentile(90)), P99: msOf(h.Percentile(99)),
		Max: msOf(h.Max()), Mean: msOf(h.Mean()), Truncated: res.Truncated,
	}
}

func logScenario(s report.Scenario) {
	rate := "max-rate"
	if s.OfferedRate > 0 {
		rate = fmt.Sprintf("%.0f/s offered", s.OfferedRate)
	}
	logf("  %-22s %-7s %-16s c=%d: %7.0f ok/s  p50 %6.2f  p90 %6.2f  p99 %7.2f  max %7.1f ms  errors %d %v",
		s.Name, s.Where, rate, s.Concurrency, s.RPS, s.P50, s.P90, s.P99, s.Max, s.Errors, s.ErrorKinds)
	if len(s.CPUMsPerOp) > 0 {
		logf("    CPU ms per operation: %v", s.CPUMsPerOp)
	}
}

// ceilings measures the gin handler and pgbench, before the services run,
// so that nothing else competes for the cores.
func (n *native) ceilings(ctx context.Context, r *report.Report) error {
	conc := concurrency()
	ports, err := freePorts("ginceiling")
	if err != nil {
		return err
	}
	p, err := n.start("ginceiling", []string{"PORT=" + strconv.Itoa(ports["ginceiling"])}, ports["ginceiling"])
	if err != nil {
		return err
	}
	defer func() { p.stop(); n.forget(p) }()
	if _, err := p.waitReady(ctx, 10*time.Second); err != nil {
		return err
	}
	c := newClient(conc)
	res := load.Run(ctx, load.Config{Concurrency: conc, Warmup: n.s.warmup, Duration: n.s.loadDur},
		getTourOp(c, hostURL(p.port), []string{"0190f3a0-0000-7000-8000-000000000001"}))
	sc := toScenario("gin ceiling", "native", res)
	logScenario(sc)
	if res.OK == 0 {
		return fmt.Errorf("gin ceiling: no successful request: %v", res.ErrorKinds)
	}
	r.Ceilings.GinRPS, r.Ceilings.GinP50, r.Ceilings.GinP99 = sc.RPS, sc.P50, sc.P99
	p.stop()
	// A part of its own: without pgbench the gin ceiling still stands, and
	// the report says why the other is missing.
	if err := n.pgbenchSelect(ctx, conc, r); err != nil {
		logf("pgbench ceiling: not measured: %v", err)
		r.Fail("pgbench ceiling", err)
	}
	return nil
}

func (n *native) loadScenarios(ctx context.Context, r *report.Report) error {
	conc := concurrency()
	procs, ports, err := n.startStack(ctx)
	if err != nil {
		return err
	}
	stopAll := func() {
		for _, svc := range services {
			if _, m, err := procs[svc].memory(); err == nil {
				f := r.FootprintOf(svc)
				f.NativeRSSAfterLoadKiB = max(f.NativeRSSAfterLoadKiB, m)
			}
		}
		for _, p := range procs {
			p.stop()
			n.forget(p)
		}
		procs = nil
	}
	defer func() {
		if procs != nil {
			stopAll()
		}
	}()
	c := newClient(conc)
	runFor := n.s.warmup + n.s.loadDur
	// Bookings the flow may make in all: a bound on the run, and what the
	// departures' capacity must cover.
	maxFlowMax := int64(3000 * runFor.Seconds())
	maxFlowConst := int64(flowRate*runFor.Seconds()) + 1
	// Half the max rate, for the third flow run, is bounded by half of it.
	nDeps := int((maxFlowMax + maxFlowMax/2 + maxFlowConst + maxHoldsPerDeparture - 1) / maxHoldsPerDeparture)
	fx, err := seed(ctx, c, hostURL(ports["tour-catalog"]), nDeps)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	logf("seeded %d tours over %d destinations and %d flow departures of %d seats",
		len(fx.tourIDs), len(fx.destinations), len(fx.flowDeps), maxHoldsPerDeparture)

	half := func(m float64) float64 { return float64(int(m / 2)) }
	catalog := hostURL(ports["tour-catalog"])
	reads := []struct {
		name string
		op   load.Op
	}{
		{"GET /v1/tours/{id}", getTourOp(c, catalog, fx.tourIDs)},
		{"GET /v1/tours?destination", searchOp(c, catalog, fx.destinations)},
	}
	for _, sc := range reads {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		stopProf := n.profile(ctx, sc.name, []string{"tour-catalog"}, ports)
		var ops atomic.Int64
		cpu := startCPU(map[string]*proc{"tour-catalog": procs["tour-catalog"]})
		res := load.Run(ctx, load.Config{Concurrency: conc, Warmup: n.s.warmup, Duration: n.s.loadDur}, counted(sc.op, &ops))
		stopProf()
		maxRun := n.addScenario(r, sc.name, res, cpu.perOp(ops.Load()))
		if ctx.Err() != nil {
			return ctx.Err()
		}
		res = load.Run(ctx, load.Config{Concurrency: conc, Rate: half(maxRun.RPS), Warmup: n.s.warmup, Duration: n.s.loadDur}, sc.op)
		n.addScenario(r, sc.name, res, nil)
	}

	// The flow runs on a fresh start of the three services, between two
	// readings of each database's committed transactions: a process that
	// exits flushes its backends' statistics, so the count is exact.
	stopAll()
	before, err := n.pg.xactCommits(ctx, n.dbs)
	if err != nil {
		return err
	}
	procs, ports, err = n.startStack(ctx)
	if err != nil {
		return err
	}
	fc := flowConcurrency()
	var flowNext atomic.Int64
	flow := flowOp(newClient(fc), hostURL(ports["booking"]), fx.flowDeps, &flowNext)
	stopProf := n.profile(ctx, "booking flow", services, ports)
	var ops atomic.Int64
	cpu := startCPU(procs)
	res := load.Run(ctx, load.Config{Concurrency: fc, Warmup: n.s.warmup, Duration: n.s.loadDur, MaxOps: maxFlowMax}, counted(flow, &ops))
	stopProf()
	maxRun := n.addScenario(r, "booking flow", res, cpu.perOp(ops.Load()))
	if ctx.Err() == nil {
		res = load.Run(ctx, load.Config{Concurrency: fc, Rate: flowRate, Warmup: n.s.warmup, Duration: n.s.loadDur, MaxOps: maxFlowConst}, flow)
		n.addScenario(r, "booking flow", res, nil)
	}
	// And at half the rate it reached, when that is below the target's:
	// the latency at a load this machine sustains.
	if half := float64(int(maxRun.RPS / 2)); ctx.Err() == nil && half >= 1 && half < flowRate {
		res = load.Run(ctx, load.Config{Concurrency: fc, Rate: half, Warmup: n.s.warmup, Duration: n.s.loadDur, MaxOps: maxFlowMax / 2}, flow)
		n.addScenario(r, "booking flow", res, nil)
	}
	limit := 15 * time.Second
	if n.s.quick {
		limit = 5 * time.Second
	}
	if pending, err := n.pg.waitWebhooksDelivered(ctx, n.dbs["payment-gateway"], limit); err != nil {
		return err
	} else if pending > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d webhook events were still undelivered %s after the flow runs; their deliveries are not in the transaction counts.", pending, limit))
	}
	stopAll()
	after, err := n.pg.xactCommits(ctx, n.dbs)
	if err != nil {
		return err
	}
	confirmed, err := n.pg.countConfirmed(ctx, n.dbs["booking"])
	if err != nil {
		return err
	}
	if confirmed > 0 {
		per := map[string]float64{}
		for _, svc := range services {
			per[svc] = float64(after[n.dbs[svc]]-before[n.dbs[svc]]) / float64(confirmed)
		}
		r.Ceilings.FlowTxPerBooking = per
		r.Ceilings.FlowConfirmed = confirmed
		logf("  database transactions per confirmed booking (%d confirmed): catalog %.1f, booking %.1f, payment %.1f",
			confirmed, per["tour-catalog"], per["booking"], per["payment-gateway"])
	}
	return nil
}

// cpuMeter measures the CPU time the services and the load generator use
// during a run: a cost per operation that other work on the machine skews
// far less than throughput.
type cpuMeter struct {
	procs map[string]*proc
	start map[string]time.Duration
}

func startCPU(procs map[string]*proc) *cpuMeter {
	m := &cpuMeter{procs: procs, start: map[string]time.Duration{"load generator": pidCPUTime(os.Getpid())}}
	for name, p := range procs {
		m.start[name] = p.cpuTime()
	}
	return m
}

// perOp returns CPU milliseconds per operation started in the run, by
// process. The warmup is included in the time and in the count.
func (m *cpuMeter) perOp(ops int64) map[string]float64 {
	if ops <= 0 {
		return nil
	}
	out := map[string]float64{}
	for name, p := range m.procs {
		out[name] = float64((p.cpuTime() - m.start[name]).Microseconds()) / 1000 / float64(ops)
	}
	out["load generator"] = float64((pidCPUTime(os.Getpid()) - m.start["load generator"]).Microseconds()) / 1000 / float64(ops)
	return out
}

func (n *native) addScenario(r *report.Report, name string, res load.Result, cpu map[string]float64) report.Scenario {
	sc := toScenario(name, "native", res)
	sc.CPUMsPerOp = cpu
	sc.OfGin, sc.OfPgbench = r.Ceilings.Shares(sc.RPS)
	r.Scenarios = append(r.Scenarios, sc)
	logScenario(sc)
	return sc
}

// profile fetches CPU profiles of services during a max-rate run when
// BENCH_PROFILE=1, into BENCH_PROFILE_DIR; the returned func waits for them.
func (n *native) profile(ctx context.Context, scenario string, svcs []string, ports map[string]int) func() {
	if !n.s.profile {
		return func() {}
	}
	dir := envOr("BENCH_PROFILE_DIR", filepath.Join(os.TempDir(), "tourism-bench-profiles"))
	_ = os.MkdirAll(dir, 0o755)
	secs := max(int((n.s.loadDur - time.Second).Seconds()), 1)
	done := make(chan struct{}, len(svcs))
	for _, svc := range svcs {
		go func() {
			defer func() { done <- struct{}{} }()
			select {
			case <-time.After(n.s.warmup):
			case <-ctx.Done():
				return
			}
			u := fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", hostURL(ports[svc]), secs)
			resp, err := http.Get(u)
			if err != nil {
				logf("profile %s: %v", svc, err)
				return
			}
			defer resp.Body.Close()
			name := fmt.Sprintf("%s-%s.pprof", slug(scenario), svc)
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				return
			}
			_, _ = io.Copy(f, resp.Body)
			f.Close()
		}()
	}
	return func() {
		for range svcs {
			<-done
		}
		logf("  profiles in %s", dir)
	}
}

func slug(s string) string {
	var b []byte
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		default:
			if len(b) > 0 && b[len(b)-1] != '-' {
				b = append(b, '-')
			}
		}
	}
	return string(bytes.Trim(b, "-"))
}
