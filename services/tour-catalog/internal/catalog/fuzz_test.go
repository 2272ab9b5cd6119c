package catalog

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/google/uuid"
)

// FuzzParseSearch feeds arbitrary query strings to ParseSearch. It must never
// panic; whatever it accepts must be a valid query that its own encoding
// (Values) parses back to unchanged, and its cursor must decode.
func FuzzParseSearch(f *testing.F) {
	id := uuid.MustParse("0190a5b2-7c4e-7d7a-9f00-5b1c2d3e4f60")
	f.Add("")
	f.Add("q=mont&sort=-price&limit=5")
	f.Add("min_price=100&max_price=50")
	f.Add("date_from=2027-06-01&date_to=2027-06-30&destination=Provence")
	f.Add("sort=price&cursor=" + Cursor{Sort: SortPrice, Price: 9900, ID: id}.Encode())
	f.Add("q=%ff%00&limit=-1&limit=2")
	f.Fuzz(func(t *testing.T, raw string) {
		v, _ := url.ParseQuery(raw) // keeps what parsed even on error
		q, err := ParseSearch(v)
		if err != nil {
			fieldsOf(t, err) // must be a *validate.Error, not another error
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("accepted an invalid query %+v: %v", q, err)
		}
		if q.Cursor != "" {
			if _, err := DecodeCursor(q.Sort, q.Cursor); err != nil {
				t.Fatalf("accepted cursor %q: %v", q.Cursor, err)
			}
		}
		enc := q.Values().Encode()
		v2, err := url.ParseQuery(enc)
		if err != nil {
			t.Fatalf("Values encode %q does not parse: %v", enc, err)
		}
		q2, err := ParseSearch(v2)
		if err != nil {
			t.Fatalf("re-encoded %q rejected: %v", enc, err)
		}
		if !reflect.DeepEqual(q, q2) {
			t.Fatalf("round trip changed the query:\n %+v\n %+v", q, q2)
		}
	})
}
