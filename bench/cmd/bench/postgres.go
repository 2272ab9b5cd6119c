package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// defaultPostgresImage is docker-compose.yml's default for its postgres
// service, so that a machine with nothing but Go and Docker pulls one
// PostgreSQL image for both. A test keeps the two in step.
const defaultPostgresImage = "postgres:17-alpine"

// devDatabaseURL is the dev cluster a developer's machine runs.
const devDatabaseURL = "postgres://dev:dev@127.0.0.1:5432/postgres?sslmode=disable"

// devProbeTimeout is how long the dev cluster has to answer before the run
// starts a server of its own.
const devProbeTimeout = 2 * time.Second

// Credentials of the run's own server: it listens on loopback only and is
// removed with the run.
const (
	pgContainerUser     = "bench"
	pgContainerPassword = "bench-postgres-0123456789"
	pgContainerDB       = "postgres"
)

// dbChoice is the PostgreSQL the environment asks for.
type dbChoice struct {
	url string
	// from is the variable url came from; "" for the dev cluster's
	// address, the one choice a container may replace.
	from string
}

// chooseDatabase reads BENCH_DATABASE_URL, then TEST_DATABASE_URL (what
// the tests use, so one setting serves both), else the dev cluster.
func chooseDatabase(getenv func(string) string) dbChoice {
	for _, k := range []string{"BENCH_DATABASE_URL", "TEST_DATABASE_URL"} {
		if v := getenv(k); v != "" {
			return dbChoice{url: v, from: k}
		}
	}
	return dbChoice{url: devDatabaseURL}
}

// database is the server the run uses.
type database struct {
	url     string
	version string // "PostgreSQL 15.18"
	// source says which server it is, for the log and the report.
	source string
	// container is the run's own server's container, "" for another server.
	container string
}

// openDatabase finds the run's server: the one the environment names, the
// dev cluster when it answers within devProbeTimeout, else a container
// started in pg (which the caller removes, whatever happens here).
func openDatabase(ctx context.Context, choice dbChoice, pg *pgContainer) (*database, error) {
	if choice.from != "" {
		// Named on purpose: a server that does not answer is an error, not
		// a reason to measure another one.
		v, err := serverVersion(ctx, choice.url)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", choice.from, err)
		}
		src := choice.from + "'s server"
		if h := hostPort(choice.url); h != "" {
			src += " at " + h
		}
		return &database{url: choice.url, version: v, source: src}, nil
	}
	pctx, cancel := context.WithTimeout(ctx, devProbeTimeout)
	v, err := serverVersion(pctx, choice.url)
	cancel()
	if err == nil {
		return &database{url: choice.url, version: v, source: "the dev cluster at 127.0.0.1:5432"}, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	logf("PostgreSQL: the dev cluster (%s) did not answer within %s: %v", redact(choice.url), devProbeTimeout, err)
	logf("PostgreSQL: starting container %s from %s (POSTGRES_IMAGE)", pg.name, pg.image)
	u, v, err := pg.start(ctx, 60*time.Second)
	if err != nil {
		return nil, err
	}
	return &database{url: u, version: v, container: pg.name,
		source: fmt.Sprintf("container %s of %s, started by this run, on %s", pg.name, pg.image, hostPort(u))}, nil
}

// serverVersion connects to u and returns "PostgreSQL <version>".
func serverVersion(ctx context.Context, u string) (string, error) {
	pg, err := openPG(ctx, u)
	if err != nil {
		return "", err
	}
	defer pg.close()
	v := pg.version(ctx)
	if v == "" {
		return "", errors.New("SHOW server_version failed")
	}
	return v, nil
}

// redact drops the password from a database URL for the log.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// pgContainer is the run's own PostgreSQL server, for a machine without one:
// a container published on a free loopback port, with its data in an
// anonymous volume (on disk, so that a commit costs an fsync as it does on
// a real server) that remove deletes with it.
type pgContainer struct {
	name, image string
	// created is set before `docker run`, which may create the container
	// and still fail (or be interrupted): remove then has work to do.
	created bool
}

func newPGContainer(image string, pid int) *pgContainer {
	return &pgContainer{name: fmt.Sprintf("tourism-bench-pg-%d", pid), image: image}
}

// runArgs are the arguments of `docker run` for the container.
func (c *pgContainer) runArgs() []string {
	return []string{"run", "-d", "--name", c.name,
		"--label", "org.tourism-go.bench=postgres",
		"-e", "POSTGRES_USER=" + pgContainerUser,
		"-e", "POSTGRES_PASSWORD=" + pgContainerPassword,
		"-e", "POSTGRES_DB=" + pgContainerDB,
		// Loopback only, on a port the engine picks: no clash with a
		// server on 5432, nothing reachable from outside.
		"-p", "127.0.0.1::5432",
		c.image}
}

