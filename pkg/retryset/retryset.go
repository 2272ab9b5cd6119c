// Package retryset remembers, in memory and for a while, work a process
// could not finish because its database stopped answering (a lease to give
// up, an outcome to write), so that it can finish it once the database is
// back instead of leaving others to wait for a lease to run out.
//
// Each entry is worth keeping only until its deadline (the lease's end): past
// it, others take over and the entry is dropped. The set is bounded, because
// an outage under traffic adds an entry per failed request and nothing is
// finished until the database answers; full, it drops the expired entries,
// then keeps no new one (that work waits out its lease, as after a crash).
package retryset

import (
	"sync"
	"time"
)

// DefaultMax is the bound New uses when given none.
const DefaultMax = 10_000

// Set is a bounded map of work to finish, each entry until its deadline.
// Its methods are safe for concurrent use.
type Set[K comparable, V any] struct {
	mu      sync.Mutex
	max     int
	entries map[K]entry[V]
}

type entry[V any] struct {
	value V
	until time.Time
}

// New returns an empty set holding at most max entries (DefaultMax if max
// is not positive).
func New[K comparable, V any](max int) *Set[K, V] {
	if max <= 0 {
		max = DefaultMax
	}
	return &Set[K, V]{max: max, entries: map[K]entry[V]{}}
}

// Add remembers v under key until until, replacing what key held, unless the
// set is full of entries still running at now.
func (s *Set[K, V]) Add(key K, v V, until, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.entries[key]; !ok && len(s.entries) >= s.max {
		for k, e := range s.entries {
			if !e.until.After(now) {
				delete(s.entries, k)
			}
		}
		if len(s.entries) >= s.max {
			return
		}
	}
	s.entries[key] = entry[V]{value: v, until: until}
}

// Get returns what key holds, if its deadline is after now; an expired entry
// is dropped.
func (s *Set[K, V]) Get(key K, now time.Time) (V, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[key]
	if ok && !e.until.After(now) {
		delete(s.entries, key)
		ok = false
	}
	return e.value, ok
}

// Live returns a copy of the entries whose deadline is after now, and drops
// the others.
func (s *Set[K, V]) Live(now time.Time) map[K]V {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[K]V, len(s.entries))
	for k, e := range s.entries {
		if !e.until.After(now) {
			delete(s.entries, k)
			continue
		}
		out[k] = e.value
	}
	return out
}

// RemoveIf forgets key if what it holds satisfies done: the work finished,
// unless someone added newer work under the same key meanwhile.
func (s *Set[K, V]) RemoveIf(key K, done func(V) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[key]; ok && done(e.value) {
		delete(s.entries, key)
	}
}

// Len is how many entries the set holds, expired ones included.
func (s *Set[K, V]) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}
