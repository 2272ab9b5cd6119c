package api

import (
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/tour-catalog/internal/catalog"
)

// The JSON shapes of the API (DESIGN §2: snake_case, RFC 3339 UTC times,
// money in minor units). They are separate from the domain types so the
// wire format changes only on purpose.

type tourJSON struct {
	ID           uuid.UUID     `json:"id"`
	Slug         string        `json:"slug"`
	Title        string        `json:"title"`
	Summary      string        `json:"summary"`
	Description  string        `json:"description"`
	Destination  string        `json:"destination"`
	DurationDays int           `json:"duration_days"`
	Difficulty   string        `json:"difficulty"`
	Price        catalog.Money `json:"price"`
	MaxGroupSize int           `json:"max_group_size"`
	ArchivedAt   *time.Time    `json:"archived_at"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// tourDetailJSON is one tour with its upcoming departures.
type tourDetailJSON struct {
	tourJSON
	Departures []departureJSON `json:"departures"`
}

type departureJSON struct {
	ID             uuid.UUID     `json:"id"`
	TourID         uuid.UUID     `json:"tour_id"`
	StartsOn       catalog.Date  `json:"starts_on"`
	Capacity       int           `json:"capacity"`
	SeatsReserved  int           `json:"seats_reserved"`
	SeatsAvailable int           `json:"seats_available"`
	Price          catalog.Money `json:"price"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
}

type holdJSON struct {
	ID          uuid.UUID     `json:"id"`
	DepartureID uuid.UUID     `json:"departure_id"`
	BookingID   uuid.UUID     `json:"booking_id"`
	Seats       int           `json:"seats"`
	UnitPrice   catalog.Money `json:"unit_price"`
	Total       catalog.Money `json:"total"`
	Status      string        `json:"status"`
	ExpiresAt   time.Time     `json:"expires_at"`
	ReleasedAt  *time.Time    `json:"released_at"`
	CreatedAt   time.Time     `json:"created_at"`
}

type listJSON[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func newList[T any](data []T, next string) listJSON[T] {
	if data == nil {
		data = []T{}
	}
	l := listJSON[T]{Data: data}
	if next != "" {
		l.NextCursor = &next
	}
	return l
}

func toTourJSON(t catalog.Tour) tourJSON {
	return tourJSON{
		ID: t.ID, Slug: t.Slug, Title: t.Title, Summary: t.Summary, Description: t.Description,
		Destination: t.Destination, DurationDays: t.DurationDays, Difficulty: string(t.Difficulty),
		Price: t.Price, MaxGroupSize: t.MaxGroupSize, ArchivedAt: utcPtr(t.ArchivedAt),
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
}

func toDepartureJSON(d catalog.Departure) departureJSON {
	return departureJSON{
		ID: d.ID, TourID: d.TourID, StartsOn: d.StartsOn, Capacity: d.Capacity,
		SeatsReserved: d.SeatsReserved, SeatsAvailable: d.SeatsAvailable(), Price: d.Price,
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(),
	}
}

func toHoldJSON(h catalog.Hold) holdJSON {
	return holdJSON{
		ID: h.ID, DepartureID: h.DepartureID, BookingID: h.BookingID, Seats: h.Seats,
		UnitPrice: h.UnitPrice, Total: h.Total(), Status: string(h.Status),
		ExpiresAt: h.ExpiresAt.UTC(), ReleasedAt: utcPtr(h.ReleasedAt), CreatedAt: h.CreatedAt.UTC(),
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Request bodies. Unknown fields are rejected by the decoder, so a typo in a
// field name is a 422 rather than a silently ignored value.

type createTourRequest struct {
	Slug         string        `json:"slug"`
	Title        string        `json:"title"`
	Summary      string        `json:"summary"`
	Description  string        `json:"description"`
	Destination  string        `json:"destination"`
	DurationDays int           `json:"duration_days"`
	Difficulty   string        `json:"difficulty"`
	Price        catalog.Money `json:"price"`
	MaxGroupSize int           `json:"max_group_size"`
}

func (r createTourRequest) toDomain() catalog.NewTour {
	return catalog.NewTour{
		Slug: r.Slug, Title: r.Title, Summary: r.Summary, Description: r.Description,
		Destination: r.Destination, DurationDays: r.DurationDays, Difficulty: catalog.Difficulty(r.Difficulty),
		Price: r.Price, MaxGroupSize: r.MaxGroupSize,
	}
}

type patchTourRequest struct {
	Slug         *string        `json:"slug"`
	Title        *string        `json:"title"`
	Summary      *string        `json:"summary"`
	Description  *string        `json:"description"`
	Destination  *string        `json:"destination"`
	DurationDays *int           `json:"duration_days"`
	Difficulty   *string        `json:"difficulty"`
	Price        *catalog.Money `json:"price"`
	MaxGroupSize *int           `json:"max_group_size"`
}

func (r patchTourRequest) toDomain() catalog.TourPatch {
	p := catalog.TourPatch{
		Slug: r.Slug, Title: r.Title, Summary: r.Summary, Description: r.Description,
		Destination: r.Destination, DurationDays: r.DurationDays, Price: r.Price, MaxGroupSize: r.MaxGroupSize,
	}
	if r.Difficulty != nil {
		d := catalog.Difficulty(*r.Difficulty)
		p.Difficulty = &d
	}
	return p
}

type createDepartureRequest struct {
	StartsOn string         `json:"starts_on"`
	Capacity int            `json:"capacity"`
	Price    *catalog.Money `json:"price"`
}

type placeHoldRequest struct {
	BookingID  string `json:"booking_id"`
	Seats      int    `json:"seats"`
	TTLSeconds *int   `json:"ttl_seconds"`
}
