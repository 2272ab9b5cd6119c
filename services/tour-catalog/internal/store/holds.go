package store

import (
	"context"
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
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// DefaultSweepLimit is how many expired holds ReleaseExpired handles in one
// call when given no limit.
const DefaultSweepLimit = 100

// PlaceHold reserves seats of a departure for a booking until now+ttl, at
// the departure's effective price, and reports whether it created the hold.
//
// It is idempotent by booking: when the booking already has a hold, that
// hold is returned with created=false, whatever its status, and no seat is
// taken again; if that hold is for another departure or another number of
// seats, the result is catalog.ErrBookingMismatch. This holds for
// concurrent requests too: the unique booking_id makes the loser of a race
// roll back its seats and return the winner's hold.
//
// Errors: *validate.Error (seats 1..20, ttl 30s..1h, a nil booking id),
// catalog.ErrNotFound (departure), catalog.ErrTourArchived,
// catalog.ErrDepartureClosed, catalog.ErrSeatsUnavailable,
// catalog.ErrBookingMismatch.
func (s *Store) PlaceHold(ctx context.Context, departureID, bookingID uuid.UUID, seats int, ttl time.Duration, now time.Time) (catalog.Hold, bool, error) {
	var c validate.Collector
	c.Check(bookingID != uuid.Nil, "booking_id", "must be a UUID")
	c.Merge("", catalog.ValidateHold(seats, ttl))
	if err := c.Err(); err != nil {
		return catalog.Hold{}, false, fmt.Errorf("place hold: %w", err)
	}
	now = dbTime(now)
	today := catalog.Today(now).String()

	var (
		hold    holdModel
		created bool
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if m, found, err := holdByBooking(tx, bookingID); err != nil || found {
			hold = m
			return err
		}
		// The capacity rule, the archive rule and the date rule in one
		// atomic statement: never read-then-write.
		res := tx.Exec(`UPDATE departures SET seats_reserved = seats_reserved + ?, updated_at = ?
			WHERE id = ? AND seats_reserved + ? <= capacity AND starts_on >= ?
			AND EXISTS (SELECT 1 FROM tours WHERE tours.id = departures.tour_id AND tours.archived_at IS NULL)`,
			seats, now, departureID, seats, today)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// A concurrent request for the same booking may have
			// taken the last seats and committed while this UPDATE
			// waited: its hold is this request's answer. (Each
			// statement sees the latest commits on both engines.)
			if m, found, err := holdByBooking(tx, bookingID); err != nil || found {
				hold = m
				return err
			}
			return whyNoSeats(tx, departureID, seats, today)
		}
		row, err := departureByID(tx, departureID)
		if err != nil {
			return err
		}
		dep, err := departureFromRow(row)
		if err != nil {
			return err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("new id: %w", err)
		}
		hold = holdModel{
			ID:                id,
			DepartureID:       departureID,
			BookingID:         bookingID,
			Seats:             seats,
			UnitPriceAmount:   dep.Price.Amount,
			UnitPriceCurrency: dep.Price.Currency,
			Status:            string(catalog.HoldHeld),
			ExpiresAt:         dbTime(now.Add(ttl)),
			CreatedAt:         now,
			UpdatedAt:         now,
		}
		// A concurrent first request for this booking that committed its
		// hold after our lookup makes this insert fail on the unique
		// booking_id; returning the error rolls our seats back.
		if err := tx.Create(&hold).Error; err != nil {
			return err
		}
		created = true
		return nil
	})
	if errors.Is(err, db.ErrDuplicate) {
		var found bool
		hold, found, err = holdByBooking(s.db.WithContext(ctx), bookingID)
		if err == nil && !found {
			err = errors.New("hold vanished after a duplicate booking id")
		}
		created = false
	}
	if err != nil {
		return catalog.Hold{}, false, fmt.Errorf("place hold: %w", err)
	}
	if !created && (hold.DepartureID != departureID || hold.Seats != seats) {
		return catalog.Hold{}, false, fmt.Errorf("place hold: booking %s: %w", bookingID, catalog.ErrBookingMismatch)
	}
	return holdFromModel(hold), created, nil
}

// whyNoSeats explains a seat reservation that changed no row, reading the
// departure only to choose the error (the decision was the UPDATE's).
func whyNoSeats(tx *gorm.DB, departureID uuid.UUID, seats int, today string) error {
	row, err := departureByID(tx, departureID)
	switch {
	case err != nil:
		return err // catalog.ErrNotFound included
	case row.TourArchivedAt != nil:
		return catalog.ErrTourArchived
	case row.Departure.StartsOn < today:
		return catalog.ErrDepartureClosed
	default:
		return fmt.Errorf("%d wanted, %d left: %w", seats, row.Departure.Capacity-row.Departure.SeatsReserved, catalog.ErrSeatsUnavailable)
	}
}

func holdByBooking(tx *gorm.DB, bookingID uuid.UUID) (holdModel, bool, error) {
	var rows []holdModel
	if err := tx.Where("booking_id = ?", bookingID).Limit(1).Find(&rows).Error; err != nil {
		return holdModel{}, false, err
	}
	if len(rows) == 0 {
		return holdModel{}, false, nil
	}
	return rows[0], true, nil
}

func holdByID(tx *gorm.DB, id uuid.UUID) (holdModel, error) {
	var m holdModel
	if err := tx.Where("id = ?", id).Take(&m).Error; err != nil {
		return holdModel{}, notFound(err)
	}
	return m, nil
}

// GetHold returns a hold by id.
func (s *Store) GetHold(ctx context.Context, id uuid.UUID) (catalog.Hold, error) {
	m, err := holdByID(s.db.WithContext(ctx), id)
	if err != nil {
		return catalog.Hold{}, fmt.Errorf("get hold: %w", err)
	}
	return holdFromModel(m), nil
}

