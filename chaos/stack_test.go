//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Compose service names, as docker-compose.yml and compose.chaos.yml spell
// them.
const (
	svcPostgres = "postgres"
	svcCatalog  = "tour-catalog"
	svcBooking  = "booking"
	svcBooking2 = "booking-2"
	svcGateway  = "payment-gateway"
)

// catalogNetwork is the compose network (declared by compose.chaos.yml)
// through which, and only through which, booking reaches the catalog: the
// partition scenario disconnects booking from it.
const catalogNetwork = "to-catalog"

// stack drives one compose project through the docker CLI. Every command is
// bounded by its context; the project name keeps everything it touches
// apart from any other stack on the machine.
type stack struct {
	root    string // repository root: compose's project directory
	project string
	files   []string
	log     func(format string, args ...any)
}

func newStack(t *testing.T) *stack {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	project := os.Getenv("CHAOS_PROJECT")
	if project == "" {
		project = "tourism-chaos"
	}
	// CHAOS_BASE_FILE replaces docker-compose.yml, to try the suite on
	// another base file.
	base := os.Getenv("CHAOS_BASE_FILE")
	if base == "" {
		base = "docker-compose.yml"
	}
	return &stack{
		root:    root,
		project: project,
		files:   []string{base, "chaos/compose.chaos.yml"},
		log:     t.Logf,
	}
}

// run runs a command in the repository root and returns its standard
// output; a failure carries the end of both outputs.
func (s *stack) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.root
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s\n%s", name, strings.Join(args, " "), err,
			tail(stdout.String(), 20), tail(stderr.String(), 40))
	}
	return stdout.String(), nil
}

func (s *stack) compose(ctx context.Context, args ...string) (string, error) {
	full := []string{"compose", "-p", s.project}
	for _, f := range s.files {
		full = append(full, "-f", f)
	}
	return s.run(ctx, "docker", append(full, args...)...)
}

func (s *stack) docker(ctx context.Context, args ...string) (string, error) {
	return s.run(ctx, "docker", args...)
}

// build builds the project's images (CHAOS_NO_BUILD: use them as they are).
func (s *stack) build(ctx context.Context) error {
	if os.Getenv("CHAOS_NO_BUILD") != "" {
		return nil
	}
	_, err := s.compose(ctx, "build")
	return err
}

// up starts the project and waits for every health check.
func (s *stack) up(ctx context.Context) error {
	_, err := s.compose(ctx, "up", "--detach", "--no-build", "--wait", "--wait-timeout", "240")
	return err
}

// down removes the project, its networks and its volumes.
func (s *stack) down(ctx context.Context) error {
	_, err := s.compose(ctx, "down", "--volumes", "--remove-orphans", "--timeout", "15")
	return err
}

// logs returns the last lines of every container's log, for a failure report.
func (s *stack) logs(ctx context.Context, lines int) string {
	out, err := s.compose(ctx, "logs", "--no-color", "--tail", strconv.Itoa(lines))
	if err != nil {
		return err.Error()
	}
	return out
}

// id returns the container id of service (running or not).
func (s *stack) id(ctx context.Context, service string) (string, error) {
	out, err := s.compose(ctx, "ps", "--all", "--quiet", service)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(out)
	if id == "" || strings.Contains(id, "\n") {
		return "", fmt.Errorf("service %s: expected one container, got %q", service, id)
	}
	return id, nil
}

// inspect returns one Go-template field of service's container.
func (s *stack) inspect(ctx context.Context, service, format string) (string, error) {
	id, err := s.id(ctx, service)
	if err != nil {
		return "", err
	}
	out, err := s.docker(ctx, "inspect", "--format", format, id)
	return strings.TrimSpace(out), err
}

// ids returns services' container ids, so that a kill can be one docker
// call at the moment it is wanted.
func (s *stack) ids(ctx context.Context, services ...string) ([]string, error) {
	ids := make([]string, 0, len(services))
	for _, svc := range services {
		id, err := s.id(ctx, svc)
		if err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// kill sends SIGKILL to containers (from ids): a crash, no shutdown at all.
func (s *stack) kill(ctx context.Context, ids []string, names ...string) error {
	s.log("docker kill -s KILL %s", strings.Join(names, " "))
	_, err := s.docker(ctx, append([]string{"kill", "--signal", "KILL"}, ids...)...)
	return err
}

// stop stops services gracefully (SIGTERM, then compose's grace period).
func (s *stack) stop(ctx context.Context, services ...string) error {
	s.log("docker compose stop %s", strings.Join(services, " "))
	_, err := s.compose(ctx, append([]string{"stop"}, services...)...)
	return err
}

// start starts services again, without waiting for their health checks.
func (s *stack) start(ctx context.Context, services ...string) error {
	s.log("docker compose start %s", strings.Join(services, " "))
	_, err := s.compose(ctx, append([]string{"start"}, services...)...)
	return err
}

// port returns the loopback address published for service's port target.
// Docker picks a new host port each time a container starts.
func (s *stack) port(ctx context.Context, service string, target int) (string, error) {
	out, err := s.compose(ctx, "port", service, strconv.Itoa(target))
	if err != nil {
		return "", err
	}
	addr := strings.TrimSpace(out)
	if addr == "" || strings.HasSuffix(addr, ":0") {
		return "", fmt.Errorf("service %s publishes no port %d", service, target)
	}
	return addr, nil
}

// waitHealthy waits until each service's container reports healthy.
func (s *stack) waitHealthy(ctx context.Context, services ...string) error {
	for _, svc := range services {
		for {
			state, err := s.inspect(ctx, svc, "{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}")
			if err == nil && (state == "running/healthy" || state == "running/") {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not healthy (%s): %w", svc, state, ctx.Err())
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	return nil
}

// exitCode is the exit status of service's container's last run.
func (s *stack) exitCode(ctx context.Context, service string) (int, error) {
	out, err := s.inspect(ctx, service, "{{.State.ExitCode}}")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(out)
}

// startedAt is when service's container last started; a service that
// recovered on its own keeps it.
func (s *stack) startedAt(ctx context.Context, service string) (string, error) {
	return s.inspect(ctx, service, "{{.State.StartedAt}}/{{.RestartCount}}")
}

// networkName is the engine's name of one of the project's networks.
func (s *stack) networkName(network string) string { return s.project + "_" + network }

// disconnect takes service's container off network: to it, every peer
// reachable only there is gone (its name no longer resolves, connections
// to it break).
func (s *stack) disconnect(ctx context.Context, network, service string) error {
	id, err := s.id(ctx, service)
	if err != nil {
		return err
	}
	s.log("docker network disconnect %s %s", s.networkName(network), service)
	_, err = s.docker(ctx, "network", "disconnect", s.networkName(network), id)
	return err
}

// connect puts service's container back on network.
func (s *stack) connect(ctx context.Context, network, service string) error {
	id, err := s.id(ctx, service)
	if err != nil {
		return err
	}
	s.log("docker network connect %s %s", s.networkName(network), service)
	_, err = s.docker(ctx, "network", "connect", s.networkName(network), id)
	return err
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
