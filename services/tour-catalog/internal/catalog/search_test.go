package catalog

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestParseSearch(t *testing.T) {
	priceCursor := Cursor{Sort: SortPrice, Price: 12900, ID: uuid.MustParse("0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60")}.Encode()
	d := func(s string) *Date { v, _ := ParseDate(s); return &v }
	tests := []struct {
		name string
		raw  string
		want SearchQuery
	}{
		{"defaults", "", SearchQuery{Sort: SortTitle, Limit: 20}},
		{"empty values are absent", "q=&min_price=&sort=&limit=&date_from=&cursor=", SearchQuery{Sort: SortTitle, Limit: 20}},
		{"unknown keys ignored", "page=3&foo=bar", SearchQuery{Sort: SortTitle, Limit: 20}},
		{"everything", "q=+Mont+Blanc+&destination=Chamonix&min_price=0&max_price=200000&date_from=2027-06-01&date_to=2027-06-30&sort=-price&limit=100",
			SearchQuery{Q: "Mont Blanc", Destination: "Chamonix", MinPrice: ptr(int64(0)), MaxPrice: ptr(int64(200000)),
				DateFrom: d("2027-06-01"), DateTo: d("2027-06-30"), Sort: SortPriceDesc, Limit: 100}},
		{"equal bounds", "min_price=5&max_price=5&date_from=2027-06-01&date_to=2027-06-01",
			SearchQuery{MinPrice: ptr(int64(5)), MaxPrice: ptr(int64(5)), DateFrom: d("2027-06-01"), DateTo: d("2027-06-01"), Sort: SortTitle, Limit: 20}},
		{"open date range", "date_to=2027-06-30", SearchQuery{DateTo: d("2027-06-30"), Sort: SortTitle, Limit: 20}},
		{"each sort: price", "sort=price", SearchQuery{Sort: SortPrice, Limit: 20}},
		{"each sort: title", "sort=title", SearchQuery{Sort: SortTitle, Limit: 20}},
		{"each sort: newest", "sort=-created_at", SearchQuery{Sort: SortNewest, Limit: 20}},
		{"limit 1", "limit=1", SearchQuery{Sort: SortTitle, Limit: 1}},
		{"accented q", "q=C%C3%B4te", SearchQuery{Q: "Côte", Sort: SortTitle, Limit: 20}},
		{"cursor of the same sort", "sort=price&cursor=" + priceCursor, SearchQuery{Sort: SortPrice, Limit: 20, Cursor: priceCursor}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := url.ParseQuery(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseSearch(v)
			if err != nil {
				t.Fatalf("ParseSearch(%q): %v", tt.raw, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSearch(%q) =\n %+v, want\n %+v", tt.raw, got, tt.want)
			}
			again, err := ParseSearch(got.Values())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip through Values: %+v, %v", again, err)
			}
		})
	}
}

func TestParseSearchRejects(t *testing.T) {
	priceCursor := Cursor{Sort: SortPrice, Price: 1, ID: uuid.MustParse("0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60")}.Encode()
	tests := []struct {
		name   string
		v      url.Values
		fields []string
	}{
		{"unknown sort", url.Values{"sort": {"rating"}}, []string{"sort"}},
		{"sort by id", url.Values{"sort": {"id"}}, []string{"sort"}},
		{"non-integer price", url.Values{"min_price": {"12.50"}}, []string{"min_price"}},
		{"price overflow", url.Values{"max_price": {"99999999999999999999"}}, []string{"max_price"}},
		{"negative price", url.Values{"min_price": {"-1"}}, []string{"min_price"}},
		{"min above max", url.Values{"min_price": {"10"}, "max_price": {"9"}}, []string{"min_price"}},
		{"bad date", url.Values{"date_from": {"2027-02-30"}}, []string{"date_from"}},
		{"date with time", url.Values{"date_to": {"2027-06-01T00:00:00Z"}}, []string{"date_to"}},
		{"from after to", url.Values{"date_from": {"2027-07-01"}, "date_to": {"2027-06-01"}}, []string{"date_from"}},
		{"limit zero", url.Values{"limit": {"0"}}, []string{"limit"}},
		{"limit 101", url.Values{"limit": {"101"}}, []string{"limit"}},
		{"limit negative", url.Values{"limit": {"-5"}}, []string{"limit"}},
		{"limit text", url.Values{"limit": {"ten"}}, []string{"limit"}},
		{"limit huge", url.Values{"limit": {"9999999999999999999999"}}, []string{"limit"}},
		{"bad cursor", url.Values{"cursor": {"not-a-cursor"}}, []string{"cursor"}},
		{"cursor of another sort", url.Values{"cursor": {priceCursor}}, []string{"cursor"}},
		{"repeated key", url.Values{"q": {"a", "b"}}, []string{"q"}},
		{"q too long", url.Values{"q": {string(make([]byte, 101))}}, []string{"q"}},
		{"q not UTF-8", url.Values{"q": {"\xff"}}, []string{"q"}},
		{"q with NUL", url.Values{"q": {"a\x00b"}}, []string{"q"}},
		{"destination control char", url.Values{"destination": {"a\x1bb"}}, []string{"destination"}},
		{"several at once", url.Values{"sort": {"x"}, "limit": {"0"}, "min_price": {"a"}}, []string{"limit", "min_price", "sort"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ParseSearch(tt.v)
			if err == nil {
				t.Fatalf("accepted: %+v", q)
			}
			assertFields(t, err, tt.fields...)
		})
	}
}

func TestParsePage(t *testing.T) {
	depCursor := DepartureCursor(Departure{ID: uuid.New(), StartsOn: NewDate(2027, time.June, 1)}).Encode()
	got, err := ParsePage(url.Values{})
	if err != nil || got != (Page{Limit: 20}) {
		t.Fatalf("defaults: %+v %v", got, err)
	}
	got, err = ParsePage(url.Values{"limit": {"5"}, "cursor": {depCursor}})
	if err != nil || got != (Page{Limit: 5, Cursor: depCursor}) {
		t.Fatalf("given: %+v %v", got, err)
	}
	tourCursor := Cursor{Sort: SortTitle, Title: "x", ID: uuid.New()}.Encode()
	_, err = ParsePage(url.Values{"limit": {"0"}, "cursor": {tourCursor}})
	assertFields(t, err, "limit", "cursor")
}

func TestSearchQueryValidateDefaults(t *testing.T) {
	// The store validates queries built in code, not only parsed ones.
	if err := (SearchQuery{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("zero query with defaults: %v", err)
	}
	assertFields(t, SearchQuery{Sort: "x", Limit: 500}.Validate(), "sort", "limit")
}
