package catalog

import (
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/tourism-go/tourism/pkg/validate"
)

// checkText records a problem with field unless s is valid UTF-8 of min..max
// characters (runes, as PostgreSQL's varchar counts them) free of control
// characters. multiline allows newlines and tabs, as a description needs.
// PostgreSQL rejects invalid UTF-8 and NUL outright, so letting them through
// would turn a client mistake into a server error.
func checkText(c *validate.Collector, field, s string, minLen, maxLen int, multiline bool) {
	if !utf8.ValidString(s) {
		c.Add(field, "must be valid UTF-8")
		return
	}
	n := utf8.RuneCountInString(s)
	switch {
	case minLen > 0 && n == 0:
		c.Add(field, "is required")
		return
	case n < minLen || n > maxLen:
		if minLen == 0 {
			c.Add(field, "must be at most "+strconv.Itoa(maxLen)+" characters")
		} else {
			c.Add(field, "must be between "+strconv.Itoa(minLen)+" and "+strconv.Itoa(maxLen)+" characters")
		}
		return
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\r' || r == '\t')) {
			c.Add(field, "must not contain control characters")
			return
		}
	}
}

// checkRange records a problem with field unless minV <= v <= maxV.
func checkRange(c *validate.Collector, field string, v, minV, maxV int) {
	c.Check(v >= minV && v <= maxV, field,
		"must be between "+strconv.Itoa(minV)+" and "+strconv.Itoa(maxV))
}
