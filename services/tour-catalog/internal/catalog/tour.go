package catalog

import (
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Difficulty grades how demanding a tour is.
type Difficulty string

const (
	DifficultyEasy     Difficulty = "easy"
	DifficultyModerate Difficulty = "moderate"
	DifficultyHard     Difficulty = "hard"
)

// Valid reports whether d is one of the three grades.
func (d Difficulty) Valid() bool {
	switch d {
	case DifficultyEasy, DifficultyModerate, DifficultyHard:
		return true
	}
	return false
}

// Field limits of a tour, in characters unless said otherwise.
const (
	MinTitleLen       = 3
	MaxTitleLen       = 120
	MaxSummaryLen     = 300
	MaxDescriptionLen = 5000
	MinDestinationLen = 2
	MaxDestinationLen = 80
	MinDurationDays   = 1
	MaxDurationDays   = 60
	MinGroupSize      = 1
	MaxGroupSize      = 100
)

// Tour is a product of the catalogue. Price is the price per seat of its
// departures unless a departure overrides it.
type Tour struct {
	ID           uuid.UUID
	Slug         string
	Title        string
	Summary      string
	Description  string
	Destination  string
	DurationDays int
	Difficulty   Difficulty
	Price        Money
	MaxGroupSize int
	// ArchivedAt is set once the tour is withdrawn from sale: hidden from
	// search, closed to edits, new departures and new holds, but still
	// readable by id or slug, and its existing holds keep working.
	ArchivedAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Archived reports whether the tour is withdrawn from sale.
func (t Tour) Archived() bool { return t.ArchivedAt != nil }

// NewTour is a request to create a tour. Slug is optional: empty means
// Slugify(Title).
type NewTour struct {
	Slug         string
	Title        string
	Summary      string
	Description  string
	Destination  string
	DurationDays int
	Difficulty   Difficulty
	Price        Money
	MaxGroupSize int
}

// Normalize trims surrounding white space and derives the slug from the
// title when none was given. Validate expects a normalized value.
func (n NewTour) Normalize() NewTour {
	n.Slug = strings.TrimSpace(n.Slug)
	n.Title = strings.TrimSpace(n.Title)
	n.Summary = strings.TrimSpace(n.Summary)
	n.Description = strings.TrimSpace(n.Description)
	n.Destination = strings.TrimSpace(n.Destination)
	if n.Slug == "" {
		n.Slug = Slugify(n.Title)
	}
	return n
}

// Validate checks every field and reports all problems at once as a
// *validate.Error.
func (n NewTour) Validate() error {
	var c validate.Collector
	if msg := validSlug(n.Slug); msg != "" {
		c.Add("slug", msg)
	}
	checkText(&c, "title", n.Title, MinTitleLen, MaxTitleLen, false)
	checkText(&c, "summary", n.Summary, 0, MaxSummaryLen, false)
	checkText(&c, "description", n.Description, 0, MaxDescriptionLen, true)
	checkText(&c, "destination", n.Destination, MinDestinationLen, MaxDestinationLen, false)
	checkRange(&c, "duration_days", n.DurationDays, MinDurationDays, MaxDurationDays)
	c.Check(n.Difficulty.Valid(), "difficulty", "must be one of easy, moderate, hard")
	c.Merge("price", n.Price.Validate())
	checkRange(&c, "max_group_size", n.MaxGroupSize, MinGroupSize, MaxGroupSize)
	return c.Err()
}

// TourPatch is a partial update: nil fields stay as they are. Changing the
// title does not change the slug, so that published links keep working;
// give Slug to change it.
type TourPatch struct {
	Slug         *string
	Title        *string
	Summary      *string
	Description  *string
	Destination  *string
	DurationDays *int
	Difficulty   *Difficulty
	Price        *Money
	MaxGroupSize *int
}

// IsEmpty reports whether the patch changes nothing.
func (p TourPatch) IsEmpty() bool { return p == TourPatch{} }

// Normalize trims surrounding white space of the given text fields.
func (p TourPatch) Normalize() TourPatch {
	for _, f := range []**string{&p.Slug, &p.Title, &p.Summary, &p.Description, &p.Destination} {
		if *f != nil {
			v := strings.TrimSpace(**f)
			*f = &v // a copy: never write through the caller's pointer
		}
	}
	return p
}

// Validate checks the given fields by the same rules as NewTour.
func (p TourPatch) Validate() error {
	var c validate.Collector
	if p.Slug != nil {
		if msg := validSlug(*p.Slug); msg != "" {
			c.Add("slug", msg)
		}
	}
	if p.Title != nil {
		checkText(&c, "title", *p.Title, MinTitleLen, MaxTitleLen, false)
	}
	if p.Summary != nil {
		checkText(&c, "summary", *p.Summary, 0, MaxSummaryLen, false)
	}
	if p.Description != nil {
		checkText(&c, "description", *p.Description, 0, MaxDescriptionLen, true)
	}
	if p.Destination != nil {
		checkText(&c, "destination", *p.Destination, MinDestinationLen, MaxDestinationLen, false)
	}
	if p.DurationDays != nil {
		checkRange(&c, "duration_days", *p.DurationDays, MinDurationDays, MaxDurationDays)
	}
	if p.Difficulty != nil {
		c.Check(p.Difficulty.Valid(), "difficulty", "must be one of easy, moderate, hard")
	}
	if p.Price != nil {
		c.Merge("price", p.Price.Validate())
	}
	if p.MaxGroupSize != nil {
		checkRange(&c, "max_group_size", *p.MaxGroupSize, MinGroupSize, MaxGroupSize)
	}
	return c.Err()
}

// Apply returns t with the patch's fields set. It does not validate (call
// Validate first) nor touch UpdatedAt.
func (p TourPatch) Apply(t Tour) Tour {
	if p.Slug != nil {
		t.Slug = *p.Slug
	}
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.Summary != nil {
		t.Summary = *p.Summary
	}
	if p.Description != nil {
		t.Description = *p.Description
	}
	if p.Destination != nil {
		t.Destination = *p.Destination
	}
	if p.DurationDays != nil {
		t.DurationDays = *p.DurationDays
	}
	if p.Difficulty != nil {
		t.Difficulty = *p.Difficulty
	}
	if p.Price != nil {
		t.Price = *p.Price
	}
	if p.MaxGroupSize != nil {
		t.MaxGroupSize = *p.MaxGroupSize
	}
	return t
}
