package db

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tourism-go/tourism/pkg/problem"
)

// IsUnavailable reports whether err means the database cannot be reached
// right now (refused or dropped connection, server shutting down or
// starting, pool timeout) rather than that a query was wrong. Handlers turn
// such errors into 503 so that clients retry instead of seeing a 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code[:2] {
		case "08", // connection exception
			"57": // operator intervention: admin_shutdown, cannot_connect_now...
			return true
		}
		return false
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, context.DeadlineExceeded) ||
		pgconn.SafeToRetry(err)
}

// UnavailableRule maps IsUnavailable errors to 503 in a service's error
// table. List it last: a peer's network error that a service maps to
// upstream_unavailable must match its own rule first.
func UnavailableRule() problem.Rule {
	return problem.Rule{
		Match:  IsUnavailable,
		Status: http.StatusServiceUnavailable,
		Code:   problem.CodeUnavailable,
		Detail: "The service cannot reach its database right now; retry shortly.",
	}
}
