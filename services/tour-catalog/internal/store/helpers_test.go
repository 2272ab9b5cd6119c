package store

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/validate"
	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// t0 is the tests' "now": fixed, so dates and expiries are deterministic.
var t0 = time.Date(2027, time.March, 15, 10, 0, 0, 0, time.UTC)

// eachStore runs fn once per database backend with a migrated, empty store.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store, gdb *gorm.DB)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		if err := Migrate(t.Context(), gdb); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		fn(t, New(gdb), gdb)
	})
}

func newTourInput(title string) catalog.NewTour {
	return catalog.NewTour{
		Title:        title,
		Summary:      "A summary of " + title,
		Destination:  "Chamonix",
		DurationDays: 5,
		Difficulty:   catalog.DifficultyModerate,
		Price:        catalog.Money{Amount: 100000, Currency: "EUR"},
		MaxGroupSize: 12,
	}
}

func mustTour(t *testing.T, s *Store, n catalog.NewTour) catalog.Tour {
	t.Helper()
	tour, err := s.CreateTour(t.Context(), n, t0)
	if err != nil {
		t.Fatalf("create tour %q: %v", n.Title, err)
	}
	return tour
}

func mustDeparture(t *testing.T, s *Store, tourID uuid.UUID, startsOn string, capacity int) catalog.Departure {
	t.Helper()
	d, err := s.CreateDeparture(t.Context(), tourID, catalog.NewDeparture{StartsOn: startsOn, Capacity: capacity}, t0)
	if err != nil {
		t.Fatalf("create departure: %v", err)
	}
	return d
}

func mustHold(t *testing.T, s *Store, depID uuid.UUID, seats int, ttl time.Duration) catalog.Hold {
	t.Helper()
	h, created, err := s.PlaceHold(t.Context(), depID, uuid.New(), seats, ttl, t0)
	if err != nil || !created {
		t.Fatalf("place hold: created=%v err=%v", created, err)
	}
	return h
}

// assertSeatsInvariant checks, from the database itself, the rule the whole
// design exists for: a departure's seats_reserved equals the seats of its
// held and confirmed holds, within 0..capacity. It returns seats_reserved.
func assertSeatsInvariant(t *testing.T, gdb *gorm.DB, depID uuid.UUID) int {
	t.Helper()
	var dep struct{ Capacity, SeatsReserved int }
	if err := gdb.Raw("SELECT capacity, seats_reserved FROM departures WHERE id = ?", depID).Scan(&dep).Error; err != nil {
		t.Fatalf("read departure: %v", err)
	}
	var sum int64
	if err := gdb.Raw("SELECT COALESCE(SUM(seats), 0) FROM holds WHERE departure_id = ? AND status IN ('held', 'confirmed')", depID).
		Scan(&sum).Error; err != nil {
		t.Fatalf("sum holds: %v", err)
	}
	if int64(dep.SeatsReserved) != sum || dep.SeatsReserved < 0 || dep.SeatsReserved > dep.Capacity {
		t.Fatalf("invariant broken: seats_reserved=%d, held+confirmed seats=%d, capacity=%d",
			dep.SeatsReserved, sum, dep.Capacity)
	}
	return dep.SeatsReserved
}

// wantErr fails t unless errors.Is(err, target).
func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// wantInvalid fails t unless err is a *validate.Error naming field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	fields, ok := validate.Fields(err)
	if !ok {
		t.Fatalf("got %v, want a validation error on %s", err, field)
	}
	for _, f := range fields {
		if f.Field == field {
			return
		}
	}
	t.Fatalf("validation error %v does not name %s", err, field)
}
