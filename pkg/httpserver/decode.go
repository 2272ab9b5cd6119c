package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/validate"
)

// DecodeJSON reads the request body into dst. It returns a *problem.Problem
// that says exactly what is wrong: 413 for a body over the limit, 400 for
// an empty body or malformed JSON, 422 for well-formed JSON whose fields
// have the wrong type or are unknown (a typo in a field name must not be
// silently ignored).
func DecodeJSON(c *gin.Context, dst any) error {
	body, err := io.ReadAll(c.Request.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return tooLarge(maxErr.Limit)
		}
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body could not be read.")
	}
	return DecodeBytes(body, dst)
}

// DecodeBytes is DecodeJSON for a body already read (the idempotency layer
// reads it to hash it).
func DecodeBytes(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body is empty; send a JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body holds more than one JSON value.")
	}
	if _, err := dec.Token(); err != io.EOF {
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body holds more than one JSON value.")
	}
	return nil
}

func decodeProblem(err error) *problem.Problem {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syntaxErr):
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON,
			fmt.Sprintf("The request body is not valid JSON (at byte %d).", syntaxErr.Offset))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body is truncated JSON.")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body must be a JSON object.")
		}
		return problem.Validation([]validate.FieldError{{Field: field, Detail: "must be " + jsonKind(typeErr.Type.Kind().String())}})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return problem.Validation([]validate.FieldError{{Field: name, Detail: "is not a known field"}})
	default:
		return problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body is not valid JSON.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "a whole number in range"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	default:
		return "of another type"
	}
}
