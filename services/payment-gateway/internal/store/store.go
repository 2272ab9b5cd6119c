// Package store keeps the gateway's payment intents, refunds and event log
// in a relational database through gorm: PostgreSQL in production, embedded
// SQLite for development, with the same behaviour on both (one test suite
// runs on each). It converts between its gorm models and the domain types
// of package payment.
//
// # State changes
//
// Every change of an intent is one conditional UPDATE whose WHERE clause
// states the rule the domain checked in memory (the status it moves from;
// for a refund, that the running total stays within the amount), and the
// affected-row count says whether the rule still held. Two requests racing,
// on one replica or on several, therefore cannot both win: on PostgreSQL
// the second UPDATE waits for the first's row lock and re-checks its
// condition on the new row; SQLite runs one write transaction at a time.
// CHECK constraints back this up in the schema (0 <= amount_refunded <=
// amount).
//
// # The outbox
//
// The event a state change produces is inserted in the same transaction as
// the change itself, into the events table: either both are committed or
// neither is. The events table is also the webhook queue (see outbox.go):
// its delivery columns say whether an event is pending, delivered or
// failed, and a dispatcher claims a pending event for one attempt with a
// lease taken by a conditional UPDATE, so that replicas never send the same
// attempt twice and a crashed dispatcher's event is retried once its lease
// has run out.
//
// # Card data
//
// Only what payment.CardDetails holds (brand, last four digits, expiry) is
// ever written; the models have no column that could take a card number or
// a CVC.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
)

// Lookups of an id that does not exist. The API answers 404 to each.
var (
	ErrIntentNotFound = errors.New("payment intent not found")
	ErrEventNotFound  = errors.New("event not found")
)

// Store reads and writes the gateway's data. It is safe for concurrent use
// and holds no state besides the pool.
type Store struct {
	db *gorm.DB
}

// New returns a Store on gdb, which pkg/db.Open opened (error translation
// on, so unique violations surface as db.ErrDuplicate).
func New(gdb *gorm.DB) *Store { return &Store{db: gdb} }

// models lists the tables in creation order (foreign keys point backwards).
func models() []any {
	return []any{&intentModel{}, &refundModel{}, &eventModel{}, &attemptModel{}}
}

// Migrate creates or updates the schema. Two replicas may call it at once
// (pkg/db.Migrate serialises them on PostgreSQL; SQLite has one writer).
// shared are the models of other packages that keep tables in the same
// database (the idempotency keys), migrated in the same transaction.
func Migrate(ctx context.Context, gdb *gorm.DB, shared ...any) error {
	if err := db.Migrate(ctx, gdb, append(models(), shared...)); err != nil {
		return fmt.Errorf("migrate payment store: %w", err)
	}
	return nil
}

// Ready checks that the database answers and holds the gateway's tables,
// for the readiness probe: a database that is up but not migrated cannot
// serve.
func (s *Store) Ready(ctx context.Context) error {
	for _, table := range []string{"payment_intents", "refunds", "events", "delivery_attempts"} {
		var n int64
		// Selecting from each table fails if it is missing; LIMIT keeps it
		// cheap whatever its size.
		if err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " LIMIT 1) AS t").Scan(&n).Error; err != nil {
			return fmt.Errorf("check table %s: %w", table, err)
		}
	}
	return nil
}

// Id prefixes: the type of an object shows in its id, so an id pasted in
// the wrong place is recognisable at a glance.
const (
	IntentIDPrefix = "pi_"
	RefundIDPrefix = "re_"
	EventIDPrefix  = "evt_"
)

// NewID returns prefix followed by a fresh UUIDv7 in its 32 hex digits
// (DESIGN §2 asks for UUIDs; version 7 sorts by creation time, which keeps
// the primary-key index compact on PostgreSQL).
func NewID(prefix string) string {
	id, err := uuid.NewV7()
	if err != nil {
		// Only a failing random source gets here; v4 uses it too, so
		// this panics in the same situation, as uuid.New does.
		id = uuid.New()
	}
	return prefix + strings.ReplaceAll(id.String(), "-", "")
}

// dbTime is how every time is written: UTC, microsecond precision, as
// PostgreSQL keeps it, so that a value read back equals the value written
// on both engines and an event's body is the same at every delivery.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}
