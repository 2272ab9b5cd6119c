package store

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

func TestCreateAndGetTour(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		n := newTourInput("  Côte d'Azur Coastal Walk ")
		n.Description = "Line one.\nLine two."
		tour, err := s.CreateTour(ctx, n, t0)
		if err != nil {
			t.Fatal(err)
		}
		if tour.Slug != "cote-d-azur-coastal-walk" || tour.Title != "Côte d'Azur Coastal Walk" {
			t.Fatalf("slug/title = %q/%q", tour.Slug, tour.Title)
		}
		if tour.ID == uuid.Nil || !tour.CreatedAt.Equal(t0) || !tour.UpdatedAt.Equal(t0) || tour.Archived() {
			t.Fatalf("bad new tour: %+v", tour)
		}
		for _, key := range []string{tour.ID.String(), tour.Slug} {
			got, err := s.GetTour(ctx, key)
			if err != nil {
				t.Fatalf("get %s: %v", key, err)
			}
			if got != tour {
				t.Fatalf("get %s:\n got %+v\nwant %+v", key, got, tour)
			}
		}

		// An explicit slug wins over the title.
		n2 := newTourInput("Another walk")
		n2.Slug = "my-walk"
		if got := mustTour(t, s, n2); got.Slug != "my-walk" {
			t.Fatalf("slug = %q", got.Slug)
		}

		// Taken slugs, given or derived, are a conflict.
		_, err = s.CreateTour(ctx, newTourInput("Côte d’Azur: coastal walk!"), t0)
		wantErr(t, err, catalog.ErrSlugTaken)
		n3 := newTourInput("Something else")
		n3.Slug = "my-walk"
		_, err = s.CreateTour(ctx, n3, t0)
		wantErr(t, err, catalog.ErrSlugTaken)

		// Invalid input never reaches the database.
		bad := newTourInput("ok title")
		bad.Price.Currency = "XXX"
		bad.MaxGroupSize = 0
		_, err = s.CreateTour(ctx, bad, t0)
		wantInvalid(t, err, "price.currency")
		wantInvalid(t, err, "max_group_size")

		for _, key := range []string{uuid.NewString(), "no-such-tour", "", "\xff\xfe", strings.Repeat("a", 200)} {
			_, err := s.GetTour(ctx, key)
			wantErr(t, err, catalog.ErrNotFound)
		}
	})
}

func TestUpdateTour(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Mont Blanc"))
		other := mustTour(t, s, newTourInput("Matterhorn"))
		later := t0.Add(time.Hour)

		title, summary := "  Tour du Mont-Blanc  ", ""
		got, err := s.UpdateTour(ctx, tour.ID, catalog.TourPatch{Title: &title, Summary: &summary}, later)
		if err != nil {
			t.Fatal(err)
		}
		want := tour
		want.Title, want.Summary, want.UpdatedAt = "Tour du Mont-Blanc", "", later
		if got != want {
			t.Fatalf("patched:\n got %+v\nwant %+v", got, want)
		}
		if read, _ := s.GetTour(ctx, tour.ID.String()); read != want {
			t.Fatalf("read back %+v", read)
		}

		// The slug changes only when asked, and must stay unique.
		slug := "tour-du-mont-blanc"
		got, err = s.UpdateTour(ctx, tour.ID, catalog.TourPatch{Slug: &slug}, later)
		if err != nil || got.Slug != slug {
			t.Fatalf("slug patch: %+v %v", got, err)
		}
		_, err = s.UpdateTour(ctx, other.ID, catalog.TourPatch{Slug: &slug}, later)
		wantErr(t, err, catalog.ErrSlugTaken)

		// An empty patch is a no-op, not even a new UpdatedAt.
		got, err = s.UpdateTour(ctx, other.ID, catalog.TourPatch{}, later.Add(time.Hour))
		if err != nil || got != other {
			t.Fatalf("empty patch: %+v %v", got, err)
		}

		bad := 0
		_, err = s.UpdateTour(ctx, tour.ID, catalog.TourPatch{DurationDays: &bad}, later)
		wantInvalid(t, err, "duration_days")
		_, err = s.UpdateTour(ctx, uuid.New(), catalog.TourPatch{Title: &title}, later)
		wantErr(t, err, catalog.ErrNotFound)

		// The currency cannot drift away from departures priced in it.
		chf := catalog.Money{Amount: 150000, Currency: "CHF"}
		if _, err := s.UpdateTour(ctx, other.ID, catalog.TourPatch{Price: &chf}, later); err != nil {
			t.Fatalf("currency change without overrides: %v", err)
		}
		_, err = s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{
			StartsOn: "2027-06-01", Capacity: 5, Price: &catalog.Money{Amount: 90000, Currency: "EUR"},
		}, t0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateTour(ctx, tour.ID, catalog.TourPatch{Price: &chf}, later)
		wantInvalid(t, err, "price.currency")

		// Archived tours are frozen.
		if _, err := s.ArchiveTour(ctx, tour.ID, later); err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateTour(ctx, tour.ID, catalog.TourPatch{Title: &title}, later)
		wantErr(t, err, catalog.ErrTourArchived)
	})
}