// ConfirmHold turns a held, unexpired hold into a confirmed one; the seats
// stay reserved for good. Confirming a confirmed hold returns it unchanged
// (a retry). A released hold gives catalog.ErrHoldReleased, or
// catalog.ErrHoldExpired when it was released for having expired. A hold
// still held but past ExpiresAt gives catalog.ErrHoldExpired and is
// released on the spot, its seats given back, without waiting for the
// sweeper. Confirming works on an archived tour's departures.
func (s *Store) ConfirmHold(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Hold, error) {
	now = dbTime(now)
	var (
		out     holdModel
		outcome error // a refusal that must still commit the release
	)
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE holds SET status = 'confirmed', updated_at = ?
			WHERE id = ? AND status = 'held' AND expires_at > ?`, now, id, now)
		if res.Error != nil {
			return res.Error
		}
		m, err := holdByID(tx, id)
		if err != nil {
			return err
		}
		out = m
		if res.RowsAffected == 1 {
			return nil
		}
		switch catalog.HoldStatus(m.Status) {
		case catalog.HoldConfirmed:
			return nil
		case catalog.HoldReleased:
			if catalog.ReleaseReason(m.ReleaseReason) == catalog.ReleasedOnExpiry {
				outcome = catalog.ErrHoldExpired
			} else {
				outcome = catalog.ErrHoldReleased
			}
			return nil
		default:
			// Still held, yet the UPDATE did not match: a status is
			// never re-entered, so it must be past its expiry.
			if _, err := releaseHold(tx, m, catalog.ReleasedOnExpiry, now); err != nil {
				return err
			}
			outcome = catalog.ErrHoldExpired
			return nil
		}
	})
	if err == nil {
		err = outcome
	}
	if err != nil {
		return catalog.Hold{}, fmt.Errorf("confirm hold: %w", err)
	}
	return holdFromModel(out), nil
}

// ReleaseHold releases a held or confirmed hold and gives its seats back,
// exactly once: releasing a released hold is a no-op that returns it. This
// is how a booking is cancelled or abandoned, including on an archived
// tour.
func (s *Store) ReleaseHold(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Hold, error) {
	now = dbTime(now)
	var out holdModel
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		m, err := holdByID(tx, id)
		if err != nil {
			return err
		}
		if _, err := releaseHold(tx, m, catalog.ReleasedByRequest, now); err != nil {
			return err
		}
		out, err = holdByID(tx, id)
		return err
	})
	if err != nil {
		return catalog.Hold{}, fmt.Errorf("release hold: %w", err)
	}
	return holdFromModel(out), nil
}

// releaseHold moves hold m to released and gives its seats back, inside
// tx, and reports whether this call did it. The status change is a
// conditional UPDATE on the statuses that own seats, so of any number of
// concurrent releases exactly one matches and only that one decrements the
// departure. With ReleasedOnExpiry it only releases a hold still held and
// past its expiry: a hold confirmed in the meantime keeps its seats.
func releaseHold(tx *gorm.DB, m holdModel, reason catalog.ReleaseReason, now time.Time) (bool, error) {
	cond, args := "id = ? AND status IN ('held', 'confirmed')", []any{m.ID}
	if reason == catalog.ReleasedOnExpiry {
		cond, args = "id = ? AND status = 'held' AND expires_at <= ?", []any{m.ID, now}
	}
	res := tx.Exec(`UPDATE holds SET status = 'released', release_reason = ?, released_at = ?, updated_at = ? WHERE `+cond,
		append([]any{string(reason), now, now}, args...)...)
	if res.Error != nil {
		return false, res.Error
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	// The hold's departure and seats never change, so m's are current.
	res = tx.Exec(`UPDATE departures SET seats_reserved = seats_reserved - ?, updated_at = ? WHERE id = ?`,
		m.Seats, now, m.DepartureID)
	if res.Error != nil {
		return false, fmt.Errorf("give seats back: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return false, fmt.Errorf("give seats back: departure %s missing", m.DepartureID)
	}
	return true, nil
}

// ReleaseExpired releases up to limit holds (DefaultSweepLimit when limit
// <= 0) that are still held at or after their expiry, gives their seats
// back, and returns how many it released. It is the background sweeper's
// one step; call it until it returns fewer than limit.
//
// Several replicas may sweep at once: each hold is released by exactly one
// of them (the conditional UPDATE of releaseHold), and on PostgreSQL
// FOR UPDATE SKIP LOCKED lets them share the work instead of queueing on
// the same rows.
func (s *Store) ReleaseExpired(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = DefaultSweepLimit
	}
	now = dbTime(now)
	released := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The literal status = 'held' lets both engines use the partial
		// index holds_held_expires_at.
		q := tx.Where("status = 'held' AND expires_at <= ?", now).Order("expires_at, id").Limit(limit)
		if db.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var due []holdModel
		if err := q.Find(&due).Error; err != nil {
			return err
		}
		// The holds are locked; update their departures in id order so
		// that two sweepers never wait on each other in a cycle.
		slices.SortFunc(due, func(a, b holdModel) int {
			if c := strings.Compare(a.DepartureID.String(), b.DepartureID.String()); c != 0 {
				return c
			}
			return strings.Compare(a.ID.String(), b.ID.String())
		})
		for _, m := range due {
			ok, err := releaseHold(tx, m, catalog.ReleasedOnExpiry, now)
			if err != nil {
				return err
			}
			if ok {
				released++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release expired holds: %w", err)
	}
	return released, nil
}
