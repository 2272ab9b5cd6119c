// Package requestid carries the X-Request-ID of the request being served in its
// context, so that logs and outbound calls made on its behalf share one id.
package requestid

import (
	"context"

	"github.com/google/uuid"
)

// Header is the HTTP header that carries the id in and out.
const Header = "X-Request-ID"

// maxLen bounds an id taken from a client: it is logged and sent on.
const maxLen = 128

type ctxKey struct{}

// With returns ctx carrying id.
func With(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// From returns the id in ctx, or "".
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Accept returns the client's id when it is safe to log and forward
// (printable ASCII without spaces, at most 128 bytes), else a new one.
func Accept(fromClient string) string {
	if valid(fromClient) {
		return fromClient
	}
	return New()
}

// New returns a fresh id: a UUIDv7, which sorts by time in logs.
func New() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func valid(s string) bool {
	if s == "" || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
