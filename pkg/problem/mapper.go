package problem

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/validate"
)

// Rule maps a domain error (matched with errors.Is) to a status and code.
// Detail is the message clients see; empty means the error's own text, which
// is right for domain errors written for humans.
type Rule struct {
	Err error
	// Match, when set, is used instead of Err: for errors recognised by
	// what they are rather than by identity (a dropped database connection).
	Match  func(error) bool
	Status int
	Code   string
	Detail string
}

// Mapper turns errors into problem responses.
type Mapper struct {
	rules []Rule
	log   *slog.Logger
}

// NewMapper returns a mapper for rules, tried in order.
func NewMapper(log *slog.Logger, rules ...Rule) *Mapper {
	return &Mapper{rules: rules, log: log}
}

// Problem returns the problem for err. Anything unknown is a 500 whose body
// says nothing of the cause: the cause is logged, never sent.
func (m *Mapper) Problem(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if fields, ok := validate.Fields(err); ok {
		return Validation(fields)
	}
	for _, r := range m.rules {
		matched := r.Err != nil && errors.Is(err, r.Err)
		if r.Match != nil {
			matched = r.Match(err)
		}
		if matched {
			detail := r.Detail
			if detail == "" {
				detail = r.Err.Error()
			}
			return New(r.Status, r.Code, detail)
		}
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The client went away; nobody reads this answer, but the access
		// log should not count it as a server fault.
		return New(499, "client_closed_request", "The client closed the request.")
	}
	m.log.ErrorContext(ctx, "unhandled error", "err", err)
	return New(http.StatusInternalServerError, CodeInternal, "An unexpected error occurred.")
}

// Respond writes the problem for err and aborts the handler chain.
func (m *Mapper) Respond(c *gin.Context, err error) {
	Write(c, m.Problem(c.Request.Context(), err))
}

// Write sends p as the response and aborts the handler chain.
func Write(c *gin.Context, p *Problem) {
	if p.Instance == "" {
		cp := *p
		cp.Instance = c.Request.URL.Path
		p = &cp
	}
	c.Header("Content-Type", ContentType)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatus(p.Status)
	body, err := p.MarshalJSON()
	if err != nil {
		body = []byte(`{"type":"about:blank","title":"Internal Server Error","status":500,"code":"internal_error"}`)
	}
	_, _ = c.Writer.Write(body)
}
