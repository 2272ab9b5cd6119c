package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tourism-go/tourism/bench/internal/load"
	"github.com/tourism-go/tourism/bench/internal/report"
)

// imageNames are the images of DESIGN §6.
var imageNames = map[string]string{
	"tour-catalog":    "tour-catalog-service",
	"booking":         "booking-service",
	"payment-gateway": "payment-gateway-service",
}

// servicePorts are the ports the services listen on in their containers.
var servicePorts = map[string]int{"tour-catalog": 3001, "booking": 3002, "payment-gateway": 3004}

// cacheProbeService is the image the build cache experiment edits.
const cacheProbeService = "tour-catalog"

// composeProject names the run's compose project, apart from a developer's.
const composeProject = "tourism-bench"

type containers struct {
	s    settings
	plan plan
	work string
	ctx  string // the build context: a copy of the repository
	// images maps a service to the image it was built as.
	images map[string]string
}

func (c *containers) run(ctx context.Context, r *report.Report) error {
	if out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").CombinedOutput(); err != nil {
		return fmt.Errorf("docker is not available: %s", lastLines(string(out), 2))
	}
	if err := c.copyContext(ctx); err != nil {
		return fmt.Errorf("copy the build context: %w", err)
	}
	c.images = map[string]string{}
	if c.plan.coldBuild > 0 {
		c.coldBuild(ctx, r)
	}
	var errs []error
	for _, svc := range buildOrder() {
		if ctx.Err() != nil {
			return errors.Join(append(errs, ctx.Err())...)
		}
		if err := c.buildService(ctx, svc, r); err != nil {
			r.Fail("image "+svc, err)
			errs = append(errs, fmt.Errorf("image %s: %w", svc, err))
		}
	}
	if len(c.images) == len(services) {
		if err := c.compose(ctx, r); err != nil {
			r.Fail("compose", err)
			errs = append(errs, fmt.Errorf("compose: %w", err))
		}
	} else {
		r.Fail("compose", errors.New("not run: not every service image was built"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d container part(s) failed (see the report)", len(errs))
	}
	return nil
}

// coldBuild times the build from nothing of the cache experiment's
// service: with --no-cache BuildKit reuses no layer and starts the
// Dockerfile's cache mounts empty, so every module is downloaded and every
// package compiled. It comes first of the container parts, with the time
// the plan set aside for it plus whatever the native part left over, less
// the other container parts' share: run last, it had only what they left,
// and on a busy machine that was too little. The builds after it find the
// cache mounts it filled, as they would after any first build.
func (c *containers) coldBuild(ctx context.Context, r *report.Report) {
	svc, tag := cacheProbeService, imageNames[cacheProbeService]+":bench-cold"
	c.describeBuild(r)
	limit := time.Until(deadlineOf(ctx)) - c.plan.containersRest
	if limit < c.plan.coldBuild/2 {
		// Only when the run's budget is overdrawn already.
		r.Fail("cold build", fmt.Errorf("not started: %s left before the other container parts' share", limit.Round(time.Second)))
		return
	}
	cctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	logf("  %s: cold build (--no-cache), at most %s", svc, limit.Round(time.Second))
	d, err := c.dockerBuild(cctx, svc, tag, "--no-cache")
	switch {
	case err != nil && cctx.Err() != nil && ctx.Err() == nil:
		r.Fail("cold build", fmt.Errorf("docker build --no-cache did not finish in its %s", limit.Round(time.Second)))
	case err != nil:
		r.Fail("cold build", err)
	default:
		r.Build.ColdS = report.Seconds(d.Seconds())
		logf("  %s: cold build (--no-cache) %.1fs", svc, d.Seconds())
	}
	// The run measures the :bench images; this one was built for its time.
	_ = exec.Command("docker", "image", "rm", tag).Run()
}

// describeBuild names the service and builder image of the build timings.
func (c *containers) describeBuild(r *report.Report) {
	r.Build.Service, r.Build.GoImage = cacheProbeService, c.s.goImage
	if r.Build.GoImage == "" {
		r.Build.GoImage = "the Dockerfile's default"
	}
}

// buildOrder puts the cache experiment's service first, right after its
// cold build.
func buildOrder() []string {
	out := []string{cacheProbeService}
	for _, s := range services {
		if s != cacheProbeService {
			out = append(out, s)
		}
	}
	return out
}

// copyContext copies the repository's files (tracked, and untracked but
// not ignored) to a scratch directory: the cache experiment edits files
// there, never in the working tree.
func (c *containers) copyContext(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = c.s.root
	out, err := cmd.Output()
	if err != nil {
		return err
	}
	c.ctx = filepath.Join(c.work, "context")
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rel == "" || strings.HasPrefix(rel, "bench/results/") {
			continue
		}
		src := filepath.Join(c.s.root, rel)
		fi, err := os.Lstat(src)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the working tree, or a link
		}
		dst := filepath.Join(c.ctx, rel)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// dockerBuild builds svc's image and returns how long it took.
func (c *containers) dockerBuild(ctx context.Context, svc, tag string, extra ...string) (time.Duration, error) {
	args := []string{"build", "-f", filepath.Join("services", svc, "Dockerfile"), "-t", tag}
	if c.s.goImage != "" {
		args = append(args, "--build-arg", "GO_IMAGE="+c.s.goImage)
	}
	if proxy := strings.TrimSpace(output(ctx, "go", "env", "GOPROXY")); proxy != "" {
		args = append(args, "--build-arg", "GOPROXY="+proxy)
	}
	args = append(args, extra...)
	args = append(args, ".")
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = c.ctx
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=1")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(t0)
	if err != nil {
		return d, fmt.Errorf("docker build %s: %w: %s", svc, err, lastLines(string(out), 4))
	}
	return d, nil
}

func (c *containers) buildService(ctx context.Context, svc string, r *report.Report) error {
	if _, err := os.Stat(filepath.Join(c.ctx, "services", svc, "Dockerfile")); err != nil {
		return fmt.Errorf("services/%s/Dockerfile does not exist (yet)", svc)
	}
	tag := imageNames[svc] + ":bench"
	if svc == cacheProbeService {
		if err := c.cacheExperiment(ctx, svc, tag, r); err != nil {
			r.Fail("build cache", err)
		}
	}
	d, err := c.dockerBuild(ctx, svc, tag)
	if err != nil {
		return err
	}
	logf("  %s: built %s in %.1fs", svc, tag, d.Seconds())
	c.images[svc] = tag
	f := r.FootprintOf(svc)
	f.Image = tag
	size, err := strconv.ParseInt(strings.TrimSpace(output(ctx, "docker", "image", "inspect", "--format", "{{.Size}}", tag)), 10, 64)
	if err != nil {
		return fmt.Errorf("image size: %w", err)
	}
	f.ImageBytes = size
	// The lesson's own measure of what a pull moves.
	out, err := exec.CommandContext(ctx, "sh", "-c", "docker save "+tag+" | gzip -c | wc -c").Output()
	if err != nil {
		return fmt.Errorf("docker save | gzip: %w", err)
	}
	f.ImageGzipBytes, _ = strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	logf("  %s: %.1f MB on disk, %.1f MB gzip", svc, float64(size)/1e6, float64(f.ImageGzipBytes)/1e6)
	return nil
}

// cacheExperiment times the rebuilds of the lesson's Exercise 2: with
// nothing changed, after a one-line source edit, and after a go.mod
// change (the build from nothing is coldBuild's, before). The edits
// are made in the copied context and undone whatever happens.
func (c *containers) cacheExperiment(ctx context.Context, svc, tag string, r *report.Report) error {
	c.describeBuild(r)
	if c.s.quick {
		r.Notes = append(r.Notes, "QUICK=1 leaves out the cold (--no-cache) and go.mod builds, and expects the images' build cache to be warm (a first build takes minutes).")
	}
	// The image as the tree has it, so that what follows are rebuilds.
	if _, err := c.dockerBuild(ctx, svc, tag); err != nil {
		return err
	}
	d, err := c.dockerBuild(ctx, svc, tag)
	if err != nil {
		return err
	}
	r.Build.CachedS = report.Seconds(d.Seconds())

	src := filepath.Join(c.ctx, "services", svc, "cmd", svc, "main.go")
	err = withEdit(src, fmt.Sprintf("\n// bench: cache probe %d\n", time.Now().UnixNano()), func() error {
		d, err := c.dockerBuild(ctx, svc, tag)
		r.Build.EditS = report.Seconds(d.Seconds())
		return err
	})
	if err != nil {
		r.Build.EditS = 0
		return fmt.Errorf("rebuild after a source edit: %w", err)
	}
	logf("  %s: cached %.1fs, after a one-line edit %.1fs", svc, float64(r.Build.CachedS), float64(r.Build.EditS))
	if !c.s.quick {
		gomod := filepath.Join(c.ctx, "services", svc, "go.mod")
		err = withEdit(gomod, "\n// bench: cache probe\n", func() error {
			d, err := c.dockerBuild(ctx, svc, tag)
			r.Build.GoModS = report.Seconds(d.Seconds())
			return err
		})
		if err != nil {
			r.Build.GoModS = 0
			return fmt.Errorf("rebuild after a go.mod change: %w", err)
		}
		logf("  %s: after a go.mod change %.1fs", svc, float64(r.Build.GoModS))
	}
	return nil
}

// withEdit appends line to path, runs fn, and restores the file's bytes
// even when fn fails or panics.
func withEdit(path, line string, fn func() error) (err error) {
	orig, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := os.WriteFile(path, orig, fi.Mode().Perm()); rerr != nil && err == nil {
			err = fmt.Errorf("restore %s: %w", path, rerr)
		}
	}()
	if err := os.WriteFile(path, append(append([]byte{}, orig...), line...), fi.Mode().Perm()); err != nil {
		return err
	}
	return fn()
}

