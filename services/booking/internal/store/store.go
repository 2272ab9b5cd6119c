// Package store keeps bookings and processed webhook events in the
// service's database through gorm: PostgreSQL in production, embedded
// SQLite for development, with the same behaviour on both (one test suite
// runs on each). It converts between its gorm models and the domain types of
// package booking.
//
// # Leases and conditional updates
//
// A booking is changed by one actor at a time: a request (create, pay,
// cancel), a webhook, or a worker of any replica. Each first claims the
// booking with one conditional UPDATE that succeeds only when nobody holds
// an unexpired lease on it (and, for workers, only while it is still in the
// status they selected it for); the affected-row count says who won, so two
// replicas never process one booking twice. Every later write is again
// conditional on the expected status and on still owning the lease, so an
// actor whose lease lapsed (it stalled, someone else took over) cannot
// overwrite newer state: it gets booking.ErrStale instead. A crashed actor's
// lease simply expires, and the reconciler picks the booking up.
package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Store reads and writes bookings.
type Store struct {
	db *gorm.DB
}

// New returns a store over gdb.
func New(gdb *gorm.DB) *Store { return &Store{db: gdb} }

// unsettled is the predicate of bookings the reconciler must look at:
// creations that never finished, final bookings that may still hold seats,
// cancellations interrupted half-way, and charges whose outcome was never
// recorded. It is both the reconciler's query and a partial index, so the
// query stays cheap however many settled bookings accumulate.
const unsettled = `status = 'pending'
 OR (status IN ('rejected','expired','cancelled') AND hold_state IN ('requested','held','confirmed'))
 OR (status IN ('awaiting_payment','confirmed') AND cancel_requested)
 OR (status = 'awaiting_payment' AND charge_in_flight)`

// Migrate brings the schema up to date. more are the models of other
// packages that share the database (the idempotency keys), migrated in the
// same transaction under the same lock.
func Migrate(ctx context.Context, gdb *gorm.DB, more ...any) error {
	return db.Migrate(ctx, gdb, append([]any{&bookingModel{}, &processedEventModel{}}, more...),
		// The admin list filters by email whatever its case.
		`CREATE INDEX IF NOT EXISTS bookings_email_lower ON bookings (lower(customer_email), id)`,
		`CREATE INDEX IF NOT EXISTS bookings_unsettled ON bookings (id) WHERE `+strings.ReplaceAll(unsettled, "\n", ""),
	)
}

// Ready reports whether the schema is in place, for /readyz: a replica
// whose database lost (or never had) its tables must not take traffic.
func (s *Store) Ready(ctx context.Context) error {
	for _, table := range []string{"bookings", "processed_webhook_events"} {
		if err := s.db.WithContext(ctx).Exec("SELECT 1 FROM " + table + " WHERE 1 = 0").Error; err != nil {
			return fmt.Errorf("table %s: %w", table, err)
		}
	}
	return nil
}

// Lease is a claim on a booking: Owner (unique per operation) may change it
// until Until.
type Lease struct {
	Owner string
	Until time.Time
}

// Create inserts b, already leased to lease's owner: the creator keeps it
// while it asks the catalog for seats.
func (s *Store) Create(ctx context.Context, b booking.Booking, lease Lease) error {
	m, err := toModel(b)
	if err != nil {
		return err
	}
	m.LeaseOwner = lease.Owner
	m.LeaseUntil = dbTimePtr(&lease.Until)
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		return fmt.Errorf("insert booking: %w", err)
	}
	return nil
}

// Get returns the booking with id, or booking.ErrNotFound.
func (s *Store) Get(ctx context.Context, id uuid.UUID) (booking.Booking, error) {
	var m bookingModel
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return booking.Booking{}, booking.ErrNotFound
	}
	if err != nil {
		return booking.Booking{}, fmt.Errorf("read booking: %w", err)
	}
	return fromModel(m)
}

