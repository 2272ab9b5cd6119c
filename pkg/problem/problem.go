// Package problem writes RFC 9457 problem details (application/problem+json)
// and is the one place where errors become HTTP statuses: a service lists
// its domain errors once in a Mapper, and every handler answers errors
// through it.
package problem

import (
	"encoding/json"
	"maps"
	"net/http"

	"github.com/tourism-go/tourism/pkg/validate"
)

// ContentType is the media type of every error body.
const ContentType = "application/problem+json"

// Stable machine-readable codes shared by the services (DESIGN §2).
const (
	CodeValidationFailed     = "validation_failed"
	CodeMalformedJSON        = "malformed_json"
	CodeNotFound             = "not_found"
	CodeUnauthorized         = "unauthorized"
	CodeConflict             = "conflict"
	CodePayloadTooLarge      = "payload_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeUpstreamUnavailable  = "upstream_unavailable"
	CodeUpstreamTimeout      = "upstream_timeout"
	CodeInternal             = "internal_error"
	CodeUnavailable          = "service_unavailable"
)

// Problem is one problem details object. It is also an error, so code that
// already knows the HTTP answer (request decoding, auth) can return it.
type Problem struct {
	// Type is "about:blank": the status and Code say what happened.
	Type     string
	Title    string
	Status   int
	Detail   string
	Code     string
	Instance string
	Errors   []validate.FieldError
	// Extensions are extra members, such as decline_code on a declined card.
	Extensions map[string]any
}

// New returns a problem with the status's standard title.
func New(status int, code, detail string) *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Code: code, Detail: detail}
}

// With returns a copy of p with the extension member key set to value.
func (p *Problem) With(key string, value any) *Problem {
	cp := *p
	cp.Extensions = maps.Clone(p.Extensions)
	if cp.Extensions == nil {
		cp.Extensions = map[string]any{}
	}
	cp.Extensions[key] = value
	return &cp
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return p.Code + ": " + p.Detail
	}
	return p.Code
}

// MarshalJSON writes the standard members, then the extensions; an
// extension never overrides a standard member.
func (p *Problem) MarshalJSON() ([]byte, error) {
	m := make(map[string]any, 7+len(p.Extensions))
	maps.Copy(m, p.Extensions)
	m["type"] = p.Type
	m["title"] = p.Title
	m["status"] = p.Status
	m["code"] = p.Code
	if p.Detail != "" {
		m["detail"] = p.Detail
	}
	if p.Instance != "" {
		m["instance"] = p.Instance
	}
	if len(p.Errors) > 0 {
		m["errors"] = p.Errors
	}
	return json.Marshal(m)
}

// Validation is the 422 for field errors.
func Validation(fields []validate.FieldError) *Problem {
	p := New(http.StatusUnprocessableEntity, CodeValidationFailed, "The request has invalid fields.")
	p.Errors = fields
	return p
}

// NotFound is a 404 saying what was not found.
func NotFound(detail string) *Problem { return New(http.StatusNotFound, CodeNotFound, detail) }

// Unauthorized is the 401 for a missing or wrong credential; it never says which.
func Unauthorized() *Problem {
	return New(http.StatusUnauthorized, CodeUnauthorized, "A valid bearer token is required.")
}

// Unavailable is the 503 for a dependency this service cannot reach right
// now (its database); clients should retry.
func Unavailable() *Problem {
	return New(http.StatusServiceUnavailable, CodeUnavailable, "The service cannot reach its database right now; retry shortly.")
}
