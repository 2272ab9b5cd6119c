package catalog

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Sort orders of a tour search. Each has the tour id as a final tie-breaker
// in the same direction, so the order is total and pagination stable.
const (
	SortPrice     = "price"       // cheapest first
	SortPriceDesc = "-price"      // dearest first
	SortTitle     = "title"       // alphabetical, in the database's collation
	SortNewest    = "-created_at" // most recently created first
	DefaultSort   = SortTitle
)

// Page sizes of every list.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Lengths of free-text search parameters, in characters.
const (
	MaxQueryLen = 100
)

// SearchQuery is a tour search. Zero values mean "no filter"; Sort and Limit
// take their defaults when empty or zero (see WithDefaults).
type SearchQuery struct {
	// Q matches, case-insensitively, a part of the title, summary or
	// destination.
	Q string
	// Destination matches the whole destination, case-insensitively.
	Destination string
	// MinPrice and MaxPrice bound the tour's price amount, in minor units
	// (inclusive), whatever its currency.
	MinPrice, MaxPrice *int64
	// DateFrom and DateTo (inclusive) keep tours that have a departure
	// starting in that range with at least one seat left; either may be
	// open.
	DateFrom, DateTo *Date
	Sort             string
	Limit            int
	// Cursor continues a previous search with the same Sort.
	Cursor string
}

// searchKeys are the query parameters ParseSearch reads; others are ignored.
const (
	keyQ, keyDestination = "q", "destination"
	keyMinPrice          = "min_price"
	keyMaxPrice          = "max_price"
	keyDateFrom          = "date_from"
	keyDateTo            = "date_to"
	keySort              = "sort"
	keyLimit             = "limit"
	keyCursor            = "cursor"
)

// ParseSearch reads a search from query parameters. An empty parameter is
// the same as an absent one; a repeated one is an error, as are unknown
// sorts, prices that are not non-negative integers, min_price above
// max_price, dates not YYYY-MM-DD, date_from after date_to, a limit outside
// 1..MaxLimit and a cursor that this search did not produce. All problems
// come back together as a *validate.Error. It never panics.
func ParseSearch(v url.Values) (SearchQuery, error) {
	var c validate.Collector
	p := params{v: v, c: &c}
	q := SearchQuery{
		Q:           strings.TrimSpace(p.get(keyQ)),
		Destination: strings.TrimSpace(p.get(keyDestination)),
		MinPrice:    p.int64(keyMinPrice),
		MaxPrice:    p.int64(keyMaxPrice),
		DateFrom:    p.date(keyDateFrom),
		DateTo:      p.date(keyDateTo),
		Sort:        p.get(keySort),
		Cursor:      p.get(keyCursor),
	}.WithDefaults()
	if n, given := p.limit(); given {
		q.Limit = n // an explicit 0 stays 0, and is refused
	}
	if err := mergeNew(&c, q.Validate()); err != nil {
		return SearchQuery{}, err
	}
	return q, nil
}

// mergeNew adds to c the problems of err about fields c has none for (a
// value that did not parse was left empty, so Validate would misreport it),
// and returns everything c holds.
func mergeNew(c *validate.Collector, err error) error {
	seen := map[string]bool{}
	if prev, ok := validate.Fields(c.Err()); ok {
		for _, f := range prev {
			seen[f.Field] = true
		}
	}
	if more, ok := validate.Fields(err); ok {
		for _, f := range more {
			if !seen[f.Field] {
				c.Add(f.Field, f.Detail)
			}
		}
	}
	return c.Err()
}

// WithDefaults fills an empty Sort and a zero Limit.
func (q SearchQuery) WithDefaults() SearchQuery {
	if q.Sort == "" {
		q.Sort = DefaultSort
	}
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	return q
}