// Claim takes the lease on booking id when nobody holds an unexpired one
// and, when statuses are given, while the booking is in one of them; it
// returns the booking as claimed. Otherwise it returns booking.ErrNotFound,
// booking.ErrStale (the booking left those statuses) or booking.ErrBusy
// (someone else holds the lease).
func (s *Store) Claim(ctx context.Context, id uuid.UUID, lease Lease, now time.Time, statuses ...booking.Status) (booking.Booking, error) {
	if lease.Owner == "" {
		return booking.Booking{}, errors.New("claim booking: empty lease owner")
	}
	// RETURNING hands back the claimed row in the same statement: one
	// round trip and one transaction per claim instead of two, on both
	// engines. The row is read again only to explain a refusal.
	var claimed bookingModel
	q := s.db.WithContext(ctx).Model(&claimed).Clauses(clause.Returning{}).
		Where("id = ?", id).
		Where("(lease_until IS NULL OR lease_until <= ?)", dbTime(now))
	if len(statuses) > 0 {
		q = q.Where("status IN ?", statusStrings(statuses))
	}
	res := q.Updates(map[string]any{"lease_owner": lease.Owner, "lease_until": dbTime(lease.Until)})
	if res.Error != nil {
		return booking.Booking{}, fmt.Errorf("claim booking: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return fromModel(claimed)
	}
	b, err := s.Get(ctx, id)
	if err != nil {
		return booking.Booking{}, err
	}
	if len(statuses) > 0 && !slices.Contains(statuses, b.Status) {
		return b, fmt.Errorf("booking is %s: %w", b.Status, booking.ErrStale)
	}
	return b, booking.ErrBusy
}

// Save writes b's mutable fields if the stored booking is still in status
// from and leased to lease.Owner; otherwise it returns booking.ErrStale and
// writes nothing. The lease is kept (and extended to lease.Until).
func (s *Store) Save(ctx context.Context, b booking.Booking, from booking.Status, lease Lease) error {
	return s.save(ctx, b, from, lease, false)
}

// SaveAndRelease is Save followed by Release in one statement, for an
// operation's last write: one transaction (one commit) instead of two.
func (s *Store) SaveAndRelease(ctx context.Context, b booking.Booking, from booking.Status, lease Lease) error {
	return s.save(ctx, b, from, lease, true)
}

func (s *Store) save(ctx context.Context, b booking.Booking, from booking.Status, lease Lease, release bool) error {
	if lease.Owner == "" {
		// A released booking has an empty owner; an empty lease must not
		// match it.
		return booking.ErrStale
	}
	m, err := toModel(b)
	if err != nil {
		return err
	}
	set := map[string]any{
		"status":            m.Status,
		"tour_id":           m.TourID,
		"total_amount":      m.TotalAmount,
		"total_currency":    m.TotalCurrency,
		"hold_id":           m.HoldID,
		"hold_expires_at":   m.HoldExpiresAt,
		"payment_intent_id": m.PaymentIntentID,
		"history":           m.History,
		"hold_state":        m.HoldState,
		"payment_attempt":   m.PaymentAttempt,
		"charge_in_flight":  m.ChargeInFlight,
		"cancel_requested":  m.CancelRequested,
		"lease_until":       dbTime(lease.Until),
		"updated_at":        m.UpdatedAt,
	}
	if release {
		set["lease_owner"], set["lease_until"] = "", nil
	}
	res := s.db.WithContext(ctx).Model(&bookingModel{}).
		Where("id = ? AND status = ? AND lease_owner = ?", b.ID, string(from), lease.Owner).
		Updates(set)
	if res.Error != nil {
		return fmt.Errorf("save booking: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return booking.ErrStale
	}
	return nil
}

// Release gives the lease up, if owner still holds it.
func (s *Store) Release(ctx context.Context, id uuid.UUID, owner string) error {
	err := s.db.WithContext(ctx).Model(&bookingModel{}).
		Where("id = ? AND lease_owner = ?", id, owner).
		Updates(map[string]any{"lease_owner": "", "lease_until": nil}).Error
	if err != nil {
		return fmt.Errorf("release booking: %w", err)
	}
	return nil
}

// Overdue lists up to limit bookings still awaiting payment at or after
// their deadline that nobody is working on, oldest deadline first.
func (s *Store) Overdue(ctx context.Context, now time.Time, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Model(&bookingModel{}).
		Where("status = ? AND hold_expires_at <= ?", string(booking.StatusAwaitingPayment), dbTime(now)).
		Where("(lease_until IS NULL OR lease_until <= ?)", dbTime(now)).
		Order("hold_expires_at").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list overdue bookings: %w", err)
	}
	return ids, nil
}

// Unsettled lists up to limit bookings the reconciler must finish (see
// unsettled) that nobody is working on.
func (s *Store) Unsettled(ctx context.Context, now time.Time, limit int) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := s.db.WithContext(ctx).Model(&bookingModel{}).
		Where("("+strings.ReplaceAll(unsettled, "\n", "")+")").
		Where("(lease_until IS NULL OR lease_until <= ?)", dbTime(now)).
		Order("id").Limit(limit).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("list unsettled bookings: %w", err)
	}
	return ids, nil
}

