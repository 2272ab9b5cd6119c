// Package dbtest gives each test a fresh, empty database, so that one store
// test suite runs against every backend: SQLite always, PostgreSQL whenever
// TEST_DATABASE_URL is set. With CI=true a missing TEST_DATABASE_URL fails the
// test instead of skipping it, so CI cannot pass without the PostgreSQL suite.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
)

// Backend names one database engine a suite runs on.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Each runs fn as a subtest once per available backend, each with a fresh
// database.
func Each(t *testing.T, fn func(t *testing.T, gdb *gorm.DB)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(string(b), func(t *testing.T) {
			fn(t, Open(t, b))
		})
	}
}

// Backends lists the engines to test on here.
func Backends(t testing.TB) []Backend {
	t.Helper()
	if PostgresURL(t) == "" {
		return []Backend{SQLite}
	}
	return []Backend{SQLite, Postgres}
}

// PostgresURL is TEST_DATABASE_URL; with CI=true, it being empty fails t.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatal("CI=true but TEST_DATABASE_URL is empty: the PostgreSQL suite must run in CI")
	}
	return u
}

// Open returns a fresh database of backend b, removed when t ends.
func Open(t testing.TB, b Backend) *gorm.DB {
	t.Helper()
	return OpenConfig(t, Config(t, b))
}

// Config returns a db.Config for a fresh database of backend b, removed when
// t ends, for tests that open it themselves (several pools on one database,
// a restarted service).
func Config(t testing.TB, b Backend) db.Config {
	t.Helper()
	switch b {
	case SQLite:
		return db.Config{SQLitePath: filepath.Join(t.TempDir(), "test.db")}
	case Postgres:
		return db.Config{URL: freshPostgres(t), MaxOpenConns: 20, MaxIdleConns: 20}
	default:
		t.Fatalf("unknown backend %q", b)
		return db.Config{}
	}
}

// OpenConfig opens cfg and closes the pool when t ends.
func OpenConfig(t testing.TB, cfg db.Config) *gorm.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gdb, err := db.Open(ctx, cfg, nil)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close(gdb) })
	return gdb
}

// freshPostgres creates a uniquely named database on the server of
// TEST_DATABASE_URL and drops it at cleanup; it returns its URL.
func freshPostgres(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	if base == "" {
		t.Fatal("TEST_DATABASE_URL is not set")
	}
	admin := OpenConfig(t, db.Config{URL: base, MaxOpenConns: 2})
	name := "test_" + randomSuffix(t)
	if err := admin.Exec("CREATE DATABASE " + name).Error; err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		// Cleanups run last-in first-out: pools the test opens on the new
		// database later close before this drop, and the admin pool it
		// uses closes after it.
		_ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)").Error
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random: %v", err)
	}
	return strings.ToLower(hex.EncodeToString(b[:]))
}