// Validate checks a search whose defaults are filled.
func (q SearchQuery) Validate() error {
	var c validate.Collector
	checkText(&c, keyQ, q.Q, 0, MaxQueryLen, false)
	checkText(&c, keyDestination, q.Destination, 0, MaxDestinationLen, false)
	if q.MinPrice != nil {
		c.Check(*q.MinPrice >= 0, keyMinPrice, "must not be negative")
	}
	if q.MaxPrice != nil {
		c.Check(*q.MaxPrice >= 0, keyMaxPrice, "must not be negative")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		c.Add(keyMinPrice, "must not be greater than max_price")
	}
	if q.DateFrom != nil && q.DateTo != nil && q.DateFrom.After(*q.DateTo) {
		c.Add(keyDateFrom, "must not be after date_to")
	}
	sortOK := validSort(q.Sort)
	c.Check(sortOK, keySort, "must be one of price, -price, title, -created_at")
	checkLimit(&c, q.Limit)
	if sortOK && q.Cursor != "" {
		if _, err := DecodeCursor(q.Sort, q.Cursor); err != nil {
			c.Add(keyCursor, "is not a cursor of this search (start again without it)")
		}
	}
	return c.Err()
}

// Values encodes q as query parameters that ParseSearch reads back to q:
// the form of a "next page" link.
func (q SearchQuery) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set(keyQ, q.Q)
	set(keyDestination, q.Destination)
	if q.MinPrice != nil {
		v.Set(keyMinPrice, strconv.FormatInt(*q.MinPrice, 10))
	}
	if q.MaxPrice != nil {
		v.Set(keyMaxPrice, strconv.FormatInt(*q.MaxPrice, 10))
	}
	if q.DateFrom != nil {
		v.Set(keyDateFrom, q.DateFrom.String())
	}
	if q.DateTo != nil {
		v.Set(keyDateTo, q.DateTo.String())
	}
	set(keySort, q.Sort)
	if q.Limit != 0 {
		v.Set(keyLimit, strconv.Itoa(q.Limit))
	}
	set(keyCursor, q.Cursor)
	return v
}

func validSort(s string) bool {
	switch s {
	case SortPrice, SortPriceDesc, SortTitle, SortNewest:
		return true
	}
	return false
}

func checkLimit(c *validate.Collector, limit int) {
	c.Check(limit >= 1 && limit <= MaxLimit, keyLimit, "must be between 1 and "+strconv.Itoa(MaxLimit))
}

// Page is a position and size in a list other than the tour search, such
// as a tour's departures.
type Page struct {
	Limit  int
	Cursor string
}

// ParsePage reads limit and cursor for a departure list, with the same rules
// as ParseSearch.
func ParsePage(v url.Values) (Page, error) {
	var c validate.Collector
	p := params{v: v, c: &c}
	pg := Page{Cursor: p.get(keyCursor)}.WithDefaults()
	if n, given := p.limit(); given {
		pg.Limit = n
	}
	if err := mergeNew(&c, pg.Validate()); err != nil {
		return Page{}, err
	}
	return pg, nil
}

// WithDefaults fills a zero Limit.
func (p Page) WithDefaults() Page {
	if p.Limit == 0 {
		p.Limit = DefaultLimit
	}
	return p
}

// Validate checks a departure-list page whose defaults are filled.
func (p Page) Validate() error {
	var c validate.Collector
	checkLimit(&c, p.Limit)
	if p.Cursor != "" {
		if _, err := DecodeCursor(DepartureOrder, p.Cursor); err != nil {
			c.Add(keyCursor, "is not a cursor of this list (start again without it)")
		}
	}
	return c.Err()
}

// params reads single-valued query parameters, recording problems.
type params struct {
	v url.Values
	c *validate.Collector
}

// get returns the one value of key, or "" when it is absent or repeated
// (a repeated key is recorded as a problem: which one was meant is a guess).
func (p params) get(key string) string {
	vals := p.v[key]
	switch len(vals) {
	case 0:
		return ""
	case 1:
		return vals[0]
	}
	p.c.Add(key, "must be given at most once")
	return ""
}

func (p params) int64(key string) *int64 {
	s := p.get(key)
	if s == "" {
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		p.c.Add(key, "must be an integer amount in minor units")
		return nil
	}
	return &n
}

func (p params) date(key string) *Date {
	s := p.get(key)
	if s == "" {
		return nil
	}
	d, err := ParseDate(s)
	if err != nil {
		p.c.Add(key, "must be a date as YYYY-MM-DD")
		return nil
	}
	return &d
}

// limit returns the limit and whether one was given.
func (p params) limit() (int, bool) {
	s := p.get(keyLimit)
	if s == "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		p.c.Add(keyLimit, "must be an integer between 1 and "+strconv.Itoa(MaxLimit))
		return 0, false
	}
	return n, true
}
