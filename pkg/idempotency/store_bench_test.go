package idempotency_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/idempotency"
)

// BenchmarkStoreBegin is the key lookup every idempotent POST starts with,
// on each backend: a new key (claimed by one insert) and a completed key
// (the insert conflicts, the row is read and replayed). The middleware's
// replay over HTTP is BenchmarkLookupReplay.
func BenchmarkStoreBegin(b *testing.B) {
	for _, backend := range dbtest.Backends(b) {
		b.Run("db="+string(backend), func(b *testing.B) {
			gdb := dbtest.Open(b, backend)
			if err := db.Migrate(b.Context(), gdb, idempotency.Models()); err != nil {
				b.Fatal(err)
			}
			s := idempotency.NewStore(gdb)
			body := []byte(`{"departure_id":"0192f0a1-b2c3-7d4e-8f6a-7b8c9d0e1f2a","seats":2,"customer":{"name":"Ada","email":"ada@example.com"}}`)
			fp, err := s.Fingerprint(b.Context(), "POST", "/v1/bookings", body)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("key=new", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					i++
					id := idempotency.ID{Scope: "public", Operation: "POST /v1/bookings", Key: fmt.Sprintf("new-%d-%d", time.Now().UnixNano(), i)}
					claim, resp, err := s.Begin(b.Context(), id, fp, time.Minute)
					if err != nil || claim == nil || resp != nil {
						b.Fatalf("claim=%v resp=%v err=%v", claim, resp, err)
					}
				}
			})
			b.Run("key=completed", func(b *testing.B) {
				// The function runs more than once (b.N grows): each run
				// completes a key of its own.
				id := idempotency.ID{Scope: "public", Operation: "POST /v1/bookings", Key: fmt.Sprintf("completed-%d", time.Now().UnixNano())}
				claim, _, err := s.Begin(b.Context(), id, fp, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if err := claim.Complete(b.Context(), idempotency.Response{Status: 201, ContentType: "application/json", Body: body}); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					claim, resp, err := s.Begin(b.Context(), id, fp, time.Minute)
					if err != nil || claim != nil || resp == nil {
						b.Fatalf("claim=%v resp=%v err=%v", claim, resp, err)
					}
				}
			})
		})
	}
}
