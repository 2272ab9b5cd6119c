package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/tourism-go/tourism/bench/internal/report"
)

// The services of the repository, in the order they are started.
var services = []string{"tour-catalog", "payment-gateway", "booking"}

// Secrets of the run's own services; nothing outside this run sees them.
const (
	adminToken   = "bench-admin-token-0123456789"
	serviceToken = "bench-service-token-0123456789"
	apiKey       = "sk_test_bench0123456789"
	hookSecret   = "whsec_bench_0123456789abcdef"
	bookingAdmin = "bench-booking-admin-0123456789"
)

// native is the native part: binaries built as the images build them
// (static, trimmed, stripped), run as processes on loopback against
// databases this run creates and drops.
type native struct {
	s       settings
	work    string
	bins    map[string]string
	dbs     map[string]string // service (and "pgbench") -> database name
	db      *database         // the server
	pg      *pgAdmin
	dbReady bool
	running []*proc
}

func buildNative(ctx context.Context, s settings, work string, db *database, r *report.Report) (*native, error) {
	n := &native{s: s, work: work, db: db, bins: map[string]string{}, dbs: map[string]string{}}
	targets := map[string]string{"ginceiling": "./bench/cmd/ginceiling"}
	for _, svc := range services {
		targets[svc] = "./services/" + svc + "/cmd/" + svc
	}
	// One go build for all: the packages compile in parallel.
	binDir := filepath.Join(work, "bin")
	// The flags of the Dockerfiles' build, so that native and container
	// numbers are of the same binary.
	args := []string{"build", "-trimpath", "-tags", "nomsgpack", "-ldflags=-s -w", "-o", binDir + string(filepath.Separator)}
	for _, name := range slices.Sorted(maps.Keys(targets)) {
		args = append(args, targets[name])
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %w: %s", err, lastLines(string(b), 5))
	}
	for name := range targets {
		out := filepath.Join(binDir, name)
		// BENCH_BIN_TOUR_CATALOG=... runs another build of a service, to
		// compare two versions on the same machine in the same minute.
		if alt := os.Getenv("BENCH_BIN_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); alt != "" {
			logf("%s: using %s (BENCH_BIN_...)", name, alt)
			out = alt
		}
		n.bins[name] = out
		if fi, err := os.Stat(out); err == nil && name != "ginceiling" {
			r.FootprintOf(name).BinaryBytes = fi.Size()
		}
	}
	logf("built %d binaries (CGO_ENABLED=0 -trimpath -tags nomsgpack -ldflags=-s -w)", len(n.bins))
	return n, nil
}

func (n *native) createDatabases(ctx context.Context) error {
	if n.db == nil {
		return errors.New("no PostgreSQL (see the PostgreSQL part)")
	}
	pg, err := openPG(ctx, n.db.url)
	if err != nil {
		return err
	}
	n.pg = pg
	prefix := fmt.Sprintf("bench_%d_", os.Getpid())
	for _, name := range append(slices.Clone(services), "pgbench") {
		db := prefix + strings.ReplaceAll(name, "-", "_")
		if err := pg.createDatabase(ctx, db); err != nil {
			return err
		}
		n.dbs[name] = db
	}
	n.dbReady = true
	logf("created databases %s*", prefix)
	return nil
}

// cleanup stops what is still running and drops the run's databases; safe
// to call twice.
func (n *native) cleanup() {
	for _, p := range n.running {
		p.stop()
	}
	n.running = nil
	if n.pg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, db := range n.dbs {
			if err := n.pg.dropDatabase(ctx, db); err != nil {
				logf("drop database %s: %v", db, err)
			}
		}
		n.dbs = map[string]string{}
		n.pg.close()
		n.pg = nil
	}
}

// env is the environment of one service of the run.
func (n *native) env(svc string, ports map[string]int) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"PORT=" + strconv.Itoa(ports[svc]),
		"DATABASE_URL=" + n.pg.urlFor(n.dbs[svc]),
		"LOG_LEVEL=info", "LOG_FORMAT=json",
		"SHUTDOWN_TIMEOUT=5s",
	}
	if n.s.profile {
		env = append(env, "PPROF_ENABLED=true")
	}
	switch svc {
	case "tour-catalog":
		env = append(env, "CATALOG_ADMIN_TOKEN="+adminToken, "CATALOG_SERVICE_TOKEN="+serviceToken)
	case "payment-gateway":
		env = append(env, "PAYMENT_API_KEY="+apiKey, "WEBHOOK_SECRET="+hookSecret,
			fmt.Sprintf("WEBHOOK_URL=http://127.0.0.1:%d/v1/webhooks/payments", ports["booking"]))
	case "booking":
		env = append(env,
			fmt.Sprintf("CATALOG_URL=http://127.0.0.1:%d", ports["tour-catalog"]),
			fmt.Sprintf("PAYMENT_URL=http://127.0.0.1:%d", ports["payment-gateway"]),
			"CATALOG_SERVICE_TOKEN="+serviceToken, "PAYMENT_API_KEY="+apiKey,
			"WEBHOOK_SECRET="+hookSecret, "BOOKING_ADMIN_TOKEN="+bookingAdmin)
	}
	// Tuning knobs passed through to the services (DB_MAX_OPEN_CONNS...).
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "BENCH_SVC_") {
			env = append(env, strings.TrimPrefix(kv, "BENCH_SVC_"))
		}
	}
	return env
}

