package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// demoTour is a tour of the demo catalogue with its departures, given as
// days after the seeding day (so the demo always has future dates) and an
// optional price override.
type demoTour struct {
	tour       catalog.NewTour
	departures []demoDeparture
}

type demoDeparture struct {
	inDays   int
	capacity int
	price    int64 // 0: the tour's price
}

func eur(amount int64) catalog.Money { return catalog.Money{Amount: amount, Currency: "EUR"} }

// demoCatalogue returns the demo tours; a function, not a package
// variable, so that nothing can modify it between calls.
func demoCatalogue() []demoTour {
	return []demoTour{
		{catalog.NewTour{
			Title:       "Tour du Mont-Blanc",
			Summary:     "The classic eleven-day circuit around the highest peak of the Alps, through France, Italy and Switzerland.",
			Description: "Walk 170 km around the Mont-Blanc massif from Les Houches, sleeping in mountain refuges and village inns. Luggage is carried between nights; a guide leads every stage.",
			Destination: "Chamonix", DurationDays: 11, Difficulty: catalog.DifficultyHard,
			Price: eur(189000), MaxGroupSize: 12,
		}, []demoDeparture{{30, 12, 0}, {58, 12, 0}, {86, 12, 199000}}},
		{catalog.NewTour{
			Title:       "Lavender and Villages of Provence",
			Summary:     "A gentle week among lavender fields, hilltop villages and markets of the Luberon.",
			Description: "From Gordes to Roussillon and the Sénanque abbey: short walks, a cooking class in Apt and an evening at the Avignon festival when the dates allow.",
			Destination: "Provence", DurationDays: 7, Difficulty: catalog.DifficultyEasy,
			Price: eur(124000), MaxGroupSize: 16,
		}, []demoDeparture{{21, 16, 0}, {49, 16, 0}, {77, 16, 0}, {105, 16, 109000}}},
		{catalog.NewTour{
			Title:       "Brittany Coastal Path: Côte de Granit Rose",
			Summary:     "Pink granite cliffs, lighthouses and crêperies on the GR34 along the north Breton coast.",
			Description: "Six days on the customs officers' path from Perros-Guirec to Trébeurden, with a boat trip to the Sept-Îles bird reserve.",
			Destination: "Brittany", DurationDays: 6, Difficulty: catalog.DifficultyModerate,
			Price: eur(98000), MaxGroupSize: 14,
		}, []demoDeparture{{35, 14, 0}, {70, 14, 0}}},
		{catalog.NewTour{
			Title:       "Dolomites Alta Via 1",
			Summary:     "Hut to hut across the pale mountains, from Lago di Braies to Belluno.",
			Description: "Nine days on the first high route of the Dolomites, with via ferrata options for the bold and rifugio dinners for everyone.",
			Destination: "Dolomites", DurationDays: 9, Difficulty: catalog.DifficultyHard,
			Price: eur(165000), MaxGroupSize: 10,
		}, []demoDeparture{{42, 10, 0}, {63, 10, 0}, {91, 10, 0}}},
		{catalog.NewTour{
			Title:       "Lisbon and Sintra City Break",
			Summary:     "Trams, tiles and palaces: four unhurried days in Lisbon with a day in Sintra.",
			Description: "Alfama and Belém on foot, a fado evening, and a day among the palaces and gardens of Sintra. Central hotel, breakfasts included.",
			Destination: "Lisbon", DurationDays: 4, Difficulty: catalog.DifficultyEasy,
			Price: eur(69000), MaxGroupSize: 20,
		}, []demoDeparture{{14, 20, 0}, {28, 20, 0}, {56, 20, 0}, {84, 20, 59000}}},
		{catalog.NewTour{
			Title:       "Iceland Ring Road",
			Summary:     "Glaciers, geysers and black-sand beaches on a ten-day loop of the island.",
			Description: "By minibus around Route 1: Þingvellir, the Golden Circle, Jökulsárlón, the East Fjords and Mývatn, with short hikes every day.",
			Destination: "Iceland", DurationDays: 10, Difficulty: catalog.DifficultyModerate,
			Price: eur(289000), MaxGroupSize: 12,
		}, []demoDeparture{{45, 12, 0}, {75, 12, 0}, {120, 12, 0}}},
	}
}

// SeedDemoData loads the demo catalogue and returns how many tours it
// created. It is idempotent by slug: a tour whose slug exists is left alone
// with its departures, so restarts add nothing, and two replicas seeding at
// once each create a disjoint part (INSERT ... ON CONFLICT DO NOTHING waits
// for the other's insert of the same slug and then skips it).
func (s *Store) SeedDemoData(ctx context.Context, now time.Time) (int, error) {
	today := catalog.Today(now)
	created := 0
	for _, d := range demoCatalogue() {
		ok, err := s.seedTour(ctx, d, today, now)
		if err != nil {
			return created, fmt.Errorf("seed demo data: %s: %w", d.tour.Title, err)
		}
		if ok {
			created++
		}
	}
	return created, nil
}

// seedTour inserts one demo tour and its departures in one transaction, so
// that a tour never exists without them.
func (s *Store) seedTour(ctx context.Context, d demoTour, today catalog.Date, now time.Time) (bool, error) {
	n := d.tour.Normalize()
	if err := n.Validate(); err != nil {
		return false, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return false, err
	}
	tour := tourToModel(newTour(id, n, now))
	created := false
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "slug"}}, DoNothing: true}).Create(&tour)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		for _, dd := range d.departures {
			nd := catalog.NewDeparture{StartsOn: today.AddDays(dd.inDays).String(), Capacity: dd.capacity}
			if dd.price > 0 {
				p := eur(dd.price)
				nd.Price = &p
			}
			if err := nd.Validate(today); err != nil {
				return err
			}
			depID, err := uuid.NewV7()
			if err != nil {
				return err
			}
			m := departureModel{
				ID: depID, TourID: tour.ID, StartsOn: nd.StartsOn, Capacity: nd.Capacity,
				CreatedAt: tour.CreatedAt, UpdatedAt: tour.CreatedAt,
			}
			if nd.Price != nil {
				m.PriceAmount, m.PriceCurrency = &nd.Price.Amount, &nd.Price.Currency
			}
			if err := tx.Create(&m).Error; err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return created, err
}