// composeFile finds the compose file at the repository root.
func (c *containers) composeFile() (string, error) {
	for _, name := range []string{"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"} {
		if _, err := os.Stat(filepath.Join(c.ctx, name)); err == nil {
			return name, nil
		}
	}
	return "", errors.New("no compose file at the repository root (yet)")
}

type composeService struct {
	Image         string            `json:"image"`
	ContainerName string            `json:"container_name"`
	Environment   map[string]string `json:"environment"`
}

func (c *containers) composeCmd(ctx context.Context, file string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "docker", append([]string{"compose", "-p", composeProject, "-f", file}, args...)...)
	cmd.Dir = c.ctx
	// The compose file names its images <name>:${TAG}: TAG=bench makes it
	// run the images built and measured above, and leaves a developer's
	// own tags alone.
	cmd.Env = append(os.Environ(), "TAG=bench")
	return cmd
}

// compose starts the stack with the images built above, then measures each
// service's container start to ready and to healthy, its memory, and a
// short load run through the published ports.
func (c *containers) compose(ctx context.Context, r *report.Report) error {
	file, err := c.composeFile()
	if err != nil {
		return err
	}
	out, err := c.composeCmd(ctx, file, "config", "--format", "json").Output()
	if err != nil {
		return fmt.Errorf("docker compose config: %w", err)
	}
	var cfg struct {
		Services map[string]composeService `json:"services"`
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		return fmt.Errorf("docker compose config: %w", err)
	}
	// Which compose service runs which of ours: by its image or name.
	names := map[string]string{}
	for name, cs := range cfg.Services {
		for _, svc := range services {
			if strings.HasPrefix(cs.Image, imageNames[svc]) || name == svc || cs.ContainerName == imageNames[svc] || cs.ContainerName == svc {
				names[svc] = name
				if cs.Image != "" && cs.Image != c.images[svc] {
					// Compose runs what was measured above.
					if b, err := exec.CommandContext(ctx, "docker", "tag", c.images[svc], cs.Image).CombinedOutput(); err != nil {
						return fmt.Errorf("docker tag: %s", b)
					}
				}
			}
		}
	}
	for _, svc := range services {
		if names[svc] == "" {
			return fmt.Errorf("the compose file has no service for %s", svc)
		}
	}
	defer func() {
		// Removing the volume is slow on fuse-overlayfs under load.
		dctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if b, err := c.composeCmd(dctx, file, "down", "-v", "--remove-orphans", "--timeout", "5").CombinedOutput(); err != nil {
			logf("docker compose down: %v: %s", err, lastLines(string(b), 3))
		}
	}()
	logf("  compose up (project %s)", composeProject)
	if b, err := c.composeCmd(ctx, file, "up", "-d", "--no-build", "--wait", "--wait-timeout", "120").CombinedOutput(); err != nil {
		return fmt.Errorf("docker compose up: %w: %s", err, lastLines(string(b), 4))
	}
	ids := map[string]string{}
	ports := map[string]int{}
	for _, svc := range services {
		b, err := c.composeCmd(ctx, file, "ps", "-q", names[svc]).Output()
		if err != nil || strings.TrimSpace(string(b)) == "" {
			return fmt.Errorf("no container for %s", svc)
		}
		ids[svc] = strings.TrimSpace(string(b))
		pb, err := c.composeCmd(ctx, file, "port", names[svc], strconv.Itoa(servicePorts[svc])).Output()
		if err == nil {
			if _, p, err := net.SplitHostPort(strings.TrimSpace(string(pb))); err == nil {
				ports[svc], _ = strconv.Atoi(p)
			}
		}
	}
	dc := dockerAPI()
	// Idle memory first, as docker stats shows it.
	time.Sleep(2 * time.Second)
	for _, svc := range services {
		if kib, err := containerMemory(ctx, dc, ids[svc]); err == nil {
			r.FootprintOf(svc).ContainerRSSKiB = kib
		} else {
			r.Fail("container memory "+svc, err)
		}
	}
	if err := c.startTimes(ctx, r, dc, ids, ports); err != nil {
		return err
	}
	driver := strings.TrimSpace(output(ctx, "docker", "info", "--format", "{{.Driver}}"))
	r.Notes = append(r.Notes, fmt.Sprintf("Compose numbers: requests reach the containers through their ports published on 127.0.0.1, "+
		"which docker-proxy (the daemon's userland proxy) relays, and every access-log line goes to docker's logging driver; "+
		"storage driver %s. Container start -> ready is `docker start` to the first /readyz 200 through the published port; "+
		"-> healthy is to docker's health status, which Docker Engine 20.10 first checks one HEALTHCHECK interval after the start "+
		"(start_interval needs Engine 25).", driver))
	if c.s.quick {
		return nil
	}
	return c.composeLoad(ctx, r, cfg.Services[names["tour-catalog"]], ports)
}

