package catalog

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// DepartureOrder names the one order departures are listed in (start date,
// then id); it is the Sort of departure-list cursors.
const DepartureOrder = "starts_on"

// maxCursorLen bounds an encoded cursor; a real one is well under 300 bytes
// (the longest key is a 120-character title).
const maxCursorLen = 1024

// Cursor is a position in a keyset-paginated list: the sort key of the last
// row served and its id, which breaks ties. The next page is the rows
// strictly after (key, id) in the list's order, so rows inserted or removed
// meanwhile never cause a duplicate or a skip of rows that stay.
//
// Only the field of Sort's key is meaningful: Price for SortPrice and
// SortPriceDesc, Title for SortTitle, CreatedAt for SortNewest, StartsOn for
// DepartureOrder.
type Cursor struct {
	Sort      string
	Price     int64
	Title     string
	CreatedAt time.Time
	StartsOn  Date
	ID        uuid.UUID
}

// TourCursor is the cursor after tour t in a search sorted by sort.
func TourCursor(sort string, t Tour) Cursor {
	return Cursor{Sort: sort, Price: t.Price.Amount, Title: t.Title, CreatedAt: t.CreatedAt, ID: t.ID}
}

// DepartureCursor is the cursor after departure d in a departure list.
func DepartureCursor(d Departure) Cursor {
	return Cursor{Sort: DepartureOrder, StartsOn: d.StartsOn, ID: d.ID}
}

// cursorWire is the cursor's encoded form: the sort it belongs to, its key
// as text and the id. Clients must treat the base64 of it as opaque.
type cursorWire struct {
	Sort string `json:"s"`
	Key  string `json:"k"`
	ID   string `json:"id"`
}

// Encode returns the opaque, URL-safe form of c.
//
// It is not signed: a client that edits a cursor can only move its own
// position in a public list, which it could do with filters anyway. Edits
// that do not decode to a cursor of the list's sort are rejected.
func (c Cursor) Encode() string {
	var key string
	switch c.Sort {
	case SortPrice, SortPriceDesc:
		key = strconv.FormatInt(c.Price, 10)
	case SortTitle:
		key = c.Title
	case SortNewest:
		key = c.CreatedAt.UTC().Format(time.RFC3339Nano)
	case DepartureOrder:
		key = c.StartsOn.String()
	}
	// Marshalling a struct of strings cannot fail.
	b, _ := json.Marshal(cursorWire{Sort: c.Sort, Key: key, ID: c.ID.String()})
	return base64.RawURLEncoding.EncodeToString(b)
}

var errCursor = errors.New("not a cursor of this list")

// DecodeCursor reads a cursor that Encode produced for a list sorted by
// sort. Anything else (bad base64 or JSON, another sort, a key of the wrong
// type, a bad id) is an error.
func DecodeCursor(sort, s string) (Cursor, error) {
	if len(s) > maxCursorLen {
		return Cursor{}, errCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, errCursor
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var w cursorWire
	if err := dec.Decode(&w); err != nil {
		return Cursor{}, errCursor
	}
	if _, err := dec.Token(); err != io.EOF {
		return Cursor{}, errCursor // trailing data
	}
	if w.Sort != sort {
		return Cursor{}, fmt.Errorf("cursor of sort %q used with sort %q: %w", w.Sort, sort, errCursor)
	}
	id, err := uuid.Parse(w.ID)
	if err != nil || len(w.ID) != 36 {
		return Cursor{}, errCursor
	}
	c := Cursor{Sort: sort, ID: id}
	switch sort {
	case SortPrice, SortPriceDesc:
		c.Price, err = strconv.ParseInt(w.Key, 10, 64)
	case SortTitle:
		if !utf8.ValidString(w.Key) || utf8.RuneCountInString(w.Key) > MaxTitleLen {
			err = errCursor
		}
		c.Title = w.Key
	case SortNewest:
		c.CreatedAt, err = time.Parse(time.RFC3339Nano, w.Key)
		c.CreatedAt = c.CreatedAt.UTC()
	case DepartureOrder:
		c.StartsOn, err = ParseDate(w.Key)
	default:
		err = errCursor
	}
	if err != nil {
		return Cursor{}, errCursor
	}
	return c, nil
}
