package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/validate"
)

type testConfig struct {
	config.Common
	Token string `env:"TEST_TOKEN"`
}

func (c testConfig) Validate(v *validate.Collector) {
	c.Common.Validate(v)
	v.Check(len(c.Token) >= 8, "TEST_TOKEN", "must be at least 8 characters")
}

func TestLoadDefaultsAndOverrides(t *testing.T) {
	cfg := testConfig{Common: config.Common{Port: 3001, SQLitePath: "data/x.db"}}
	err := config.Load(&cfg, []string{"TEST_TOKEN=secret-token", "LOG_LEVEL=debug", "SHUTDOWN_TIMEOUT=3s"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 3001 || cfg.LogLevel != "debug" || cfg.LogFormat != "json" || cfg.ShutdownTimeout != 3*time.Second {
		t.Fatalf("unexpected config: %+v", cfg)
	}
	if got := cfg.DB(); got.SQLitePath != "data/x.db" || got.MaxOpenConns != 10 {
		t.Fatalf("db config: %+v", got)
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	cfg := testConfig{Common: config.Common{Port: 3001, SQLitePath: "x.db"}}
	err := config.Load(&cfg, []string{
		"PORT=eighty", "SHUTDOWN_TIMEOUT=soon", "LOG_FORMAT=xml", "DATABASE_URL=mysql://x", "TEST_TOKEN=short",
	})
	var cerr *config.Error
	if !errors.As(err, &cerr) {
		t.Fatalf("got %v, want *config.Error", err)
	}
	want := []string{
		"PORT: must be a whole number",
		"SHUTDOWN_TIMEOUT: must be a duration such as 15s, 500ms or 2m",
		"LOG_FORMAT: must be json or text",
		"DATABASE_URL: must be a postgres:// URL",
		"TEST_TOKEN: must be at least 8 characters",
	}
	for _, w := range want {
		if !slices.Contains(cerr.Problems, w) {
			t.Errorf("missing problem %q in %q", w, cerr.Problems)
		}
	}
	if config.ExitCode(err) != 2 {
		t.Errorf("exit code %d, want 2", config.ExitCode(err))
	}
	if config.ExitCode(errors.New("other")) != 1 {
		t.Error("a non-config error must exit 1")
	}
}

func TestLoadDotEnvDoesNotOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("CONFIG_TEST_A=from-file\nCONFIG_TEST_B=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CONFIG_TEST_A", "from-env")
	t.Setenv("CONFIG_TEST_B", "")
	os.Unsetenv("CONFIG_TEST_B")
	if err := config.LoadDotEnv(path); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("CONFIG_TEST_A"); got != "from-env" {
		t.Errorf("CONFIG_TEST_A = %q: .env must not override the environment", got)
	}
	if got := os.Getenv("CONFIG_TEST_B"); got != "from-file" {
		t.Errorf("CONFIG_TEST_B = %q, want from-file", got)
	}
	if err := config.LoadDotEnv(filepath.Join(t.TempDir(), "absent")); err != nil {
		t.Errorf("a missing .env must not be an error: %v", err)
	}
}

func TestCheckExample(t *testing.T) {
	keys := config.Keys(testConfig{})
	if !slices.Contains(keys, "TEST_TOKEN") || !slices.Contains(keys, "PORT") {
		t.Fatalf("keys: %v", keys)
	}
	dir := t.TempDir()
	full := ""
	for _, k := range keys {
		full += "# " + k + "=\n"
	}
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(full), 0o600)
	if err := config.CheckExample(good, testConfig{}); err != nil {
		t.Errorf("complete example: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("PORT=1\nUNUSED_VAR=2\n"), 0o600)
	err := config.CheckExample(bad, testConfig{})
	var cerr *config.Error
	if !errors.As(err, &cerr) || !slices.ContainsFunc(cerr.Problems, func(s string) bool { return s[:10] == "UNUSED_VAR" }) ||
		!slices.ContainsFunc(cerr.Problems, func(s string) bool { return s[:10] == "TEST_TOKEN" }) {
		t.Errorf("incomplete example: got %v", err)
	}
}
