package store

import (
	"testing"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
)

func TestMigrateIsRepeatableAndConstrains(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		// A restarted service migrates an up-to-date schema again.
		if err := Migrate(ctx, gdb); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		if err := s.Ready(ctx); err != nil {
			t.Fatalf("ready: %v", err)
		}
		for _, idx := range []string{"tours_slug_key", "holds_booking_id_key", "holds_held_expires_at", "tours_destination_lower", "departures_tour_starts"} {
			if !gdb.Migrator().HasIndex("tours", idx) && !gdb.Migrator().HasIndex("holds", idx) && !gdb.Migrator().HasIndex("departures", idx) {
				t.Errorf("index %s missing", idx)
			}
		}
		for table, chk := range map[string]string{
			"departures": "departures_seats_reserved_check",
			"holds":      "holds_status_check",
		} {
			if !gdb.Migrator().HasConstraint(table, chk) {
				t.Errorf("constraint %s missing on %s", chk, table)
			}
		}

		tour := mustTour(t, s, newTourInput("Constraint test"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 2)

		// The database itself refuses to overbook or go negative,
		// whatever the code above it does.
		for _, seats := range []int{3, -1} {
			err := gdb.Exec("UPDATE departures SET seats_reserved = ? WHERE id = ?", seats, dep.ID).Error
			if err == nil {
				t.Errorf("seats_reserved = %d accepted", seats)
			}
		}
		// Foreign keys are enforced on both engines.
		err := gdb.Exec("UPDATE departures SET tour_id = ? WHERE id = ?", dep.ID, dep.ID).Error
		if err == nil {
			t.Error("departure pointing at no tour accepted")
		}
		_ = db.ErrDuplicate
	})
}
