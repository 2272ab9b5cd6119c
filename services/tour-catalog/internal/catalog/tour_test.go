package catalog

import (
	"strings"
	"testing"
)

func validNewTour() NewTour {
	return NewTour{
		Title:        "Tour du Mont-Blanc",
		Summary:      "Eleven days around the highest peak of the Alps.",
		Description:  "Day 1: Les Houches.\nDay 2: Les Contamines.",
		Destination:  "Chamonix",
		DurationDays: 11,
		Difficulty:   DifficultyHard,
		Price:        Money{Amount: 189000, Currency: "EUR"},
		MaxGroupSize: 12,
	}
}

func TestNewTourNormalize(t *testing.T) {
	n := validNewTour()
	n.Title = "  Côte d'Azur  "
	n.Destination = " Nice "
	got := n.Normalize()
	if got.Title != "Côte d'Azur" || got.Destination != "Nice" {
		t.Fatalf("not trimmed: %+v", got)
	}
	if got.Slug != "cote-d-azur" {
		t.Fatalf("slug = %q, want derived cote-d-azur", got.Slug)
	}
	n.Slug = " my-slug "
	if got := n.Normalize(); got.Slug != "my-slug" {
		t.Fatalf("given slug = %q, want my-slug kept", got.Slug)
	}
}

func TestNewTourValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*NewTour)
		fields []string
	}{
		{"valid", func(*NewTour) {}, nil},
		{"limits at their minimum", func(n *NewTour) {
			n.Title, n.Summary, n.Description, n.Destination = "Abc", "", "", "Oz"
			n.DurationDays, n.MaxGroupSize, n.Price.Amount = 1, 1, 1
		}, nil},
		{"limits at their maximum", func(n *NewTour) {
			n.Title = strings.Repeat("é", 120)
			n.Summary = strings.Repeat("s", 300)
			n.Description = strings.Repeat("d", 5000)
			n.Destination = strings.Repeat("x", 80)
			n.DurationDays, n.MaxGroupSize, n.Price.Amount = 60, 100, 10_000_000
		}, nil},
		{"title too short", func(n *NewTour) { n.Title = "Ab" }, []string{"title"}},
		{"title too long", func(n *NewTour) { n.Title = strings.Repeat("a", 121) }, []string{"title"}},
		{"title with a newline", func(n *NewTour) { n.Title = "Mont\nBlanc" }, []string{"title"}},
		{"title not UTF-8", func(n *NewTour) { n.Title = "Mont \xff Blanc" }, []string{"title"}},
		{"summary too long", func(n *NewTour) { n.Summary = strings.Repeat("s", 301) }, []string{"summary"}},
		{"description too long", func(n *NewTour) { n.Description = strings.Repeat("d", 5001) }, []string{"description"}},
		{"description with NUL", func(n *NewTour) { n.Description = "a\x00b" }, []string{"description"}},
		{"destination missing", func(n *NewTour) { n.Destination = "" }, []string{"destination"}},
		{"destination too short", func(n *NewTour) { n.Destination = "X" }, []string{"destination"}},
		{"destination too long", func(n *NewTour) { n.Destination = strings.Repeat("x", 81) }, []string{"destination"}},
		{"duration zero", func(n *NewTour) { n.DurationDays = 0 }, []string{"duration_days"}},
		{"duration 61", func(n *NewTour) { n.DurationDays = 61 }, []string{"duration_days"}},
		{"difficulty unknown", func(n *NewTour) { n.Difficulty = "extreme" }, []string{"difficulty"}},
		{"difficulty empty", func(n *NewTour) { n.Difficulty = "" }, []string{"difficulty"}},
		{"price zero", func(n *NewTour) { n.Price.Amount = 0 }, []string{"price.amount"}},
		{"price too high", func(n *NewTour) { n.Price.Amount = 10_000_001 }, []string{"price.amount"}},
		{"currency lowercase", func(n *NewTour) { n.Price.Currency = "eur" }, []string{"price.currency"}},
		{"currency unknown", func(n *NewTour) { n.Price.Currency = "XYZ" }, []string{"price.currency"}},
		{"group size zero", func(n *NewTour) { n.MaxGroupSize = 0 }, []string{"max_group_size"}},
		{"group size 101", func(n *NewTour) { n.MaxGroupSize = 101 }, []string{"max_group_size"}},
		{"slug bad", func(n *NewTour) { n.Slug = "Mont Blanc" }, []string{"slug"}},
		{"slug underivable", func(n *NewTour) { n.Title = "東京タワー" }, []string{"slug"}},
		{"everything wrong at once", func(n *NewTour) { *n = NewTour{} }, []string{
			"slug", "title", "destination", "duration_days", "difficulty",
			"price.amount", "price.currency", "max_group_size",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := validNewTour()
			tt.mutate(&n)
			assertFields(t, n.Normalize().Validate(), tt.fields...)
		})
	}
}

func TestTourPatch(t *testing.T) {
	tests := []struct {
		name   string
		patch  TourPatch
		fields []string
	}{
		{"empty", TourPatch{}, nil},
		{"valid title", TourPatch{Title: ptr("New title")}, nil},
		{"clear summary", TourPatch{Summary: ptr("")}, nil},
		{"bad title", TourPatch{Title: ptr("x")}, []string{"title"}},
		{"bad slug", TourPatch{Slug: ptr("")}, []string{"slug"}},
		{"bad destination", TourPatch{Destination: ptr("")}, []string{"destination"}},
		{"bad description", TourPatch{Description: ptr(strings.Repeat("d", 5001))}, []string{"description"}},
		{"bad numbers", TourPatch{DurationDays: ptr(0), MaxGroupSize: ptr(0)}, []string{"duration_days", "max_group_size"}},
		{"bad difficulty", TourPatch{Difficulty: ptr(Difficulty("x"))}, []string{"difficulty"}},
		{"bad price", TourPatch{Price: &Money{Amount: -1, Currency: "EUR"}}, []string{"price.amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertFields(t, tt.patch.Normalize().Validate(), tt.fields...)
		})
	}

	t.Run("normalize trims a copy", func(t *testing.T) {
		title := "  Padded  "
		p := TourPatch{Title: &title}.Normalize()
		if *p.Title != "Padded" || title != "  Padded  " {
			t.Fatalf("patch title %q, caller's %q", *p.Title, title)
		}
	})

	t.Run("apply changes only given fields", func(t *testing.T) {
		base := Tour{Slug: "a", Title: "Old", Summary: "keep", DurationDays: 3, Price: Money{100, "EUR"}}
		got := TourPatch{Title: ptr("New"), Price: &Money{200, "EUR"}}.Apply(base)
		want := base
		want.Title, want.Price = "New", Money{200, "EUR"}
		if got != want {
			t.Fatalf("Apply = %+v, want %+v", got, want)
		}
		if (TourPatch{}).Apply(base) != base {
			t.Fatal("empty patch changed the tour")
		}
	})
}

func TestMoney(t *testing.T) {
	if got := (Money{Amount: 12900, Currency: "EUR"}).Times(3); got != (Money{38700, "EUR"}) {
		t.Fatalf("Times = %+v", got)
	}
	for _, c := range SupportedCurrencies() {
		if !IsSupportedCurrency(c) {
			t.Errorf("%s listed but not supported (list not sorted?)", c)
		}
		if len(c) != 3 || strings.ToUpper(c) != c {
			t.Errorf("%q is not an ISO 4217 shaped code", c)
		}
	}
	for _, c := range []string{"", "eur", "EU", "EURO", "XXX"} {
		if IsSupportedCurrency(c) {
			t.Errorf("%q accepted", c)
		}
	}
}