// Filter selects bookings for the admin list.
type Filter struct {
	Status booking.Status // empty: any
	Email  string         // empty: any; compared without regard to case
	Limit  int
	Cursor string // from a previous Page.Next
}

// Page is one page of a list, newest first.
type Page struct {
	Bookings []booking.Booking
	// Next is the cursor of the following page, "" on the last one.
	Next string
}

// List returns the bookings matching f, newest first. Pages are keyed by id
// (UUIDv7, so creation order): rows created meanwhile never shift a page.
func (s *Store) List(ctx context.Context, f Filter) (Page, error) {
	q := s.db.WithContext(ctx).Model(&bookingModel{})
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Email != "" {
		q = q.Where("lower(customer_email) = ?", strings.ToLower(f.Email))
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return Page{}, err
		}
		q = q.Where("id < ?", after)
	}
	var rows []bookingModel
	if err := q.Order("id DESC").Limit(f.Limit + 1).Find(&rows).Error; err != nil {
		return Page{}, fmt.Errorf("list bookings: %w", err)
	}
	var page Page
	if len(rows) > f.Limit {
		rows = rows[:f.Limit]
		page.Next = encodeCursor(rows[len(rows)-1].ID)
	}
	page.Bookings = make([]booking.Booking, 0, len(rows))
	for _, m := range rows {
		b, err := fromModel(m)
		if err != nil {
			return Page{}, err
		}
		page.Bookings = append(page.Bookings, b)
	}
	return page, nil
}

type cursorWire struct {
	After string `json:"after"`
}

// encodeCursor returns the opaque position after id. It is not signed: the
// list is admin-only, and an edited cursor only moves the admin's own
// position.
func encodeCursor(id uuid.UUID) string {
	b, _ := json.Marshal(cursorWire{After: id.String()}) // a struct of strings always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (uuid.UUID, error) {
	bad := &validate.Error{Fields: []validate.FieldError{{Field: "cursor", Detail: "is not a cursor from this list"}}}
	if len(s) > 256 {
		return uuid.Nil, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return uuid.Nil, bad
	}
	var w cursorWire
	if err := json.Unmarshal(raw, &w); err != nil {
		return uuid.Nil, bad
	}
	id, err := uuid.Parse(w.After)
	if err != nil || len(w.After) != 36 {
		return uuid.Nil, bad
	}
	return id, nil
}

// EventProcessed reports whether the webhook event id was applied already.
func (s *Store) EventProcessed(ctx context.Context, id string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&processedEventModel{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up webhook event: %w", err)
	}
	return n > 0, nil
}

// MarkEventProcessed records that event id was applied. It reports false,
// without error, when it was recorded already (a concurrent redelivery).
func (s *Store) MarkEventProcessed(ctx context.Context, id, eventType string, at time.Time) (bool, error) {
	err := s.db.WithContext(ctx).Create(&processedEventModel{ID: id, Type: eventType, ProcessedAt: dbTime(at)}).Error
	if errors.Is(err, db.ErrDuplicate) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record webhook event: %w", err)
	}
	return true, nil
}

func statusStrings(ss []booking.Status) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}