// startTimes stops the three services and starts each alone, several
// times, timing docker start to the first /readyz 200 on the published
// port and to docker's health status "healthy".
func (c *containers) startTimes(ctx context.Context, r *report.Report, dc *http.Client, ids map[string]string, ports map[string]int) error {
	runs := 3
	if c.s.quick {
		runs = 1
	}
	for _, svc := range []string{"booking", "payment-gateway", "tour-catalog"} {
		if b, err := exec.CommandContext(ctx, "docker", "stop", "-t", "5", ids[svc]).CombinedOutput(); err != nil {
			return fmt.Errorf("docker stop %s: %s", svc, b)
		}
	}
	for _, svc := range services {
		var ready, healthy []float64
		for i := range runs {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			t0 := time.Now()
			if b, err := exec.CommandContext(ctx, "docker", "start", ids[svc]).CombinedOutput(); err != nil {
				return fmt.Errorf("docker start %s: %s", svc, b)
			}
			var readyAt, healthyAt time.Duration
			deadline := time.Now().Add(60 * time.Second)
			hc := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
			for (readyAt == 0 || healthyAt == 0) && time.Now().Before(deadline) && ctx.Err() == nil {
				if readyAt == 0 && ports[svc] != 0 {
					if resp, err := hc.Get(hostURL(ports[svc]) + "/readyz"); err == nil {
						resp.Body.Close()
						if resp.StatusCode == http.StatusOK {
							readyAt = time.Since(t0)
						}
					}
				}
				if healthyAt == 0 {
					if st, err := healthStatus(ctx, dc, ids[svc]); err == nil && st == "healthy" {
						healthyAt = time.Since(t0)
					} else if err == nil && st == "" {
						return fmt.Errorf("%s has no HEALTHCHECK", svc)
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			if healthyAt == 0 {
				return fmt.Errorf("%s: not healthy 60 s after docker start", svc)
			}
			if readyAt > 0 {
				ready = append(ready, float64(readyAt.Microseconds())/1000)
			}
			healthy = append(healthy, float64(healthyAt.Microseconds())/1000)
			// Stopped again, except after the last run: the next service
			// may need it (booking's peers).
			if i < runs-1 {
				if b, err := exec.CommandContext(ctx, "docker", "stop", "-t", "5", ids[svc]).CombinedOutput(); err != nil {
					return fmt.Errorf("docker stop %s: %s", svc, b)
				}
			}
		}
		f := r.FootprintOf(svc)
		f.ContainerReadyMs, f.ContainerHealthyMs, f.ContainerRuns = median(ready), median(healthy), runs
		logf("  %s: container start -> ready %.0f ms, -> healthy %.0f ms (median of %d)", svc, f.ContainerReadyMs, f.ContainerHealthyMs, runs)
	}
	return nil
}

// composeLoad repeats the tour read and the booking flow through the
// published ports, shorter, to see whether containers change the numbers.
func (c *containers) composeLoad(ctx context.Context, r *report.Report, catalogSvc composeService, ports map[string]int) error {
	token := catalogSvc.Environment["CATALOG_ADMIN_TOKEN"]
	if token == "" || ports["tour-catalog"] == 0 || ports["booking"] == 0 {
		return errors.New("compose load: the catalog's admin token or the published ports are not in the compose configuration")
	}
	conc := concurrency()
	hc := newClient(conc)
	dur := c.s.loadDur / 2
	runFor := c.s.warmup + dur
	maxFlow := int64(3000 * runFor.Seconds())
	deps := int((maxFlow + maxHoldsPerDeparture - 1) / maxHoldsPerDeparture)
	catalog := hostURL(ports["tour-catalog"])
	fx, err := seedWith(ctx, hc, catalog, token, deps)
	if err != nil {
		return fmt.Errorf("compose seed: %w", err)
	}
	res := load.Run(ctx, load.Config{Concurrency: conc, Warmup: c.s.warmup, Duration: dur}, getTourOp(hc, catalog, fx.tourIDs))
	c.addScenario(r, "GET /v1/tours/{id}", res)
	var next atomic.Int64
	fc := flowConcurrency()
	res = load.Run(ctx, load.Config{Concurrency: fc, Warmup: c.s.warmup, Duration: dur, MaxOps: maxFlow},
		flowOp(newClient(fc), hostURL(ports["booking"]), fx.flowDeps, &next))
	c.addScenario(r, "booking flow", res)
	return nil
}

func (c *containers) addScenario(r *report.Report, name string, res load.Result) {
	sc := toScenario(name, "compose", res)
	sc.OfGin, sc.OfPgbench = r.Ceilings.Shares(sc.RPS)
	r.Scenarios = append(r.Scenarios, sc)
	logScenario(sc)
}

// dockerAPI talks to the engine over its socket: polling health through
// the CLI would add tens of milliseconds to every sample.
func dockerAPI() *http.Client {
	sock := "/var/run/docker.sock"
	if h := os.Getenv("DOCKER_HOST"); strings.HasPrefix(h, "unix://") {
		sock = strings.TrimPrefix(h, "unix://")
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
}

func dockerGet(ctx context.Context, dc *http.Client, path string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	resp, err := dc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("docker API %s: %s: %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func healthStatus(ctx context.Context, dc *http.Client, id string) (string, error) {
	var v struct {
		State struct {
			Health *struct{ Status string }
		}
	}
	if err := dockerGet(ctx, dc, "/containers/"+id+"/json", &v); err != nil {
		return "", err
	}
	if v.State.Health == nil {
		return "", nil
	}
	return v.State.Health.Status, nil
}

// containerMemory is the memory docker stats shows: usage less the
// inactive page cache, in KiB.
func containerMemory(ctx context.Context, dc *http.Client, id string) (int64, error) {
	var v struct {
		MemoryStats struct {
			Usage int64            `json:"usage"`
			Stats map[string]int64 `json:"stats"`
		} `json:"memory_stats"`
	}
	if err := dockerGet(ctx, dc, "/containers/"+id+"/stats?stream=false", &v); err != nil {
		return 0, err
	}
	u := v.MemoryStats.Usage
	if x, ok := v.MemoryStats.Stats["total_inactive_file"]; ok && x < u {
		u -= x
	} else if x, ok := v.MemoryStats.Stats["inactive_file"]; ok && x < u {
		u -= x
	}
	if u == 0 {
		return 0, errors.New("no memory usage in docker stats")
	}
	return u / 1024, nil
}
