package httpclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"

	"github.com/tourism-go/tourism/pkg/validate"
)

// ErrUnavailable matches (errors.Is) every error that means the peer gave
// no usable answer: connection failures, timeouts, 429, 502, 503 and 504,
// whether or not retries were allowed. Callers answer it with 503
// upstream_unavailable.
var ErrUnavailable = errors.New("upstream unavailable")

// ErrTimeout additionally matches the unavailability errors that were
// timeouts (an attempt or the overall deadline, or a 504), for callers that
// answer 504 upstream_timeout instead.
var ErrTimeout = errors.New("upstream timeout")

// UnavailableError is the error behind ErrUnavailable. Err is the last
// cause: a network error, context.DeadlineExceeded, or a *StatusError.
type UnavailableError struct {
	Method   string
	Path     string
	Attempts int
	Timeout  bool
	Err      error
}

func (e *UnavailableError) Error() string {
	what := "unavailable"
	if e.Timeout {
		what = "timed out"
	}
	return fmt.Sprintf("%s %s: upstream %s after %d attempt(s): %v", e.Method, e.Path, what, e.Attempts, e.Err)
}

// Is makes errors.Is(err, ErrUnavailable), and for timeouts ErrTimeout, true.
func (e *UnavailableError) Is(target error) bool {
	return target == ErrUnavailable || (e.Timeout && target == ErrTimeout)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// StatusError is a non-2xx answer. When the body is problem details (DESIGN
// §2) its members are decoded, so a caller switches on Code and reads
// extensions such as decline_code; Body keeps the raw bytes either way.
type StatusError struct {
	Method string
	Path   string
	Status int
	Type   string
	Title  string
	Code   string
	Detail string
	// Errors are the field errors of a 422 validation_failed.
	Errors []validate.FieldError
	// Extensions are the members beyond the standard ones.
	Extensions map[string]any
	Body       []byte
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s %s: upstream answered %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// Extension returns the extension member key when it is a string ("" if
// absent), the usual shape of decline_code and its kind.
func (e *StatusError) Extension(key string) string {
	s, _ := e.Extensions[key].(string)
	return s
}

func newStatusError(method, path string, status int, contentType string, body []byte) *StatusError {
	e := &StatusError{Method: method, Path: path, Status: status, Body: body}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt != "application/problem+json" && mt != "application/json" {
		return e
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return e
	}
	for name, raw := range members {
		switch name {
		case "type":
			_ = json.Unmarshal(raw, &e.Type)
		case "title":
			_ = json.Unmarshal(raw, &e.Title)
		case "code":
			_ = json.Unmarshal(raw, &e.Code)
		case "detail":
			_ = json.Unmarshal(raw, &e.Detail)
		case "errors":
			_ = json.Unmarshal(raw, &e.Errors)
		case "status", "instance":
			// The HTTP status is authoritative; the instance is the
			// peer's path, which the caller already knows.
		default:
			var v any
			if json.Unmarshal(raw, &v) == nil {
				if e.Extensions == nil {
					e.Extensions = map[string]any{}
				}
				e.Extensions[name] = v
			}
		}
	}
	return e
}
