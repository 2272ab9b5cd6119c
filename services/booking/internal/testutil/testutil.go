// Package testutil holds the booking service's test doubles: a clock, and
// in-memory fakes of the catalog and the payment gateway that behave as
// DESIGN §3 and §5 say the real ones do (capacity, one hold per booking,
// idempotency keys, declines by test card), so that tests use them only to
// inject faults: a peer down, an answer lost after the peer acted.
package testutil

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tourism-go/tourism/services/booking/internal/booking"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC()} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Faults decides, per call name, whether a fake fails it. Before fails the
// call without any effect (a peer down); After lets the call take effect and
// then fails it (the answer lost on the way back). A nil function, or one
// returning nil, lets the call through.
type Faults struct {
	mu     sync.Mutex
	before func(call string) error
	after  func(call string) error
}

// FailBefore makes calls fail before they take effect while fn returns an error.
func (f *Faults) FailBefore(fn func(call string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before = fn
}

// FailAfter makes calls take effect, then fail, while fn returns an error.
func (f *Faults) FailAfter(fn func(call string) error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.after = fn
}

// Heal removes every fault.
func (f *Faults) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.before, f.after = nil, nil
}

func (f *Faults) check(ctx context.Context, when, call string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	fn := f.before
	if when == "after" {
		fn = f.after
	}
	f.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(call)
}

// Down is a fault: the peer gave no answer.
var Down = booking.ErrUpstreamUnavailable

// Slow is a fault: the peer did not answer in time.
var Slow = booking.ErrUpstreamTimeout

// On returns a fault function failing only the named calls with err.
func On(err error, calls ...string) func(string) error {
	return func(call string) error {
		for _, c := range calls {
			if c == call {
				return err
			}
		}
		return nil
	}
}

// Always returns a fault function failing every call with err.
func Always(err error) func(string) error { return func(string) error { return err } }

// Once wraps a fault function so that it fails at most once.
func Once(fn func(string) error) func(string) error {
	var mu sync.Mutex
	done := false
	return func(call string) error {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return nil
		}
		if err := fn(call); err != nil {
			done = true
			return err
		}
		return nil
	}
}

var errFake = errors.New("fake: unexpected use")
