package db

import (
	"context"
	"net"
	"testing"
	"time"
)

// A server that accepts the connection and never answers, as a database
// behind a black hole looks: opening gives up after DefaultConnectTimeout,
// with an error IsUnavailable recognises, instead of waiting as long as the
// caller's (here generous) deadline, or longer.
func TestOpenGivesUpOnAServerThatNeverAnswers(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Open(ctx, Config{URL: "postgres://u:p@" + ln.Addr().String() + "/x?sslmode=disable"}, nil)
	took := time.Since(start)
	if err == nil || !IsUnavailable(err) {
		t.Fatalf("Open = %v, want an unavailable error", err)
	}
	if took > DefaultConnectTimeout+2*time.Second {
		t.Fatalf("Open gave up after %s, want about %s", took, DefaultConnectTimeout)
	}
}
