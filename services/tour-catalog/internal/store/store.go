// Package store keeps the catalog in a relational database through gorm:
// PostgreSQL in production, embedded SQLite for development, with the same
// behaviour on both (one test suite runs on each). It converts between its
// own gorm models and the domain types of package catalog.
//
// # Capacity and holds
//
// Seats are never counted by reading and then writing. Every change to a
// departure's seats_reserved is one conditional UPDATE whose WHERE clause
// states the rule (enough seats left; the hold still in the state that
// owns the seats), and the affected-row count says whether the rule held.
// Two requests racing, on one replica or on several, therefore cannot both
// win: on PostgreSQL the second UPDATE waits for the first's row lock and
// re-checks its condition on the new row; SQLite runs one write transaction
// at a time. A CHECK constraint (0 <= seats_reserved <= capacity) backs
// this up in the schema.
//
// Every transaction that touches both holds and departures locks the hold
// rows first and then departure rows in id order, so they cannot deadlock.
//
// # API
//
//	New(gdb) *Store; Migrate(ctx, gdb); (*Store).Ready(ctx)
//	Tours:      CreateTour, UpdateTour, ArchiveTour, GetTour, SearchTours,
//	            TourDetail (a tour with its upcoming departures, one query)
//	Departures: CreateDeparture, UpdateDeparture, GetDeparture,
//	            ListDepartures, UpcomingDepartures
//	Holds:      PlaceHold, ConfirmHold, ReleaseHold, GetHold, ReleaseExpired
//	Demo data:  SeedDemoData
//
// Writes take "now" from the caller (a clock in production, a fixed time in
// tests). Inputs are validated again here, so an invalid value can never be
// written whatever the caller did; failures come back as *validate.Error.
// Outcomes are the catalog's error values (catalog.ErrNotFound, ...),
// wrapped with the operation's name: match them with errors.Is.
//
// # Decisions
//
//   - Archived tours stay readable by id and by slug (GetTour, departures),
//     are hidden from SearchTours, refuse edits, new departures and new
//     holds (catalog.ErrTourArchived), while their existing holds can still
//     be confirmed and released. Their slug stays taken.
//   - A departure whose date has passed refuses new holds
//     (catalog.ErrDepartureClosed).
//   - Replaying PlaceHold for a booking returns its one hold whatever its
//     status now; the caller reads Status.
package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tourism-go/tourism/pkg/db"
)

// Store reads and writes the catalog. It is safe for concurrent use and
// holds no state besides the pool.
type Store struct {
	db *gorm.DB
}

// New returns a Store on gdb, which pkg/db.Open opened (error translation
// on, so unique violations surface as db.ErrDuplicate).
func New(gdb *gorm.DB) *Store { return &Store{db: gdb} }

// models lists the tables in creation order (foreign keys point backwards).
func models() []any { return []any{&tourModel{}, &departureModel{}, &holdModel{}} }

// Migrate creates or updates the schema. Two replicas may call it at once
// (pkg/db.Migrate serialises them on PostgreSQL; SQLite has one writer).
func Migrate(ctx context.Context, gdb *gorm.DB) error {
	// Case-insensitive destination filter: an expression index both
	// engines understand.
	extra := []string{
		`CREATE INDEX IF NOT EXISTS tours_destination_lower ON tours (LOWER(destination))`,
	}
	if err := db.Migrate(ctx, gdb, models(), extra...); err != nil {
		return fmt.Errorf("migrate catalog: %w", err)
	}
	return nil
}

// Ready checks that the database answers and holds the catalog's tables,
// for the readiness probe: a database that is up but not migrated cannot
// serve.
func (s *Store) Ready(ctx context.Context) error {
	for _, table := range []string{"tours", "departures", "holds"} {
		var n int64
		// Selecting from each table fails if it is missing; LIMIT keeps it
		// cheap whatever its size.
		if err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM " + table + " LIMIT 1) AS t").Scan(&n).Error; err != nil {
			return fmt.Errorf("check table %s: %w", table, err)
		}
	}
	return nil
}

// forUpdate locks the selected rows until the transaction ends. On SQLite
// the whole write transaction is already exclusive (pkg/db opens it with
// BEGIN IMMEDIATE), so the clause is left out there.
func forUpdate(tx *gorm.DB) *gorm.DB {
	if db.IsPostgres(tx) {
		return tx.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	return tx
}
