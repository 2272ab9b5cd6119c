package db_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tourism-go/tourism/pkg/db"
)

func TestIsUnavailable(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("syntax error"), false},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"admin shutdown", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"dial refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"deadline", fmt.Errorf("ping: %w", context.DeadlineExceeded), true},
	}
	for _, tc := range cases {
		if got := db.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A real refused connection, as while PostgreSQL restarts, is recognised.
func TestIsUnavailableOnARefusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5e9)
	defer cancel()
	_, err = db.Open(ctx, db.Config{URL: "postgres://u:p@" + addr + "/x?sslmode=disable&connect_timeout=2"}, nil)
	if err == nil || !db.IsUnavailable(err) {
		t.Fatalf("open of a closed port: %v, want an unavailable error", err)
	}
}
