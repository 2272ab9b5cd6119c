package catalog

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	id := uuid.MustParse("0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60")
	created := time.Date(2027, 1, 2, 3, 4, 5, 123456000, time.UTC)
	tests := []Cursor{
		{Sort: SortPrice, Price: 12900, ID: id},
		{Sort: SortPriceDesc, Price: 0, ID: id},
		{Sort: SortTitle, Title: `Côte d'Azur "quoted" & <tags>`, ID: id},
		{Sort: SortTitle, Title: "", ID: id},
		{Sort: SortNewest, CreatedAt: created, ID: id},
		{Sort: DepartureOrder, StartsOn: NewDate(2027, time.June, 1), ID: id},
	}
	for _, c := range tests {
		t.Run(c.Sort, func(t *testing.T) {
			s := c.Encode()
			if strings.ContainsAny(s, "+/=?&") {
				t.Fatalf("cursor %q is not URL-safe", s)
			}
			got, err := DecodeCursor(c.Sort, s)
			if err != nil {
				t.Fatal(err)
			}
			if got != c {
				t.Fatalf("decoded %+v, want %+v", got, c)
			}
		})
	}

	tour := Tour{ID: id, Title: "T", Price: Money{5, "EUR"}, CreatedAt: created}
	if c := TourCursor(SortNewest, tour); c.CreatedAt != created || c.ID != id || c.Sort != SortNewest {
		t.Fatalf("TourCursor = %+v", c)
	}
}

func TestCursorTamper(t *testing.T) {
	id := "0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60"
	enc := func(json string) string { return base64.RawURLEncoding.EncodeToString([]byte(json)) }
	good := Cursor{Sort: SortPrice, Price: 100, ID: uuid.MustParse(id)}.Encode()
	tests := []struct {
		name, sort, cursor string
	}{
		{"not base64", SortPrice, "***"},
		{"padded base64", SortPrice, good + "=="},
		{"truncated", SortPrice, good[:len(good)-3]},
		{"not JSON", SortPrice, enc("hello")},
		{"JSON array", SortPrice, enc(`[1,2]`)},
		{"trailing data", SortPrice, enc(`{"s":"price","k":"1","id":"` + id + `"} {}`)},
		{"unknown field", SortPrice, enc(`{"s":"price","k":"1","id":"` + id + `","x":1}`)},
		{"other sort", SortTitle, good},
		{"unknown sort", "nope", enc(`{"s":"nope","k":"1","id":"` + id + `"}`)},
		{"price not a number", SortPrice, enc(`{"s":"price","k":"cheap","id":"` + id + `"}`)},
		{"time not RFC 3339", SortNewest, enc(`{"s":"-created_at","k":"yesterday","id":"` + id + `"}`)},
		{"date not a date", DepartureOrder, enc(`{"s":"starts_on","k":"2027-02-30","id":"` + id + `"}`)},
		{"title too long", SortTitle, enc(`{"s":"title","k":"` + strings.Repeat("a", 121) + `","id":"` + id + `"}`)},
		{"bad id", SortPrice, enc(`{"s":"price","k":"1","id":"42"}`)},
		{"id without dashes", SortPrice, enc(`{"s":"price","k":"1","id":"` + strings.ReplaceAll(id, "-", "") + `"}`)},
		{"huge", SortPrice, strings.Repeat("A", 5000)},
		{"empty", SortPrice, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := DecodeCursor(tt.sort, tt.cursor); err == nil {
				t.Fatalf("accepted %q as %+v", tt.cursor, c)
			}
		})
	}
}
