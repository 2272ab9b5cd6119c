package store

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// tourDetailRow is one row of TourDetail's join: the tour, and one of its
// upcoming departures or, for a tour without any, NULLs (zero values).
type tourDetailRow struct {
	Tour      tourModel      `gorm:"embedded;embeddedPrefix:t_"`
	Departure departureModel `gorm:"embedded;embeddedPrefix:d_"`
}

// tourDetailSQL selects a tour with its departures starting on or after a
// date, soonest first, at most maxUpcoming: GetTour and
// UpcomingDepartures in one statement and one round trip, on both
// engines (a LEFT JOIN, so a tour without departures still comes back).
var tourDetailSQL = func() string {
	cols := func(alias, prefix string, names ...string) string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = alias + "." + n + " AS " + prefix + n
		}
		return strings.Join(out, ", ")
	}
	return "SELECT " +
		cols("t", "t_", "id", "slug", "title", "summary", "description", "destination", "duration_days",
			"difficulty", "price_amount", "price_currency", "max_group_size", "archived_at", "created_at", "updated_at") + ", " +
		cols("d", "d_", "id", "tour_id", "starts_on", "capacity", "seats_reserved", "price_amount", "price_currency",
			"created_at", "updated_at") +
		" FROM tours t LEFT JOIN departures d ON d.tour_id = t.id AND d.starts_on >= ?" +
		" WHERE t.%s = ? ORDER BY d.starts_on, d.id LIMIT " + fmt.Sprint(maxUpcoming)
}()

// TourDetail is what a tour's page shows: the tour by id or slug (as
// GetTour, archived ones included) and its departures starting today or
// later (as UpcomingDepartures), read in one statement.
func (s *Store) TourDetail(ctx context.Context, idOrSlug string, today catalog.Date) (catalog.Tour, []catalog.Departure, error) {
	column, key := "id", any(nil)
	if id, err := uuid.Parse(idOrSlug); err == nil {
		key = id
	} else {
		// As in GetTour: a string that cannot be a slug matches none.
		if !utf8.ValidString(idOrSlug) || idOrSlug == "" || len(idOrSlug) > catalog.MaxSlugLen {
			return catalog.Tour{}, nil, fmt.Errorf("tour detail: %w", catalog.ErrNotFound)
		}
		column, key = "slug", idOrSlug
	}
	var rows []tourDetailRow
	// Find, not Scan: gorm's Scan records every statement for its logger
	// by formatting the SQL with its arguments inlined, whatever the log
	// level; that cost about 7% of the catalog's CPU on this page.
	if err := s.db.WithContext(ctx).Raw(fmt.Sprintf(tourDetailSQL, column), today.String(), key).Find(&rows).Error; err != nil {
		return catalog.Tour{}, nil, fmt.Errorf("tour detail: %w", err)
	}
	if len(rows) == 0 {
		return catalog.Tour{}, nil, fmt.Errorf("tour detail: %w", catalog.ErrNotFound)
	}
	tour := tourFromModel(rows[0].Tour)
	deps := make([]catalog.Departure, 0, len(rows))
	for _, r := range rows {
		if r.Departure.ID == uuid.Nil {
			continue // the tour has no upcoming departure
		}
		d, err := departureFromRow(departureRow{
			Departure:         r.Departure,
			TourPriceAmount:   r.Tour.PriceAmount,
			TourPriceCurrency: r.Tour.PriceCurrency,
			TourArchivedAt:    r.Tour.ArchivedAt,
		})
		if err != nil {
			return catalog.Tour{}, nil, fmt.Errorf("tour detail: %w", err)
		}
		deps = append(deps, d)
	}
	return tour, deps, nil
}