func TestArchiveTour(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		tour := mustTour(t, s, newTourInput("Provence"))
		dep := mustDeparture(t, s, tour.ID, "2027-06-01", 10)
		held := mustHold(t, s, dep.ID, 2, time.Hour)
		toConfirm := mustHold(t, s, dep.ID, 3, time.Hour)

		at := t0.Add(time.Minute)
		got, err := s.ArchiveTour(ctx, tour.ID, at)
		if err != nil {
			t.Fatal(err)
		}
		if got.ArchivedAt == nil || !got.ArchivedAt.Equal(at) {
			t.Fatalf("archived_at = %v", got.ArchivedAt)
		}
		// Again: idempotent, the first date stays.
		again, err := s.ArchiveTour(ctx, tour.ID, at.Add(time.Hour))
		if err != nil || !again.ArchivedAt.Equal(at) {
			t.Fatalf("second archive: %v %v", again.ArchivedAt, err)
		}
		_, err = s.ArchiveTour(ctx, uuid.New(), at)
		wantErr(t, err, catalog.ErrNotFound)

		// Hidden from search, readable by id and slug.
		found, _, err := s.SearchTours(ctx, catalog.SearchQuery{})
		if err != nil || len(found) != 0 {
			t.Fatalf("search found %d archived tours (%v)", len(found), err)
		}
		if _, err := s.GetTour(ctx, tour.Slug); err != nil {
			t.Fatalf("get archived by slug: %v", err)
		}
		if _, err := s.GetDeparture(ctx, dep.ID); err != nil {
			t.Fatalf("get departure of archived tour: %v", err)
		}

		// Existing holds keep working; new business is refused.
		if _, err := s.ConfirmHold(ctx, toConfirm.ID, at); err != nil {
			t.Fatalf("confirm on archived tour: %v", err)
		}
		if _, err := s.ReleaseHold(ctx, held.ID, at); err != nil {
			t.Fatalf("release on archived tour: %v", err)
		}
		_, _, err = s.PlaceHold(ctx, dep.ID, uuid.New(), 1, time.Hour, at)
		wantErr(t, err, catalog.ErrTourArchived)
		_, err = s.CreateDeparture(ctx, tour.ID, catalog.NewDeparture{StartsOn: "2027-07-01", Capacity: 5}, at)
		wantErr(t, err, catalog.ErrTourArchived)
		capacity := 20
		_, err = s.UpdateDeparture(ctx, dep.ID, catalog.DeparturePatch{Capacity: &capacity}, at)
		wantErr(t, err, catalog.ErrTourArchived)
		// The slug stays taken.
		n := newTourInput("Provence")
		_, err = s.CreateTour(ctx, n, at)
		wantErr(t, err, catalog.ErrSlugTaken)

		if n := assertSeatsInvariant(t, gdb, dep.ID); n != 3 {
			t.Fatalf("seats reserved = %d, want the confirmed 3", n)
		}
	})
}
