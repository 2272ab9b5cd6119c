package store

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// searchFixture is a small catalogue where every filter keeps a different
// subset. Titles start with distinct capitals so that "title" order is the
// same under any collation.
type searchFixture struct {
	byTitle map[string]catalog.Tour
}

func newSearchFixture(t *testing.T, s *Store) searchFixture {
	t.Helper()
	ctx := t.Context()
	type spec struct {
		title, summary, destination string
		price                       int64
		departures                  map[string]int // starts_on → capacity
	}
	specs := []spec{
		{"Alpine Lakes", "Swim and hike", "Annecy", 50000, map[string]int{"2027-06-10": 5}},
		{"Brittany Coast", "Crêpes and cliffs", "Brittany", 98000, map[string]int{"2027-07-01": 1}},
		{"Corsica GR20", "The hardest trek in Europe, 100% wild", "Corsica", 150000, map[string]int{"2027-06-20": 10}},
		{"Dolomites Hut to Hut", "Via ferrata_and rifugios", "Dolomites", 150000, nil},
		{"Everest View", "Archived before the test searches", "Nepal", 250000, map[string]int{"2027-06-15": 10}},
		{"Forest of Brocéliande", "Legends of Arthur", "brittany", 40000, map[string]int{"2027-08-15": 8}},
	}
	f := searchFixture{byTitle: map[string]catalog.Tour{}}
	for i, sp := range specs {
		n := newTourInput(sp.title)
		n.Summary, n.Destination, n.Price.Amount = sp.summary, sp.destination, sp.price
		// Distinct creation times make -created_at meaningful.
		tour, err := s.CreateTour(ctx, n, t0.Add(time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		f.byTitle[sp.title] = tour
		for day, capacity := range sp.departures {
			dep := mustDeparture(t, s, tour.ID, day, capacity)
			if sp.title == "Brittany Coast" {
				mustHold(t, s, dep.ID, 1, time.Hour) // now full
			}
		}
	}
	if _, err := s.ArchiveTour(ctx, f.byTitle["Everest View"].ID, t0); err != nil {
		t.Fatal(err)
	}
	return f
}

func titles(tours []catalog.Tour) []string {
	out := make([]string, len(tours))
	for i, t := range tours {
		out[i] = t.Title
	}
	return out
}

func TestSearchToursFilters(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		newSearchFixture(t, s)
		tests := []struct {
			query string
			want  []string // in title order
		}{
			{"", []string{"Alpine Lakes", "Brittany Coast", "Corsica GR20", "Dolomites Hut to Hut", "Forest of Brocéliande"}},
			{"q=BRITTANY", []string{"Brittany Coast", "Forest of Brocéliande"}},
			{"q=crêpes", []string{"Brittany Coast"}},
			{"q=hut+to", []string{"Dolomites Hut to Hut"}},
			{"q=100%25", []string{"Corsica GR20"}},    // % is literal
			{"q=%25", []string{"Corsica GR20"}},       // only the title with a %
			{"q=_", []string{"Dolomites Hut to Hut"}}, // _ is literal
			{"q=h_t", nil},                     // _ is not a wildcard ("hut")
			{"q=" + url.QueryEscape(`\`), nil}, // the escape character is literal too
			{"q=everest", nil},                 // archived
			{"q=zzz", nil},
			{"destination=BRITTANY", []string{"Brittany Coast", "Forest of Brocéliande"}},
			{"destination=britt", nil}, // equality, not prefix
			{"destination=Nepal", nil},
			{"min_price=98000", []string{"Brittany Coast", "Corsica GR20", "Dolomites Hut to Hut"}},
			{"max_price=98000", []string{"Alpine Lakes", "Brittany Coast", "Forest of Brocéliande"}},
			{"min_price=150000&max_price=150000", []string{"Corsica GR20", "Dolomites Hut to Hut"}},
			{"min_price=0&max_price=39999", nil},
			{"date_from=2027-06-01&date_to=2027-06-30", []string{"Alpine Lakes", "Corsica GR20"}},
			{"date_from=2027-06-10&date_to=2027-06-10", []string{"Alpine Lakes"}}, // bounds inclusive
			{"date_from=2027-07-01", []string{"Forest of Brocéliande"}},           // Brittany Coast is full
			{"date_to=2027-06-15", []string{"Alpine Lakes"}},
			{"date_from=2028-01-01", nil},
			{"min_price=45000&date_from=2027-06-01&q=a", []string{"Alpine Lakes", "Corsica GR20"}},
		}
		for _, tt := range tests {
			t.Run(tt.query, func(t *testing.T) {
				v, err := url.ParseQuery(tt.query)
				if err != nil {
					t.Fatal(err)
				}
				q, err := catalog.ParseSearch(v)
				if err != nil {
					t.Fatal(err)
				}
				got, next, err := s.SearchTours(t.Context(), q)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(titles(got), tt.want) || next != "" {
					t.Fatalf("got %q next=%q, want %q", titles(got), next, tt.want)
				}
			})
		}
	})
}

func TestSearchToursSortAndPaginate(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		f := newSearchFixture(t, s)
		ctx := t.Context()
		// Corsica and Dolomites cost the same: the id breaks the tie, in
		// the sort's direction.
		c, d := f.byTitle["Corsica GR20"], f.byTitle["Dolomites Hut to Hut"]
		tieAsc := []string{c.Title, d.Title}
		if strings.Compare(c.ID.String(), d.ID.String()) > 0 {
			tieAsc = []string{d.Title, c.Title}
		}
		tieDesc := []string{tieAsc[1], tieAsc[0]}
		orders := map[string][]string{
			catalog.SortPrice:     append([]string{"Forest of Brocéliande", "Alpine Lakes", "Brittany Coast"}, tieAsc...),
			catalog.SortPriceDesc: append(tieDesc, "Brittany Coast", "Alpine Lakes", "Forest of Brocéliande"),
			catalog.SortTitle:     {"Alpine Lakes", "Brittany Coast", "Corsica GR20", "Dolomites Hut to Hut", "Forest of Brocéliande"},
			catalog.SortNewest:    {"Forest of Brocéliande", "Dolomites Hut to Hut", "Corsica GR20", "Brittany Coast", "Alpine Lakes"},
		}
		for sort, want := range orders {
			for _, limit := range []int{1, 2, 3, 5, 100} {
				// Page through, following next cursors, until the end.
				var got []string
				q := catalog.SearchQuery{Sort: sort, Limit: limit}
				for pages := 0; ; pages++ {
					if pages > len(want) {
						t.Fatalf("%s limit %d: too many pages", sort, limit)
					}
					page, next, err := s.SearchTours(ctx, q)
					if err != nil {
						t.Fatalf("%s limit %d: %v", sort, limit, err)
					}
					if len(page) > limit || (next != "" && len(page) != limit) {
						t.Fatalf("%s limit %d: page of %d, next %q", sort, limit, len(page), next)
					}
					got = append(got, titles(page)...)
					if next == "" {
						break
					}
					q.Cursor = next
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s limit %d:\n got %q\nwant %q", sort, limit, got, want)
				}
			}
		}

		// Keyset pagination: a tour created between two pages, before the
		// cursor, neither shifts nor repeats what follows.
		page1, next, err := s.SearchTours(ctx, catalog.SearchQuery{Sort: catalog.SortTitle, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		mustTour(t, s, newTourInput("Aardvark Safari"))
		page2, _, err := s.SearchTours(ctx, catalog.SearchQuery{Sort: catalog.SortTitle, Limit: 2, Cursor: next})
		if err != nil {
			t.Fatal(err)
		}
		if got := append(titles(page1), titles(page2)...); !slices.Equal(got, orders[catalog.SortTitle][:4]) {
			t.Fatalf("pages around an insert: %q", got)
		}
	})
}

func TestSearchToursRejectsBadQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store, gdb *gorm.DB) {
		ctx := t.Context()
		_, _, err := s.SearchTours(ctx, catalog.SearchQuery{Sort: "rating"})
		wantInvalid(t, err, "sort")
		_, _, err = s.SearchTours(ctx, catalog.SearchQuery{Limit: 101})
		wantInvalid(t, err, "limit")
		priceCursor := catalog.Cursor{Sort: catalog.SortPrice, Price: 1, ID: uuid.New()}.Encode()
		_, _, err = s.SearchTours(ctx, catalog.SearchQuery{Sort: catalog.SortTitle, Cursor: priceCursor})
		wantInvalid(t, err, "cursor")
		_, _, err = s.SearchTours(ctx, catalog.SearchQuery{Q: "\xff"})
		wantInvalid(t, err, "q")
	})
}
