// Package config reads a service's settings from the environment into a typed
// struct. A .env file in the working directory is loaded first when present
// (never required, and never overriding a variable already set), so the same
// binary runs from a shell, from compose and from Kubernetes.
//
// Every problem is reported at once, one line per variable, so that a
// misconfigured container says everything that is wrong in its first log
// lines; main exits with status 2 for such an error (see ExitCode).
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/joho/godotenv"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/validate"
)

// Common holds the variables every service reads (DESIGN §2). A service
// embeds it and sets Port's default before calling Load.
type Common struct {
	Port            int           `env:"PORT"`
	DatabaseURL     string        `env:"DATABASE_URL"`
	SQLitePath      string        `env:"SQLITE_PATH"`
	DBMaxOpenConns  int           `env:"DB_MAX_OPEN_CONNS" envDefault:"10"`
	DBMaxIdleConns  int           `env:"DB_MAX_IDLE_CONNS" envDefault:"10"`
	DBConnLifetime  time.Duration `env:"DB_CONN_MAX_LIFETIME" envDefault:"30m"`
	LogLevel        string        `env:"LOG_LEVEL" envDefault:"info"`
	LogFormat       string        `env:"LOG_FORMAT" envDefault:"json"`
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s"`
	// ShutdownDelay keeps serving after readiness turns 503, so that a load
	// balancer polling /readyz stops sending traffic before the listener
	// closes.
	ShutdownDelay time.Duration `env:"SHUTDOWN_DELAY" envDefault:"0s"`
	PprofEnabled  bool          `env:"PPROF_ENABLED" envDefault:"false"`
}

// DB returns the database settings.
func (c Common) DB() db.Config {
	return db.Config{
		URL:             c.DatabaseURL,
		SQLitePath:      c.SQLitePath,
		MaxOpenConns:    c.DBMaxOpenConns,
		MaxIdleConns:    c.DBMaxIdleConns,
		ConnMaxLifetime: c.DBConnLifetime,
		SlowQuery:       200 * time.Millisecond,
	}
}

// Addr is the listen address.
func (c Common) Addr() string { return fmt.Sprintf(":%d", c.Port) }

// Validate checks the common variables.
func (c Common) Validate(v *validate.Collector) {
	v.Check(c.Port >= 1 && c.Port <= 65535, "PORT", "must be between 1 and 65535")
	v.Check(c.DatabaseURL != "" || c.SQLitePath != "", "SQLITE_PATH", "must be set when DATABASE_URL is empty")
	if c.DatabaseURL != "" {
		v.Check(strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://"),
			"DATABASE_URL", "must be a postgres:// URL")
	}
	v.Check(c.DBMaxOpenConns >= 1, "DB_MAX_OPEN_CONNS", "must be at least 1")
	v.Check(c.DBMaxIdleConns >= 0, "DB_MAX_IDLE_CONNS", "must not be negative")
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		v.Add("LOG_LEVEL", "must be debug, info, warn or error")
	}
	switch strings.ToLower(c.LogFormat) {
	case "json", "text":
	default:
		v.Add("LOG_FORMAT", "must be json or text")
	}
	v.Check(c.ShutdownTimeout > 0, "SHUTDOWN_TIMEOUT", "must be a positive duration such as 15s")
	v.Check(c.ShutdownDelay >= 0, "SHUTDOWN_DELAY", "must not be negative")
}

// Validator is implemented by a service's config to check what types alone
// cannot (ranges, URLs, required secrets).
type Validator interface {
	Validate(v *validate.Collector)
}

// Error lists every configuration problem, one per variable.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

// ExitCode is the process exit status for err: 2 for a configuration error
// (the operator must fix the environment), 1 for anything else.
func ExitCode(err error) int {
	var cerr *Error
	if errors.As(err, &cerr) {
		return 2
	}
	return 1
}

// LoadDotEnv loads path into the process environment when it exists, without
// overriding variables already set.
func LoadDotEnv(path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := godotenv.Load(path); err != nil {
		return fmt.Errorf("load %s: %w", path, err)
	}
	return nil
}

