package idempotency

import (
	"strconv"
	"testing"
	"time"
)

// A long outage under traffic must not grow the memory of stranded keys
// without end: full, it drops the expired ones, then keeps no new one.
func TestStrandedClaimsAreBounded(t *testing.T) {
	now := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	claim := func(i int, until time.Time) *Claim {
		return &Claim{id: ID{Scope: "s", Operation: "POST /x", Key: strconv.Itoa(i)}, until: until}
	}
	var s strandedClaims
	for i := range maxStranded {
		until := now.Add(time.Minute)
		if i%2 == 0 {
			until = now.Add(-time.Second) // expired
		}
		s.add(claim(i, until), nil, now)
	}
	if n := len(s.claims); n != maxStranded {
		t.Fatalf("%d kept, want %d", n, maxStranded)
	}
	s.add(claim(maxStranded, now.Add(time.Minute)), nil, now)
	if n := len(s.claims); n != maxStranded/2+1 {
		t.Fatalf("full: %d kept, want the %d running plus the new one", n, maxStranded/2)
	}
	for i := range maxStranded {
		s.add(claim(2*maxStranded+i, now.Add(time.Minute)), nil, now)
	}
	if n := len(s.claims); n != maxStranded {
		t.Fatalf("full of running claims: %d kept, want %d", n, maxStranded)
	}
}
