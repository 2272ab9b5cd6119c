package catalog

import (
	"fmt"
	"time"
)

// dateLayout is the only accepted form: a full ISO 8601 calendar date.
const dateLayout = "2006-01-02"

// Date is a calendar date with no time of day and no zone, such as the day a
// departure starts. The zero Date is not a valid date (IsZero reports it).
// Dates compare with == and order with Compare.
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the date year-month-day, normalised as time.Date does
// (month 13 is January of the next year).
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in UTC, the zone the service
// reckons days in.
func DateOf(t time.Time) Date {
	y, m, d := t.UTC().Date()
	return Date{year: y, month: m, day: d}
}

// Today is the date of now; a name for the rule "the service's today is UTC".
func Today(now time.Time) Date { return DateOf(now) }

// ParseDate reads "YYYY-MM-DD" and rejects anything else, including dates
// that do not exist ("2027-02-30").
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// Year, Month and Day return the parts of d.
func (d Date) Year() int          { return d.year }
func (d Date) Month() time.Month  { return d.month }
func (d Date) Day() int           { return d.day }
func (d Date) IsZero() bool       { return d == Date{} }
func (d Date) Time() time.Time    { return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC) }
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// AddYears returns d moved by n years (29 February becomes 1 March).
func (d Date) AddYears(n int) Date { return DateOf(d.Time().AddDate(n, 0, 0)) }

// Compare returns -1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int { return d.Time().Compare(o.Time()) }

// Before and After order two dates.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }
func (d Date) After(o Date) bool  { return d.Compare(o) > 0 }

// String returns "YYYY-MM-DD". Because the year has four digits, the string
// order of two dates is their calendar order, which the store relies on.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// MarshalText and UnmarshalText let a Date travel as "YYYY-MM-DD" in JSON.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