// Load fills dst (a pointer to a struct with `env` tags) from environ, a list
// of KEY=value as os.Environ returns, then runs its Validate method. Fields
// already set in dst are defaults.
func Load(dst Validator, environ []string) error {
	envMap := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			envMap[k] = v
		}
	}
	var problems []string
	unparsed := map[string]bool{}
	if err := env.ParseWithOptions(dst, env.Options{Environment: envMap}); err != nil {
		var agg env.AggregateError
		if errors.As(err, &agg) {
			for _, e := range agg.Errors {
				name, problem := describe(dst, e)
				if name == "" {
					problems = append(problems, problem)
					continue
				}
				unparsed[name] = true
				problems = append(problems, name+": "+problem)
			}
		} else {
			problems = append(problems, err.Error())
		}
	}
	var v validate.Collector
	dst.Validate(&v)
	if fields, ok := validate.Fields(v.Err()); ok {
		for _, f := range fields {
			// A variable that did not parse was already reported; its
			// zero value failing a range check would say it twice.
			if !unparsed[f.Field] {
				problems = append(problems, f.Field+": "+f.Detail)
			}
		}
	}
	if len(problems) > 0 {
		return &Error{Problems: dedupe(problems)}
	}
	return nil
}

// describe turns the env library's errors into the variable and what is
// wrong with it.
func describe(dst any, err error) (name, problem string) {
	var perr env.ParseError
	if errors.As(err, &perr) {
		return envName(dst, perr.Name), expected(perr.Type)
	}
	var verr env.VarIsNotSetError
	if errors.As(err, &verr) {
		return verr.Key, "is required"
	}
	var eerr env.EmptyVarError
	if errors.As(err, &eerr) {
		return eerr.Key, "must not be empty"
	}
	return "", err.Error()
}

// envName finds the variable behind the struct field the env library names.
func envName(cfg any, field string) string {
	var found string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField() && found == ""; i++ {
			f := t.Field(i)
			if tag, ok := f.Tag.Lookup("env"); ok && f.Name == field {
				found = strings.Split(tag, ",")[0]
			} else if f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(cfg))
	if found == "" {
		return field
	}
	return found
}

func expected(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(time.Duration(0)):
		return "must be a duration such as 15s, 500ms or 2m"
	case t.Kind() == reflect.Bool:
		return "must be true or false"
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return "must be a whole number"
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return "must be a number"
	default:
		return "cannot be parsed as " + t.String()
	}
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Keys lists the environment variable names that cfg (a struct or a pointer
// to one) reads, including those of embedded structs.
func Keys(cfg any) []string {
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if name, ok := f.Tag.Lookup("env"); ok {
				keys = append(keys, strings.Split(name, ",")[0])
				continue
			}
			if f.Type.Kind() == reflect.Struct || (f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct) {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(cfg))
	return keys
}

// CheckExample reports how the variables documented in an .env.example file
// (KEY=value lines, commented-out "# KEY=value" lines count too) differ from
// those cfg reads: a variable the code reads but the file does not document,
// or one the file documents but the code ignores.
func CheckExample(path string, cfg any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read example: %w", err)
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimSpace(strings.TrimPrefix(line, "#"))
		k, _, ok := strings.Cut(line, "=")
		if ok && isEnvName(k) {
			documented[k] = true
		}
	}
	read := map[string]bool{}
	var problems []string
	for _, k := range Keys(cfg) {
		read[k] = true
		if !documented[k] {
			problems = append(problems, k+": read by the service but missing from "+path)
		}
	}
	for k := range documented {
		if !read[k] {
			problems = append(problems, k+": documented in "+path+" but not read by the service")
		}
	}
	if len(problems) > 0 {
		return &Error{Problems: problems}
	}
	return nil
}

func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// List splits a comma-separated variable (several tokens or keys, to allow
// rotation) into its trimmed, non-empty items.
func List(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}
