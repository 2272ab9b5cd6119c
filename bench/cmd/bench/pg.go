package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tourism-go/tourism/bench/internal/report"
)

// pgAdmin creates and drops the run's databases on the server of
// BENCH_DATABASE_URL.
type pgAdmin struct {
	base *url.URL
	conn *pgx.Conn
}

func openPG(ctx context.Context, raw string) (*pgAdmin, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("BENCH_DATABASE_URL must be a postgres:// URL")
	}
	conn, err := pgx.Connect(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL (set BENCH_DATABASE_URL to a role that may create databases): %w", err)
	}
	return &pgAdmin{base: u, conn: conn}, nil
}

func (p *pgAdmin) urlFor(db string) string {
	u := *p.base
	u.Path = "/" + db
	q := u.Query()
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func (p *pgAdmin) createDatabase(ctx context.Context, name string) error {
	_, err := p.conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func (p *pgAdmin) dropDatabase(ctx context.Context, name string) error {
	_, err := p.conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

func (p *pgAdmin) version(ctx context.Context) string {
	var v string
	if err := p.conn.QueryRow(ctx, "SHOW server_version").Scan(&v); err != nil {
		return ""
	}
	return "PostgreSQL " + strings.Fields(v)[0]
}

func (p *pgAdmin) close() { _ = p.conn.Close(context.Background()) }

// pgbenchPath finds pgbench on PATH or in the Debian layout.
func pgbenchPath() (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil {
		return p, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench")
	for i := len(matches) - 1; i >= 0; i-- {
		if fi, err := os.Stat(matches[i]); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return matches[i], nil
		}
	}
	return "", errNoPgbench
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchSelect initialises the pgbench tables (scale 1) in db and runs
// the select-only script: the database's ceiling for one-row reads by
// primary key over the same loopback connection the services use.
func (n *native) pgbenchSelect(ctx context.Context, clients int, r *report.Report) error {
	local, _ := pgbenchPath()
	pgb, err := choosePgbench(local, n.db.container)
	if err != nil {
		return err
	}
	if pgb.container != "" {
		if err := pgb.findInContainer(ctx); err != nil {
			return err
		}
		logf("pgbench: none on this machine; running %s in container %s", pgb.bin, pgb.container)
		r.Notes = append(r.Notes, "This machine has no pgbench: the pgbench ceiling was measured by the one in the PostgreSQL container, "+
			"on the container's own loopback, so its connections skip the docker-proxy relay that the services' connections to that container cross.")
	}
	env := pgbenchEnv(n.pg.base, n.dbs["pgbench"], pgb.container != "")
	if b, err := pgb.command(ctx, env, "-i", "-s", "1", "-q", "-n").CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %w: %s", err, lastLines(string(b), 3))
	}
	secs := int(n.s.loadDur.Seconds())
	b, err := pgb.command(ctx, env, "-S", "-M", "prepared", "-n",
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(max(secs, 1))).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench -S: %w: %s", err, lastLines(string(b), 3))
	}
	m := tpsRE.FindSubmatch(b)
	if m == nil {
		return fmt.Errorf("pgbench -S: no tps in its output: %s", lastLines(string(b), 3))
	}
	tps, _ := strconv.ParseFloat(string(m[1]), 64)
	r.Ceilings.PgbenchTPS, r.Ceilings.PgbenchClients = tps, clients
	logf("pgbench -S -M prepared -c %d: %.0f tps", clients, tps)
	return nil
}

func portOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// xactCommits reads pg_stat_database's committed transactions of dbs.
func (p *pgAdmin) xactCommits(ctx context.Context, dbs map[string]string) (map[string]int64, error) {
	names := make([]string, 0, len(dbs))
	for _, db := range dbs {
		names = append(names, db)
	}
	// A fresh snapshot: statistics are otherwise cached per transaction.
	if _, err := p.conn.Exec(ctx, "SELECT pg_stat_clear_snapshot()"); err != nil {
		return nil, err
	}
	rows, err := p.conn.Query(ctx, "SELECT datname, xact_commit FROM pg_stat_database WHERE datname = ANY($1)", names)
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_database: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (struct {
		name string
		n    int64
	}, error) {
		var v struct {
			name string
			n    int64
		}
		err := row.Scan(&v.name, &v.n)
		return v, err
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_stat_database: %w", err)
	}
	m := map[string]int64{}
	for _, v := range out {
		m[v.name] = v.n
	}
	return m, nil
}

// countConfirmed counts the confirmed bookings in booking's database.
func (p *pgAdmin) countConfirmed(ctx context.Context, db string) (int64, error) {
	conn, err := pgx.Connect(ctx, p.urlFor(db))
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM bookings WHERE status = 'confirmed'").Scan(&n); err != nil {
		return 0, fmt.Errorf("count confirmed bookings: %w", err)
	}
	return n, nil
}

// waitWebhooksDelivered waits, at most for limit, until the gateway's
// outbox has no pending event: the flow's count of transactions then
// includes every webhook's delivery and handling.
func (p *pgAdmin) waitWebhooksDelivered(ctx context.Context, db string, limit time.Duration) (int64, error) {
	conn, err := pgx.Connect(ctx, p.urlFor(db))
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	deadline := time.Now().Add(limit)
	for {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM events WHERE state = 'pending'").Scan(&n); err != nil {
			return 0, fmt.Errorf("count pending webhook events: %w", err)
		}
		if n == 0 || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
