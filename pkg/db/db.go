// Package db opens the service's database: PostgreSQL through gorm's postgres
// driver (pgx) when a URL is configured, otherwise an embedded SQLite file
// (pure Go, no cgo) so that `go run` and a bare `docker run` work with nothing
// else running. Behaviour that matters (capacity, idempotency) is written with
// SQL that both engines execute the same way.
package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Config says which database to open and how to size its pool.
type Config struct {
	// URL is a PostgreSQL URL; empty selects SQLite at SQLitePath.
	URL             string
	SQLitePath      string
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// SlowQuery is the threshold above which a query is logged as slow; 0 turns it off.
	SlowQuery time.Duration
}

// DefaultConnectTimeout bounds each attempt to open a PostgreSQL connection:
// the name lookup, TCP, TLS and authentication together. pgx's own
// connect_timeout leaves the name lookup out, and database/sql opens
// connections in the background with a context that is never cancelled, so
// without this bound a database that stops answering instead of refusing
// (a name lookup that stalls, a host gone from the network) holds requests
// and pool slots for as long as the resolver or the kernel keeps trying,
// seconds to minutes. With it they fail within seconds and are answered 503
// (IsUnavailable) like a refused connection.
const DefaultConnectTimeout = 10 * time.Second

// DefaultLookupTimeout bounds the name lookup of a PostgreSQL host, within
// DefaultConnectTimeout. A compose service's name is answered in
// milliseconds; when its container is stopped, Docker's DNS forwards the
// unknown name to the host's resolvers, and where those do not answer the
// lookup waits out the resolver's 5 s timeout on every new connection.
// Requests that need the database then fail after this, not after 5 s.
const DefaultLookupTimeout = 2 * time.Second

// boundedLookup is lookup with at most timeout per call.
func boundedLookup(lookup pgconn.LookupFunc, timeout time.Duration) pgconn.LookupFunc {
	return func(ctx context.Context, host string) ([]string, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return lookup(ctx, host)
	}
}

// boundedConnector gives every connection attempt at most timeout.
type boundedConnector struct {
	driver.Connector
	timeout time.Duration
}

func (c boundedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.Connector.Connect(ctx)
}

// openPostgres opens dsn as gorm's postgres driver does (pgx through
// database/sql), with every connection attempt bounded by
// DefaultConnectTimeout.
func openPostgres(dsn string, gcfg *gorm.Config) (*gorm.DB, error) {
	pcfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	pcfg.LookupFunc = boundedLookup(pcfg.LookupFunc, DefaultLookupTimeout)
	sqlDB := sql.OpenDB(boundedConnector{Connector: stdlib.GetConnector(*pcfg), timeout: DefaultConnectTimeout})
	gdb, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), gcfg)
	if err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return gdb, nil
}

// ErrDuplicate is returned (wrapped) when an insert hits a unique constraint,
// on either engine, because Open turns on gorm's error translation.
var ErrDuplicate = gorm.ErrDuplicatedKey

