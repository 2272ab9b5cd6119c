// Package validate collects per-field validation problems so that a caller can
// report every bad field of a request at once instead of stopping at the first.
//
// Domain packages use it to describe what is wrong with a value; the HTTP layer
// turns an *Error into a 422 problem+json with one entry per field.
package validate

import (
	"errors"
	"strings"
)

// FieldError says what is wrong with one field. Field uses the JSON name as the
// client sent it, with dots for nesting ("customer.email", "card.number").
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Error is a non-empty list of field problems. It is an error so that domain
// functions can return it like any other.
type Error struct {
	Fields []FieldError
}

func (e *Error) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, f.Field+": "+f.Detail)
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Collector accumulates field problems; its zero value is ready to use.
type Collector struct {
	fields []FieldError
}

// Add records a problem with field.
func (c *Collector) Add(field, detail string) {
	c.fields = append(c.fields, FieldError{Field: field, Detail: detail})
}

// Check records detail for field when ok is false, and reports ok.
func (c *Collector) Check(ok bool, field, detail string) bool {
	if !ok {
		c.Add(field, detail)
	}
	return ok
}

// Merge adds the field problems of err, with prefix before each field name
// ("customer" + "." + "email"). Other errors are recorded under prefix itself.
func (c *Collector) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	var verr *Error
	if !errors.As(err, &verr) {
		c.Add(prefix, err.Error())
		return
	}
	for _, f := range verr.Fields {
		name := f.Field
		if prefix != "" {
			name = prefix + "." + f.Field
		}
		c.Add(name, f.Detail)
	}
}

// Valid reports whether nothing was recorded.
func (c *Collector) Valid() bool { return len(c.fields) == 0 }

// Err returns nil when nothing was recorded, else an *Error with every problem.
func (c *Collector) Err() error {
	if len(c.fields) == 0 {
		return nil
	}
	return &Error{Fields: append([]FieldError(nil), c.fields...)}
}

// Fields returns the field problems of err when it is (or wraps) an *Error.
func Fields(err error) ([]FieldError, bool) {
	var verr *Error
	if errors.As(err, &verr) {
		return verr.Fields, true
	}
	return nil, false
}
