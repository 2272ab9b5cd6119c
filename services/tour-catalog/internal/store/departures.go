package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// maxUpcoming bounds UpcomingDepartures, which has no pagination: a tour
// detail page shows the next departures, not years of them.
const maxUpcoming = 100

// CreateDeparture schedules a departure of a live tour. Errors:
// *validate.Error (including a price override in another currency than the
// tour's), catalog.ErrNotFound, catalog.ErrTourArchived.
func (s *Store) CreateDeparture(ctx context.Context, tourID uuid.UUID, n catalog.NewDeparture, now time.Time) (catalog.Departure, error) {
	if err := n.Validate(catalog.Today(now)); err != nil {
		return catalog.Departure{}, fmt.Errorf("create departure: %w", err)
	}
	starts, err := n.StartDate()
	if err != nil {
		return catalog.Departure{}, fmt.Errorf("create departure: %w", err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return catalog.Departure{}, fmt.Errorf("create departure: new id: %w", err)
	}
	now = dbTime(now)
	m := departureModel{
		ID:        id,
		TourID:    tourID,
		StartsOn:  starts.String(),
		Capacity:  n.Capacity,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if n.Price != nil {
		m.PriceAmount, m.PriceCurrency = &n.Price.Amount, &n.Price.Currency
	}
	var row departureRow
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Locked so that the tour cannot be archived between the check and
		// the insert.
		var t tourModel
		if err := forUpdate(tx).Where("id = ?", tourID).Take(&t).Error; err != nil {
			return notFound(err)
		}
		if t.ArchivedAt != nil {
			return catalog.ErrTourArchived
		}
		if err := checkCurrency(n.Price, t.PriceCurrency); err != nil {
			return err
		}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		row = departureRow{Departure: m, TourPriceAmount: t.PriceAmount, TourPriceCurrency: t.PriceCurrency}
		return nil
	})
	if err != nil {
		return catalog.Departure{}, fmt.Errorf("create departure: %w", err)
	}
	return departureFromRow(row)
}

// checkCurrency refuses a departure price in another currency than its
// tour's: a tour's departures are sold, and searched by price, in one
// currency.
func checkCurrency(price *catalog.Money, tourCurrency string) error {
	if price == nil || price.Currency == tourCurrency {
		return nil
	}
	var c validate.Collector
	c.Add("price.currency", "must be the tour's currency, "+tourCurrency)
	return c.Err()
}

// UpdateDeparture changes a departure's capacity or price override.
// Lowering the capacity below the seats already reserved gives
// catalog.ErrCapacityBelowReserved; the check is part of the UPDATE itself,
// so a hold placed meanwhile cannot slip under it. Other errors:
// *validate.Error, catalog.ErrNotFound, catalog.ErrTourArchived.
func (s *Store) UpdateDeparture(ctx context.Context, id uuid.UUID, p catalog.DeparturePatch, now time.Time) (catalog.Departure, error) {
	if err := p.Validate(); err != nil {
		return catalog.Departure{}, fmt.Errorf("update departure: %w", err)
	}
	var out catalog.Departure
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := departureByID(tx, id)
		if err != nil {
			return err
		}
		if row.TourArchivedAt != nil {
			return catalog.ErrTourArchived
		}
		if p.Capacity == nil && p.Price == nil {
			out, err = departureFromRow(row)
			return err
		}
		if err := checkCurrency(p.Price, row.TourPriceCurrency); err != nil {
			return err
		}
		set := map[string]any{"updated_at": dbTime(now)}
		if p.Price != nil {
			set["price_amount"], set["price_currency"] = p.Price.Amount, p.Price.Currency
		}
		upd := tx.Model(&departureModel{}).Where("id = ?", id)
		if p.Capacity != nil {
			set["capacity"] = *p.Capacity
			upd = upd.Where("seats_reserved <= ?", *p.Capacity)
		}
		res := upd.Updates(set)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			// The row exists (read above) and departures are never
			// deleted, so only the capacity condition can have failed.
			return catalog.ErrCapacityBelowReserved
		}
		row, err = departureByID(tx, id)
		if err != nil {
			return err
		}
		out, err = departureFromRow(row)
		return err
	})
	if err != nil {
		return catalog.Departure{}, fmt.Errorf("update departure: %w", err)
	}
	return out, nil
}