// Open connects and checks the connection with a ping bounded by ctx.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*gorm.DB, error) {
	gcfg := &gorm.Config{
		TranslateError: true,
		// Timestamps are stored in UTC whatever the container's zone.
		NowFunc: func() time.Time { return time.Now().UTC() },
		Logger:  newLogger(log, cfg.SlowQuery),
		// Each write is already one statement or an explicit transaction;
		// gorm's implicit per-statement transaction would only add round trips.
		SkipDefaultTransaction: true,
	}
	var (
		gdb *gorm.DB
		err error
	)
	if cfg.URL != "" {
		gdb, err = openPostgres(cfg.URL, gcfg)
	} else {
		gdb, err = openSQLite(cfg.SQLitePath, gcfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if cfg.URL != "" {
		if cfg.MaxOpenConns > 0 {
			sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
		}
		if cfg.MaxIdleConns > 0 {
			sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
		}
		if cfg.ConnMaxLifetime > 0 {
			sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
		}
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return gdb, nil
}

func openSQLite(path string, gcfg *gorm.Config) (*gorm.DB, error) {
	if path == "" {
		return nil, errors.New("no DATABASE_URL and no SQLITE_PATH")
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create sqlite directory: %w", err)
		}
	}
	// WAL lets readers proceed during a write; busy_timeout makes a writer
	// wait for the lock instead of failing at once; foreign keys are off by
	// default in SQLite and on in PostgreSQL, so turn them on to match.
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_txlock", "immediate")
	// In a file: URI, '?' and '#' end the path and '%' starts an escape.
	escaped := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(path)
	gdb, err := gorm.Open(sqlite.Open("file:"+escaped+"?"+q.Encode()), gcfg)
	if err != nil {
		return nil, err
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	// SQLite has one writer at a time. One connection turns lock contention
	// into queueing in database/sql, which is fair and never returns
	// SQLITE_BUSY; the embedded mode is for development and demos.
	sqlDB.SetMaxOpenConns(1)
	return gdb, nil
}

// IsPostgres reports whether gdb talks to PostgreSQL.
func IsPostgres(gdb *gorm.DB) bool { return gdb.Dialector.Name() == "postgres" }

// Ping checks that the database answers within ctx.
func Ping(ctx context.Context, gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Close closes the pool.
func Close(gdb *gorm.DB) error {
	sqlDB, err := gdb.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Migrate brings the schema up to date for models. On PostgreSQL it holds a
// transaction-scoped advisory lock named after the database, so that two
// replicas starting at the same moment migrate one after the other instead of
// racing on CREATE TABLE; DDL is transactional there, so a failed migration
// leaves nothing half-applied. extra statements (indexes gorm tags cannot
// express, check constraints) run in the same transaction after AutoMigrate
// and must be idempotent (IF NOT EXISTS).
//
// A migration that completes records a fingerprint of models and extra in
// the schema_fingerprints table, in the same transaction; a start whose
// fingerprint is recorded skips AutoMigrate. On PostgreSQL AutoMigrate asks
// information_schema about every column, index and constraint, tens of
// queries that made up most of a service's start-up (about 0.7 of 0.75 s)
// even when nothing had changed. Any change to a model's fields or tags,
// or to extra, changes the fingerprint and migrates as before.
func Migrate(ctx context.Context, gdb *gorm.DB, models []any, extra ...string) error {
	fp := schemaFingerprint(models, extra)
	if schemaApplied(gdb.WithContext(ctx), fp) {
		return nil
	}
	return gdb.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if IsPostgres(tx) {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", lockKey(tx)).Error; err != nil {
				return fmt.Errorf("take migration lock: %w", err)
			}
		}
		if err := tx.AutoMigrate(models...); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		for _, stmt := range extra {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("migrate %q: %w", firstWords(stmt), err)
			}
		}
		if err := tx.Exec(`CREATE TABLE IF NOT EXISTS ` + schemaTable + ` (fingerprint VARCHAR(64) PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`).Error; err != nil {
			return fmt.Errorf("migrate: record schema: %w", err)
		}
		if err := tx.Exec(`INSERT INTO `+schemaTable+` (fingerprint, applied_at) VALUES (?, ?) ON CONFLICT (fingerprint) DO NOTHING`,
			fp, time.Now().UTC()).Error; err != nil {
			return fmt.Errorf("migrate: record schema: %w", err)
		}
		return nil
	})
}

// schemaTable holds the fingerprints of the schemas Migrate applied.
const schemaTable = "schema_fingerprints"

// schemaApplied reports whether the schema of fingerprint fp was migrated
// completely before. Any error (the table does not exist yet) means no.
// It runs outside the migration's transaction: on PostgreSQL a failed
// statement would abort that transaction.
func schemaApplied(gdb *gorm.DB, fp string) bool {
	var n int64
	err := gdb.Raw("SELECT COUNT(*) FROM "+schemaTable+" WHERE fingerprint = ?", fp).Scan(&n).Error
	return err == nil && n == 1
}

// schemaFingerprint hashes what AutoMigrate reads: every model's type, its
// fields' names, types and tags (embedded and nested structs included),
// its table name, and the extra statements.
func schemaFingerprint(models []any, extra []string) string {
	h := sha256.New()
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		fmt.Fprintf(h, "type %s.%s\n", t.PkgPath(), t.Name())
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(h, "  %s %s %q\n", f.Name, f.Type, f.Tag)
			walk(f.Type)
		}
	}
	fmt.Fprintln(h, "schema fingerprint v1")
	for _, m := range models {
		if tn, ok := m.(interface{ TableName() string }); ok {
			fmt.Fprintf(h, "table %s\n", tn.TableName())
		}
		walk(reflect.TypeOf(m))
	}
	for _, stmt := range extra {
		fmt.Fprintf(h, "extra %s\n", stmt)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func lockKey(tx *gorm.DB) int64 {
	var name string
	_ = tx.Raw("SELECT current_database()").Scan(&name).Error
	h := fnv.New64a()
	_, _ = h.Write([]byte("schema-migration:" + name))
	return int64(h.Sum64() >> 1)
}

func firstWords(s string) string {
	f := strings.Fields(s)
	if len(f) > 6 {
		f = f[:6]
	}
	return strings.Join(f, " ")
}

// newLogger routes gorm's own logging into slog: errors other than "record
// not found" (an expected outcome, handled by callers) and slow queries.
func newLogger(log *slog.Logger, slow time.Duration) logger.Interface {
	if log == nil {
		return logger.Discard
	}
	return &slogLogger{log: log, slow: slow}
}

type slogLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func (l *slogLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *slogLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.InfoContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *slogLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *slogLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

func (l *slogLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	elapsed := time.Since(begin)
	switch {
	case err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && !errors.Is(err, context.Canceled) && !errors.Is(err, gorm.ErrDuplicatedKey):
		sql, rows := fc()
		l.log.DebugContext(ctx, "query failed", "err", err, "sql", sql, "rows", rows, "elapsed", elapsed)
	case l.slow > 0 && elapsed > l.slow:
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "sql", sql, "rows", rows, "elapsed", elapsed)
	}
}
