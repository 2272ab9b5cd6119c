package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestChooseDatabase(t *testing.T) {
	const bench, test = "postgres://b@127.0.0.1:6000/x", "postgres://t@127.0.0.1:6001/y"
	cases := []struct {
		name     string
		env      map[string]string
		url      string
		from     string
		fallback bool // the one choice a container may replace
	}{
		{"both set: BENCH_DATABASE_URL wins", map[string]string{"BENCH_DATABASE_URL": bench, "TEST_DATABASE_URL": test}, bench, "BENCH_DATABASE_URL", false},
		{"the tests' server", map[string]string{"TEST_DATABASE_URL": test}, test, "TEST_DATABASE_URL", false},
		{"nothing set: the dev cluster", map[string]string{}, devDatabaseURL, "", true},
		{"empty counts as unset", map[string]string{"BENCH_DATABASE_URL": "", "TEST_DATABASE_URL": ""}, devDatabaseURL, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := chooseDatabase(func(k string) string { return c.env[k] })
			if got.url != c.url || got.from != c.from || (got.from == "") != c.fallback {
				t.Errorf("chooseDatabase = %+v, want url %s from %q", got, c.url, c.from)
			}
		})
	}
}

func TestPublishedPort(t *testing.T) {
	cases := []struct {
		out  string
		port int
		ok   bool
	}{
		{"127.0.0.1:49153\n", 49153, true},
		{"0.0.0.0:5000\n127.0.0.1:49154\n", 49154, true},
		{"0.0.0.0:49153\n[::]:49153\n", 0, false}, // not on loopback: not ours to use
		{"", 0, false},
		{"127.0.0.1:notaport\n", 0, false},
		{"Error: No public port '5432/tcp' published for x\n", 0, false},
	}
	for _, c := range cases {
		port, err := publishedPort(c.out)
		if (err == nil) != c.ok || port != c.port {
			t.Errorf("publishedPort(%q) = %d, %v; want %d, ok=%v", c.out, port, err, c.port, c.ok)
		}
	}
}

func TestPGContainerRunArgs(t *testing.T) {
	c := newPGContainer("example/postgres:1", 4242)
	args := c.runArgs()
	if c.name != "tourism-bench-pg-4242" {
		t.Errorf("name %q", c.name)
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"run -d", "--name tourism-bench-pg-4242", "-p 127.0.0.1::5432",
		"POSTGRES_USER=" + pgContainerUser, "POSTGRES_PASSWORD=" + pgContainerPassword, "POSTGRES_DB=" + pgContainerDB} {
		if !strings.Contains(joined, want) {
			t.Errorf("docker %s: no %q", joined, want)
		}
	}
	if args[len(args)-1] != "example/postgres:1" {
		t.Errorf("the image must come last: %v", args)
	}
	// Published on loopback only, once.
	n := 0
	for i, a := range args {
		if a == "-p" || a == "--publish" {
			n++
			if !strings.HasPrefix(args[i+1], "127.0.0.1:") {
				t.Errorf("published beyond loopback: %s", args[i+1])
			}
		}
	}
	if n != 1 {
		t.Errorf("%d published ports, want 1", n)
	}
}

func TestRemoveBeforeStartDoesNothing(t *testing.T) {
	// A run that never needed the container must not call docker at all;
	// a nil one (no native part) neither.
	newPGContainer("x", 1).remove()
	var c *pgContainer
	c.remove()
}

func TestDefaultPostgresImageIsCompose(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatalf("read docker-compose.yml: %v", err)
	}
	m := regexp.MustCompile(`\$\{POSTGRES_IMAGE:-([^}]+)\}`).FindSubmatch(b)
	if m == nil {
		t.Fatal("docker-compose.yml has no ${POSTGRES_IMAGE:-...}")
	}
	if got := string(m[1]); got != defaultPostgresImage {
		t.Errorf("docker-compose.yml defaults POSTGRES_IMAGE to %s, bench to %s: keep them in step", got, defaultPostgresImage)
	}
}

func TestChoosePgbench(t *testing.T) {
	p, err := choosePgbench("/usr/bin/pgbench", "tourism-bench-pg-1")
	if err != nil || p.bin != "/usr/bin/pgbench" || p.container != "" {
		t.Errorf("with a local pgbench: %+v, %v; want the machine's", p, err)
	}
	p, err = choosePgbench("", "tourism-bench-pg-1")
	if err != nil || p.container != "tourism-bench-pg-1" {
		t.Errorf("without one, with the run's container: %+v, %v; want the container's", p, err)
	}
	if _, err := choosePgbench("", ""); !errors.Is(err, errNoPgbench) {
		t.Errorf("with neither: %v, want errNoPgbench", err)
	}
}

func TestPgbenchEnvAndCommand(t *testing.T) {
	base, _ := url.Parse("postgres://bench:secret@127.0.0.1:49153/postgres?sslmode=disable")
	local := pgbenchEnv(base, "bench_1_pgbench", false)
	for _, want := range []string{"PGHOST=127.0.0.1", "PGPORT=49153", "PGUSER=bench", "PGPASSWORD=secret", "PGDATABASE=bench_1_pgbench"} {
		if !slices.Contains(local, want) {
			t.Errorf("local env %v: no %s", local, want)
		}
	}
	inside := pgbenchEnv(base, "bench_1_pgbench", true)
	if !slices.Contains(inside, "PGPORT=5432") || !slices.Contains(inside, "PGHOST=127.0.0.1") {
		t.Errorf("in the container pgbench reaches the server on its own loopback: %v", inside)
	}

	cmd := pgbenchCmd{bin: "/usr/local/bin/pgbench", container: "tourism-bench-pg-1"}.command(context.Background(), inside, "-S", "-T", "3")
	args := strings.Join(cmd.Args, " ")
	if filepath.Base(cmd.Args[0]) != "docker" || !strings.Contains(args, "exec -e PGHOST=127.0.0.1") ||
		!strings.HasSuffix(args, "tourism-bench-pg-1 /usr/local/bin/pgbench -S -T 3") {
		t.Errorf("in the container: %s", args)
	}
	cmd = pgbenchCmd{bin: "/usr/bin/pgbench"}.command(context.Background(), local, "-S")
	if cmd.Path != "/usr/bin/pgbench" || !slices.Contains(cmd.Env, "PGPORT=49153") {
		t.Errorf("on the machine: %s %v", cmd.Path, cmd.Args)
	}
}