// start runs the container and waits, at most wait, until it accepts
// connections; it returns the admin URL and the server's version.
func (c *pgContainer) start(ctx context.Context, wait time.Duration) (string, string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return "", "", fmt.Errorf("no PostgreSQL: the dev cluster did not answer and docker is not installed (set BENCH_DATABASE_URL): %w", err)
	}
	if exec.CommandContext(ctx, "docker", "image", "inspect", c.image).Run() != nil {
		logf("PostgreSQL: pulling %s", c.image)
		if out, err := exec.CommandContext(ctx, "docker", "pull", c.image).CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("docker pull %s: %w: %s", c.image, err, lastLines(string(out), 3))
		}
	}
	c.created = true
	// Not cut short by Ctrl-C: the daemon may create the container after
	// the client is gone, and after remove has looked for it. With the
	// image on the machine this takes a second or two.
	// Its own process group keeps a terminal's Ctrl-C from it too.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	run := exec.CommandContext(rctx, "docker", c.runArgs()...)
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if out, err := run.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("docker run %s: %w: %s", c.image, err, lastLines(string(out), 3))
	}
	out, err := exec.CommandContext(ctx, "docker", "port", c.name, "5432/tcp").Output()
	if err != nil {
		return "", "", fmt.Errorf("docker port %s: %w", c.name, err)
	}
	port, err := publishedPort(string(out))
	if err != nil {
		return "", "", fmt.Errorf("docker port %s: %w", c.name, err)
	}
	u := (&url.URL{Scheme: "postgres", User: url.UserPassword(pgContainerUser, pgContainerPassword),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Path: "/" + pgContainerDB,
		RawQuery: "sslmode=disable"}).String()
	t0 := time.Now()
	v, err := c.waitAccepting(ctx, u, wait)
	if err != nil {
		return "", "", err
	}
	logf("PostgreSQL: %s accepts connections on 127.0.0.1:%d, %.1fs after docker run", c.name, port, time.Since(t0).Seconds())
	return u, v, nil
}

// publishedPort reads the host port from `docker port NAME 5432/tcp`,
// which prints one "address:port" line per binding.
func publishedPort(out string) (int, error) {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		host, p, err := net.SplitHostPort(strings.TrimSpace(line))
		if err != nil || host != "127.0.0.1" {
			continue
		}
		if port, err := strconv.Atoi(p); err == nil && port > 0 && port < 65536 {
			return port, nil
		}
	}
	return 0, fmt.Errorf("no port published on 127.0.0.1 in %q", strings.TrimSpace(out))
}

// waitAccepting connects until the server answers. Until then the image's
// entry point runs initdb and a socket-only server of its own, so that a
// TCP connection through the published port is refused or closed; a
// container that exits fails at once, with its last log lines.
func (c *pgContainer) waitAccepting(ctx context.Context, u string, limit time.Duration) (string, error) {
	deadline := time.Now().Add(limit)
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := serverVersion(actx, u)
		cancel()
		if err == nil {
			return v, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if st := strings.TrimSpace(output(ctx, "docker", "inspect", "--format", "{{.State.Status}}", c.name)); st != "running" && st != "created" {
			logs, _ := exec.CommandContext(ctx, "docker", "logs", "--tail", "5", c.name).CombinedOutput()
			return "", fmt.Errorf("container %s is %q, not running: %s", c.name, st, lastLines(string(logs), 5))
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("container %s does not accept connections after %s: %w", c.name, limit, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// remove deletes the container and its volume. It has a context of its
// own: it runs when the run's has ended, by its budget or by Ctrl-C.
func (c *pgContainer) remove() {
	if c == nil || !c.created {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", "rm", "-f", "-v", c.name).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "No such container") {
		logf("PostgreSQL: docker rm -f -v %s: %v: %s (remove it by hand)", c.name, err, lastLines(string(out), 2))
		return
	}
	c.created = false
	logf("PostgreSQL: removed container %s and its volume", c.name)
}

// pgbenchCmd is where pgbench runs: the machine's own binary, which
// reaches the server as the services do, or the one in the run's
// container, on the container's loopback.
type pgbenchCmd struct {
	bin       string // the binary's path, on the machine or in the container
	container string // "": on this machine
}

var errNoPgbench = errors.New("pgbench is not on this machine (neither on PATH nor in /usr/lib/postgresql/*/bin) " +
	"and the server is not a container of this run's, which would have one: install PostgreSQL's pgbench to measure this ceiling")

// choosePgbench prefers the machine's pgbench (local: its path, or ""),
// then the run's container's; with neither there is no ceiling.
func choosePgbench(local, container string) (pgbenchCmd, error) {
	switch {
	case local != "":
		return pgbenchCmd{bin: local}, nil
	case container != "":
		return pgbenchCmd{container: container}, nil
	default:
		return pgbenchCmd{}, errNoPgbench
	}
}

// pgbenchEnv is the libpq environment for pgbench on database db of the
// server at base. In the container the server is on its own loopback.
func pgbenchEnv(base *url.URL, db string, inContainer bool) []string {
	host, port := base.Hostname(), portOr(base.Port(), "5432")
	if inContainer {
		host, port = "127.0.0.1", "5432"
	}
	pass, _ := base.User.Password()
	return []string{"PGHOST=" + host, "PGPORT=" + port, "PGUSER=" + base.User.Username(),
		"PGPASSWORD=" + pass, "PGDATABASE=" + db, "PGSSLMODE=disable"}
}

// command is pgbench with args and env, here or through docker exec.
func (p pgbenchCmd) command(ctx context.Context, env []string, args ...string) *exec.Cmd {
	if p.container == "" {
		cmd := exec.CommandContext(ctx, p.bin, args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}
	dargs := []string{"exec"}
	for _, kv := range env {
		dargs = append(dargs, "-e", kv)
	}
	dargs = append(append(dargs, p.container, p.bin), args...)
	return exec.CommandContext(ctx, "docker", dargs...)
}

// findInContainer looks pgbench up in the container: on PATH (the official
// image) or in Debian's layout.
func (p *pgbenchCmd) findInContainer(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "docker", "exec", p.container, "sh", "-c",
		"command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1").Output()
	p.bin = strings.TrimSpace(string(out))
	if err != nil || p.bin == "" {
		return fmt.Errorf("pgbench is neither on this machine nor in container %s", p.container)
	}
	return nil
}
