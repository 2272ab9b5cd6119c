package retryset_test

import (
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/retryset"
)

var now = time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)

// A long outage under traffic must not grow the set without end: full, it
// drops the expired entries, then keeps no new one.
func TestSetIsBounded(t *testing.T) {
	const max = 100
	s := retryset.New[int, string](max)
	for i := range max {
		until := now.Add(time.Minute)
		if i%2 == 0 {
			until = now.Add(-time.Second) // expired
		}
		s.Add(i, "work", until, now)
	}
	if n := s.Len(); n != max {
		t.Fatalf("%d kept, want %d", n, max)
	}
	s.Add(max, "work", now.Add(time.Minute), now)
	if n := s.Len(); n != max/2+1 {
		t.Fatalf("full: %d kept, want the %d running plus the new one", n, max/2)
	}
	for i := range max {
		s.Add(2*max+i, "work", now.Add(time.Minute), now)
	}
	if n := s.Len(); n != max {
		t.Fatalf("full of running entries: %d kept, want %d", n, max)
	}
	// Replacing what a key holds needs no room.
	s.Add(max, "newer", now.Add(time.Minute), now)
	if v, ok := s.Get(max, now); !ok || v != "newer" {
		t.Fatalf("replaced entry: %q %v", v, ok)
	}
}

func TestExpiredEntriesAreNeverHandedOut(t *testing.T) {
	s := retryset.New[string, int](0)
	s.Add("running", 1, now.Add(time.Second), now)
	s.Add("expired", 2, now, now)
	if _, ok := s.Get("expired", now); ok {
		t.Fatal("Get handed out an expired entry")
	}
	live := s.Live(now)
	if len(live) != 1 || live["running"] != 1 {
		t.Fatalf("Live: %v", live)
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("%d entries after Live, want the expired one dropped", n)
	}
}

func TestRemoveIfSparesNewerWork(t *testing.T) {
	s := retryset.New[string, int](0)
	s.Add("k", 1, now.Add(time.Minute), now)
	s.Add("k", 2, now.Add(time.Minute), now) // newer work under the same key
	s.RemoveIf("k", func(v int) bool { return v == 1 })
	if v, ok := s.Get("k", now); !ok || v != 2 {
		t.Fatalf("newer work forgotten: %d %v", v, ok)
	}
	s.RemoveIf("k", func(v int) bool { return v == 2 })
	if _, ok := s.Get("k", now); ok {
		t.Fatal("finished work still held")
	}
}
