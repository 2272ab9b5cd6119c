package flow

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tourism-go/tourism/services/booking/internal/store"
)

// A long outage under traffic must not grow the memory of stranded leases
// without end: full, it drops the expired ones, then keeps no new one.
func TestStrandedLeasesAreBounded(t *testing.T) {
	now := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC)
	var s strandedLeases
	for i := range maxStranded {
		until := now.Add(time.Minute)
		if i%2 == 0 {
			until = now.Add(-time.Second) // expired
		}
		s.add(uuid.New(), store.Lease{Owner: "o", Until: until}, now)
	}
	if n := len(s.list()); n != maxStranded {
		t.Fatalf("%d kept, want %d", n, maxStranded)
	}
	s.add(uuid.New(), store.Lease{Owner: "o", Until: now.Add(time.Minute)}, now)
	if n := len(s.list()); n != maxStranded/2+1 {
		t.Fatalf("full: %d kept, want the %d running plus the new one", n, maxStranded/2)
	}
	for range maxStranded {
		s.add(uuid.New(), store.Lease{Owner: "o", Until: now.Add(time.Minute)}, now)
	}
	if n := len(s.list()); n != maxStranded {
		t.Fatalf("full of running leases: %d kept, want %d", n, maxStranded)
	}
}