func freePorts(names ...string) (map[string]int, error) {
	ports := map[string]int{}
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for _, name := range names {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports[name] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// proc is one running service process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	port    int
	started time.Time
	exited  chan struct{}
	logPath string
}

func (n *native) start(name string, env []string, port int) (*proc, error) {
	logPath := filepath.Join(n.work, "logs", fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(n.bins[name])
	cmd.Dir = n.work // no .env there
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p := &proc{name: name, cmd: cmd, port: port, exited: make(chan struct{}), logPath: logPath}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	n.running = append(n.running, p)
	return p, nil
}

// waitReady polls /readyz every 2 ms and returns the time from process
// start to the first 200.
func (p *proc) waitReady(ctx context.Context, timeout time.Duration) (time.Duration, error) {
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	u := fmt.Sprintf("http://127.0.0.1:%d/readyz", p.port)
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-p.exited:
			return 0, fmt.Errorf("%s exited before it was ready: %s", p.name, p.tail())
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s not ready after %s: %s", p.name, timeout, p.tail())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (p *proc) tail() string {
	b, _ := os.ReadFile(p.logPath)
	return lastLines(string(b), 3)
}

// stop sends SIGTERM and waits up to 10 s, then kills.
func (p *proc) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// memory reads VmRSS and VmHWM (KiB) from /proc.
func (p *proc) memory() (rss, hwm int64, err error) {
	m, err := p.memoryDetail()
	return m.rss, m.hwm, err
}

type memStatus struct{ rss, hwm, anon, file int64 }

// memoryDetail reads VmRSS, VmHWM, RssAnon and RssFile (KiB) from /proc.
func (p *proc) memoryDetail() (m memStatus, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "VmRSS:":
			m.rss = v
		case "VmHWM:":
			m.hwm = v
		case "RssAnon:":
			m.anon = v
		case "RssFile:":
			m.file = v
		}
	}
	if m.rss == 0 {
		return m, errors.New("no VmRSS in /proc status")
	}
	return m, sc.Err()
}

func (n *native) forget(p *proc) {
	n.running = slices.DeleteFunc(n.running, func(q *proc) bool { return q == p })
}

// measureStartup starts each service several times: the first start
// creates its schema, the others find it, as a restarted container does.
// The last run also gives the idle RSS.
func (n *native) measureStartup(ctx context.Context, r *report.Report) error {
	ports, err := freePorts(services...)
	if err != nil {
		return err
	}
	for _, svc := range services {
		var times []float64
		var first float64
		for i := 0; i <= n.s.readyRuns; i++ {
			p, err := n.start(svc, n.env(svc, ports), ports[svc])
			if err != nil {
				return err
			}
			d, err := p.waitReady(ctx, 20*time.Second)
			if err != nil {
				p.stop()
				n.forget(p)
				return err
			}
			ms := float64(d.Microseconds()) / 1000
			if i == 0 {
				first = ms
			} else {
				times = append(times, ms)
			}
			if i == n.s.readyRuns {
				// Idle: let start-up garbage settle as it would between
				// health checks.
				time.Sleep(1500 * time.Millisecond)
				m, err := p.memoryDetail()
				if err != nil {
					return err
				}
				f := r.FootprintOf(svc)
				f.NativeRSSKiB, f.NativeRSSAnonKiB, f.NativeRSSFileKiB = m.rss, m.anon, m.file
			}
			p.stop()
			n.forget(p)
		}
		f := r.FootprintOf(svc)
		f.NativeReadyMs, f.NativeFirstReadyMs, f.NativeReadyRuns = median(times), first, len(times)
		logf("%s: start -> ready median %.1f ms over %d runs (first, with migration: %.1f ms), idle RSS %.1f MiB (anonymous %.1f, file %.1f)",
			svc, f.NativeReadyMs, len(times), first, float64(f.NativeRSSKiB)/1024, float64(f.NativeRSSAnonKiB)/1024, float64(f.NativeRSSFileKiB)/1024)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// startStack starts the three services on fresh ports and waits for each.
func (n *native) startStack(ctx context.Context) (map[string]*proc, map[string]int, error) {
	ports, err := freePorts(services...)
	if err != nil {
		return nil, nil, err
	}
	procs := map[string]*proc{}
	for _, svc := range services {
		p, err := n.start(svc, n.env(svc, ports), ports[svc])
		if err != nil {
			return nil, nil, err
		}
		if _, err := p.waitReady(ctx, 30*time.Second); err != nil {
			return nil, nil, err
		}
		procs[svc] = p
	}
	return procs, ports, nil
}

func hostURL(port int) string { return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

var _ = url.Parse

// cpuTime is the CPU time (user and system) the process has used.
func (p *proc) cpuTime() time.Duration { return pidCPUTime(p.cmd.Process.Pid) }

// pidCPUTime reads utime+stime of pid from /proc/<pid>/stat.
func pidCPUTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// USER_HZ is 100 on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
