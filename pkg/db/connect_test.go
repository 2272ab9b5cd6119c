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

// A name lookup that never answers (a stopped compose service whose name
// Docker's DNS forwards to resolvers that are not there) ends after
// DefaultLookupTimeout, not when the resolver or the caller gives up.
func TestBoundedLookupGivesUp(t *testing.T) {
	stalled := func(ctx context.Context, host string) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	lookup := boundedLookup(stalled, 50*time.Millisecond)
	start := time.Now()
	_, err := lookup(t.Context(), "postgres")
	if err == nil {
		t.Fatal("lookup succeeded, want an error")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("lookup gave up after %s, want about 50ms", took)
	}
	answered := func(ctx context.Context, host string) ([]string, error) { return []string{"10.0.0.7"}, nil }
	addrs, err := boundedLookup(answered, time.Second)(t.Context(), "postgres")
	if err != nil || len(addrs) != 1 || addrs[0] != "10.0.0.7" {
		t.Fatalf("lookup = %v, %v; want [10.0.0.7]", addrs, err)
	}
}
