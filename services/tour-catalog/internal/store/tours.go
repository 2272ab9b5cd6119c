package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// CreateTour validates n (after catalog's Normalize: trimmed, slug derived
// from the title when empty) and stores it as a new tour. A slug in use by
// any tour, archived or not, gives catalog.ErrSlugTaken.
func (s *Store) CreateTour(ctx context.Context, n catalog.NewTour, now time.Time) (catalog.Tour, error) {
	n = n.Normalize()
	if err := n.Validate(); err != nil {
		return catalog.Tour{}, fmt.Errorf("create tour: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return catalog.Tour{}, fmt.Errorf("create tour: new id: %w", err)
	}
	m := tourToModel(newTour(id, n, now))
	if err := s.db.WithContext(ctx).Create(&m).Error; err != nil {
		if errors.Is(err, db.ErrDuplicate) {
			// The slug is the only unique column a caller controls.
			return catalog.Tour{}, fmt.Errorf("create tour: %w", catalog.ErrSlugTaken)
		}
		return catalog.Tour{}, fmt.Errorf("create tour: %w", err)
	}
	return tourFromModel(m), nil
}

func newTour(id uuid.UUID, n catalog.NewTour, now time.Time) catalog.Tour {
	now = dbTime(now)
	return catalog.Tour{
		ID:           id,
		Slug:         n.Slug,
		Title:        n.Title,
		Summary:      n.Summary,
		Description:  n.Description,
		Destination:  n.Destination,
		DurationDays: n.DurationDays,
		Difficulty:   n.Difficulty,
		Price:        n.Price,
		MaxGroupSize: n.MaxGroupSize,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

// UpdateTour applies a partial update to a live tour and returns the
// result. An empty patch changes nothing (not even UpdatedAt). Errors:
// *validate.Error, catalog.ErrNotFound, catalog.ErrTourArchived,
// catalog.ErrSlugTaken. Changing the price's currency is refused while a
// departure of the tour has a price override in the old one.
func (s *Store) UpdateTour(ctx context.Context, id uuid.UUID, p catalog.TourPatch, now time.Time) (catalog.Tour, error) {
	p = p.Normalize()
	if err := p.Validate(); err != nil {
		return catalog.Tour{}, fmt.Errorf("update tour: %w", err)
	}
	var out catalog.Tour
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The row lock makes read-apply-write safe against a concurrent
		// patch or archive of the same tour.
		var m tourModel
		if err := forUpdate(tx).Where("id = ?", id).Take(&m).Error; err != nil {
			return notFound(err)
		}
		t := tourFromModel(m)
		if t.Archived() {
			return catalog.ErrTourArchived
		}
		if p.IsEmpty() {
			out = t
			return nil
		}
		if p.Price != nil && p.Price.Currency != t.Price.Currency {
			var n int64
			if err := tx.Model(&departureModel{}).
				Where("tour_id = ? AND price_currency IS NOT NULL AND price_currency <> ?", id, p.Price.Currency).
				Count(&n).Error; err != nil {
				return err
			}
			if n > 0 {
				var c validate.Collector
				c.Add("price.currency", "must stay "+t.Price.Currency+" while departures have prices in it")
				return c.Err()
			}
		}
		t = p.Apply(t)
		t.UpdatedAt = dbTime(now)
		m = tourToModel(t)
		err := tx.Model(&tourModel{}).Where("id = ?", id).Updates(map[string]any{
			"slug":           m.Slug,
			"title":          m.Title,
			"summary":        m.Summary,
			"description":    m.Description,
			"destination":    m.Destination,
			"duration_days":  m.DurationDays,
			"difficulty":     m.Difficulty,
			"price_amount":   m.PriceAmount,
			"price_currency": m.PriceCurrency,
			"max_group_size": m.MaxGroupSize,
			"updated_at":     m.UpdatedAt,
		}).Error
		if errors.Is(err, db.ErrDuplicate) {
			return catalog.ErrSlugTaken
		}
		out = t
		return err
	})
	if err != nil {
		return catalog.Tour{}, fmt.Errorf("update tour: %w", err)
	}
	return out, nil
}

// ArchiveTour withdraws a tour from sale and returns it. Archiving an
// archived tour changes nothing (DELETE is idempotent). Its departures and
// holds stay: confirmed travellers still travel.
func (s *Store) ArchiveTour(ctx context.Context, id uuid.UUID, now time.Time) (catalog.Tour, error) {
	now = dbTime(now)
	err := s.db.WithContext(ctx).Model(&tourModel{}).
		Where("id = ? AND archived_at IS NULL", id).
		Updates(map[string]any{"archived_at": now, "updated_at": now}).Error
	if err != nil {
		return catalog.Tour{}, fmt.Errorf("archive tour: %w", err)
	}
	t, err := s.tourByID(ctx, s.db, id)
	if err != nil {
		return catalog.Tour{}, fmt.Errorf("archive tour: %w", err)
	}
	return t, nil
}

// GetTour returns a tour by id (when idOrSlug parses as a UUID, which no
// slug may) or else by slug. Archived tours are returned too, with
// ArchivedAt set: links to them keep working.
func (s *Store) GetTour(ctx context.Context, idOrSlug string) (catalog.Tour, error) {
	if id, err := uuid.Parse(idOrSlug); err == nil {
		t, err := s.tourByID(ctx, s.db, id)
		if err != nil {
			return catalog.Tour{}, fmt.Errorf("get tour: %w", err)
		}
		return t, nil
	}
	// A string that cannot be a slug cannot match one; not asking spares
	// PostgreSQL from rejecting invalid UTF-8 with an error.
	if !utf8.ValidString(idOrSlug) || idOrSlug == "" || len(idOrSlug) > catalog.MaxSlugLen {
		return catalog.Tour{}, fmt.Errorf("get tour: %w", catalog.ErrNotFound)
	}
	var m tourModel
	if err := s.db.WithContext(ctx).Where("slug = ?", idOrSlug).Take(&m).Error; err != nil {
		return catalog.Tour{}, fmt.Errorf("get tour: %w", notFound(err))
	}
	return tourFromModel(m), nil
}

func (s *Store) tourByID(ctx context.Context, tx *gorm.DB, id uuid.UUID) (catalog.Tour, error) {
	var m tourModel
	if err := tx.WithContext(ctx).Where("id = ?", id).Take(&m).Error; err != nil {
		return catalog.Tour{}, notFound(err)
	}
	return tourFromModel(m), nil
}

// SearchTours returns one page of live (not archived) tours matching q, in
// q.Sort order, and the cursor of the next page ("" on the last page).
// Pagination is by keyset: the page after a cursor is the rows strictly
// after its (sort key, id), so concurrent inserts and deletes never repeat
// or skip a row that stays. q is validated (with defaults filled); a bad
// one gives *validate.Error.
//
// Matching: Q is a case-insensitive substring of the title, summary or
// destination (LIKE, with % and _ in Q taken literally; case folding of
// non-ASCII letters is the engine's: SQLite folds ASCII only).
// Destination is a case-insensitive equality. MinPrice and MaxPrice bound
// the tour's own price. DateFrom and DateTo keep tours with a departure
// starting in the range that still has a seat.
func (s *Store) SearchTours(ctx context.Context, q catalog.SearchQuery) ([]catalog.Tour, string, error) {
	q = q.WithDefaults()
	if err := q.Validate(); err != nil {
		return nil, "", fmt.Errorf("search tours: %w", err)
	}
	tx := s.db.WithContext(ctx).Model(&tourModel{}).Where("archived_at IS NULL")
	if q.Q != "" {
		pattern := "%" + escapeLike(strings.ToLower(q.Q)) + "%"
		tx = tx.Where(`(LOWER(title) LIKE ? ESCAPE '\' OR LOWER(summary) LIKE ? ESCAPE '\' OR LOWER(destination) LIKE ? ESCAPE '\')`,
			pattern, pattern, pattern)
	}
	if q.Destination != "" {
		tx = tx.Where("LOWER(destination) = ?", strings.ToLower(q.Destination))
	}
	if q.MinPrice != nil {
		tx = tx.Where("price_amount >= ?", *q.MinPrice)
	}
	if q.MaxPrice != nil {
		tx = tx.Where("price_amount <= ?", *q.MaxPrice)
	}
	if q.DateFrom != nil || q.DateTo != nil {
		sub := "SELECT 1 FROM departures d WHERE d.tour_id = tours.id AND d.seats_reserved < d.capacity"
		var args []any
		if q.DateFrom != nil {
			sub += " AND d.starts_on >= ?"
			args = append(args, q.DateFrom.String())
		}
		if q.DateTo != nil {
			sub += " AND d.starts_on <= ?"
			args = append(args, q.DateTo.String())
		}
		tx = tx.Where("EXISTS ("+sub+")", args...)
	}

	var after *catalog.Cursor
	if q.Cursor != "" {
		c, err := catalog.DecodeCursor(q.Sort, q.Cursor)
		if err != nil { // Validate accepted it; this cannot happen.
			return nil, "", fmt.Errorf("search tours: %w", err)
		}
		after = &c
	}
	tx = orderTours(tx, q.Sort, after)

	// One row more than the page tells whether another page follows.
	var rows []tourModel
	if err := tx.Limit(q.Limit + 1).Find(&rows).Error; err != nil {
		return nil, "", fmt.Errorf("search tours: %w", err)
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		next = catalog.TourCursor(q.Sort, tourFromModel(rows[len(rows)-1])).Encode()
	}
	tours := make([]catalog.Tour, len(rows))
	for i, m := range rows {
		tours[i] = tourFromModel(m)
	}
	return tours, next, nil
}

// orderTours adds the ORDER BY of sort, with id as the tie-breaker in the
// same direction, and the keyset condition "after the cursor".
func orderTours(tx *gorm.DB, sort string, after *catalog.Cursor) *gorm.DB {
	var col, dir string
	var key any
	switch sort {
	case catalog.SortPrice:
		col, dir = "price_amount", "ASC"
	case catalog.SortPriceDesc:
		col, dir = "price_amount", "DESC"
	case catalog.SortNewest:
		col, dir = "created_at", "DESC"
	default: // catalog.SortTitle; Validate admits nothing else
		col, dir = "title", "ASC"
	}
	if after != nil {
		switch col {
		case "price_amount":
			key = after.Price
		case "created_at":
			key = dbTime(after.CreatedAt)
		default:
			key = after.Title
		}
		op := ">"
		if dir == "DESC" {
			op = "<"
		}
		tx = tx.Where("("+col+" "+op+" ? OR ("+col+" = ? AND id "+op+" ?))", key, key, after.ID)
	}
	return tx.Order(col + " " + dir).Order("id " + dir)
}

// escapeLike makes s match itself literally in a LIKE pattern with
// ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// notFound maps gorm's "no row" to the domain's.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return catalog.ErrNotFound
	}
	return err
}