// GetDeparture returns one departure with its effective price, whether or
// not its tour is archived.
func (s *Store) GetDeparture(ctx context.Context, id uuid.UUID) (catalog.Departure, error) {
	row, err := departureByID(s.db.WithContext(ctx), id)
	if err != nil {
		return catalog.Departure{}, fmt.Errorf("get departure: %w", err)
	}
	return departureFromRow(row)
}

// ListDepartures returns one page of a tour's departures, past and future,
// by start date then id, and the cursor of the next page ("" on the last).
// An unknown tour gives catalog.ErrNotFound rather than an empty list.
func (s *Store) ListDepartures(ctx context.Context, tourID uuid.UUID, page catalog.Page) ([]catalog.Departure, string, error) {
	page = page.WithDefaults()
	if err := page.Validate(); err != nil {
		return nil, "", fmt.Errorf("list departures: %w", err)
	}
	gdb := s.db.WithContext(ctx)
	if _, err := s.tourByID(ctx, gdb, tourID); err != nil {
		return nil, "", fmt.Errorf("list departures: %w", err)
	}
	tx := departureQuery(gdb).Where("departures.tour_id = ?", tourID)
	if page.Cursor != "" {
		c, err := catalog.DecodeCursor(catalog.DepartureOrder, page.Cursor)
		if err != nil {
			return nil, "", fmt.Errorf("list departures: %w", err)
		}
		key := c.StartsOn.String()
		tx = tx.Where("(departures.starts_on > ? OR (departures.starts_on = ? AND departures.id > ?))", key, key, c.ID)
	}
	deps, err := findDepartures(tx.Order("departures.starts_on, departures.id").Limit(page.Limit + 1))
	if err != nil {
		return nil, "", fmt.Errorf("list departures: %w", err)
	}
	next := ""
	if len(deps) > page.Limit {
		deps = deps[:page.Limit]
		next = catalog.DepartureCursor(deps[len(deps)-1]).Encode()
	}
	return deps, next, nil
}

// UpcomingDepartures returns a tour's departures starting today or later,
// soonest first, full ones included (SeatsAvailable tells), at most 100:
// what a tour's detail page shows.
func (s *Store) UpcomingDepartures(ctx context.Context, tourID uuid.UUID, today catalog.Date) ([]catalog.Departure, error) {
	tx := departureQuery(s.db.WithContext(ctx)).
		Where("departures.tour_id = ? AND departures.starts_on >= ?", tourID, today.String()).
		Order("departures.starts_on, departures.id").
		Limit(maxUpcoming)
	deps, err := findDepartures(tx)
	if err != nil {
		return nil, fmt.Errorf("upcoming departures: %w", err)
	}
	return deps, nil
}

// departureQuery selects departures with what they need of their tour.
func departureQuery(tx *gorm.DB) *gorm.DB {
	return tx.Table("departures").
		Select("departures.*, tours.price_amount AS tour_price_amount, " +
			"tours.price_currency AS tour_price_currency, tours.archived_at AS tour_archived_at").
		Joins("JOIN tours ON tours.id = departures.tour_id")
}

func departureByID(tx *gorm.DB, id uuid.UUID) (departureRow, error) {
	var rows []departureRow
	if err := departureQuery(tx).Where("departures.id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return departureRow{}, err
	}
	if len(rows) == 0 {
		return departureRow{}, catalog.ErrNotFound
	}
	return rows[0], nil
}

func findDepartures(tx *gorm.DB) ([]catalog.Departure, error) {
	var rows []departureRow
	if err := tx.Find(&rows).Error; err != nil {
		return nil, err
	}
	deps := make([]catalog.Departure, 0, len(rows))
	for _, r := range rows {
		d, err := departureFromRow(r)
		if err != nil {
			return nil, err
		}
		deps = append(deps, d)
	}
	return deps, nil
}
