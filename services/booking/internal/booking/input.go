package booking

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Limits on what a customer sends.
const (
	MinSeats      = 1
	MaxSeats      = 20 // the catalog's limit for one hold
	MaxNameLength = 100
	// MaxEmailLength is the longest address SMTP can carry (RFC 5321).
	MaxEmailLength = 254
)

// Customer is who the booking is for.
type Customer struct {
	Name  string
	Email string
}

// Request is what a customer sends to book seats. DepartureID stays a
// string so that a malformed one is a problem of its field.
type Request struct {
	DepartureID string
	Seats       int
	Customer    Customer
}

// Validate checks every field of r at once and returns the departure id
// and the customer with surrounding spaces trimmed.
func (r Request) Validate() (uuid.UUID, Customer, error) {
	var v validate.Collector
	id, err := uuid.Parse(r.DepartureID)
	switch {
	case r.DepartureID == "":
		v.Add("departure_id", "is required")
	case err != nil || len(r.DepartureID) != 36 || id == uuid.Nil:
		v.Add("departure_id", "must be a UUID")
	}
	v.Check(r.Seats >= MinSeats && r.Seats <= MaxSeats, "seats",
		fmt.Sprintf("must be between %d and %d", MinSeats, MaxSeats))
	c, err := r.Customer.normalize()
	v.Merge("customer", err)
	if err := v.Err(); err != nil {
		return uuid.Nil, Customer{}, err
	}
	return id, c, nil
}

func (c Customer) normalize() (Customer, error) {
	var v validate.Collector
	c.Name = strings.TrimSpace(c.Name)
	c.Email = strings.TrimSpace(c.Email)
	switch n := utf8.RuneCountInString(c.Name); {
	case !utf8.ValidString(c.Name) || strings.ContainsFunc(c.Name, unicode.IsControl):
		v.Add("name", "must be text without control characters")
	case n == 0:
		v.Add("name", "is required")
	case n > MaxNameLength:
		v.Add("name", fmt.Sprintf("must be at most %d characters", MaxNameLength))
	}
	switch {
	case c.Email == "":
		v.Add("email", "is required")
	case len(c.Email) > MaxEmailLength:
		v.Add("email", fmt.Sprintf("must be at most %d characters", MaxEmailLength))
	case !plausibleEmail(c.Email):
		v.Add("email", "must be an email address such as ana@example.com")
	}
	return c, v.Err()
}

// plausibleEmail accepts a bare address (no display name, no comments) with
// a dotted domain. Whether the mailbox exists only a sent mail can tell.
func plausibleEmail(s string) bool {
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || addr.Name != "" {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && len(local) <= 64 &&
		strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".") &&
		!strings.ContainsAny(s, " \t\r\n")
}
