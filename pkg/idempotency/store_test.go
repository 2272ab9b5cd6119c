package idempotency_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/dbtest"
	"github.com/tourism-go/tourism/pkg/idempotency"
)

func newStore(t *testing.T, gdb *gorm.DB) *idempotency.Store {
	t.Helper()
	if err := db.Migrate(t.Context(), gdb, idempotency.Models()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return idempotency.NewStore(gdb)
}

func TestStoreWithoutHTTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		id := idempotency.ID{Scope: "webhooks", Operation: "refund", Key: "evt_1"}
		fp, err := s.Fingerprint(ctx, "", "refund", []byte("evt_1"))
		if err != nil {
			t.Fatal(err)
		}

		claim, replay, err := s.Begin(ctx, id, fp, time.Minute)
		if err != nil || claim == nil || replay != nil {
			t.Fatalf("first Begin: claim %v replay %v err %v", claim, replay, err)
		}
		if _, _, err := s.Begin(ctx, id, fp, time.Minute); !errors.Is(err, idempotency.ErrInUse) {
			t.Fatalf("Begin while claimed: %v, want ErrInUse", err)
		}
		want := idempotency.Response{Status: 201, ContentType: "application/json", Location: "/x/1", Body: []byte(`{"ok":true}`)}
		if err := claim.Complete(ctx, want); err != nil {
			t.Fatalf("Complete: %v", err)
		}
		claim2, replay, err := s.Begin(ctx, id, fp, time.Minute)
		if err != nil || claim2 != nil || replay == nil {
			t.Fatalf("Begin after Complete: claim %v replay %v err %v", claim2, replay, err)
		}
		if replay.Status != want.Status || replay.ContentType != want.ContentType || replay.Location != want.Location || string(replay.Body) != string(want.Body) {
			t.Fatalf("replay %+v, want %+v", replay, want)
		}
		if _, _, err := s.Begin(ctx, id, "other", time.Minute); !errors.Is(err, idempotency.ErrReused) {
			t.Fatalf("Begin with other content: %v, want ErrReused", err)
		}
		if _, _, err := s.Begin(ctx, idempotency.ID{Scope: "webhooks", Operation: "refund"}, fp, time.Minute); err == nil {
			t.Fatal("an empty key must be refused")
		}
	})
}

func TestLeaseLost(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		id := idempotency.ID{Scope: "s", Operation: "op", Key: "k"}
		stale, _, err := s.Begin(ctx, id, "fp", time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		fresh, _, err := s.Begin(ctx, id, "fp", time.Minute)
		if err != nil || fresh == nil {
			t.Fatalf("takeover of an expired lease: claim %v err %v", fresh, err)
		}
		if err := stale.Complete(ctx, idempotency.Response{Status: 200}); !errors.Is(err, idempotency.ErrLeaseLost) {
			t.Fatalf("stale Complete: %v, want ErrLeaseLost", err)
		}
		if err := stale.Release(ctx); !errors.Is(err, idempotency.ErrLeaseLost) {
			t.Fatalf("stale Release: %v, want ErrLeaseLost", err)
		}
		// The successor's claim is intact.
		if err := fresh.Complete(ctx, idempotency.Response{Status: 204}); err != nil {
			t.Fatalf("successor Complete: %v", err)
		}
	})
}

func TestPurge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		s := newStore(t, gdb)
		ctx := t.Context()
		begin := func(key string, lease time.Duration) *idempotency.Claim {
			t.Helper()
			c, _, err := s.Begin(ctx, idempotency.ID{Scope: "s", Operation: "op", Key: key}, "fp", lease)
			if err != nil || c == nil {
				t.Fatalf("Begin %s: %v", key, err)
			}
			return c
		}
		done := begin("completed", time.Minute)
		if err := done.Complete(ctx, idempotency.Response{Status: 201}); err != nil {
			t.Fatal(err)
		}
		begin("running", time.Minute)
		begin("abandoned", time.Millisecond)
		time.Sleep(20 * time.Millisecond)

		if n, err := s.Purge(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("Purge of young keys deleted %d (%v), want 0", n, err)
		}
		// Old enough: the completed and the abandoned rows go, the one
		// whose lease still runs stays.
		n, err := s.Purge(ctx, 10*time.Millisecond)
		if err != nil || n != 2 {
			t.Fatalf("Purge deleted %d (%v), want 2", n, err)
		}
		if _, _, err := s.Begin(ctx, idempotency.ID{Scope: "s", Operation: "op", Key: "running"}, "fp", time.Minute); !errors.Is(err, idempotency.ErrInUse) {
			t.Fatalf("running key after Purge: %v, want ErrInUse", err)
		}
		if c := begin("completed", time.Minute); c == nil {
			t.Fatal("a purged key starts afresh")
		}
	})
}

// The fingerprint of a body holding a card number must be keyed: the same
// for every store on one database (replicas, restarts), unguessable without
// the database, and never the plain SHA-256 anyone could compute.
func TestFingerprintIsKeyedPerDatabase(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, gdb *gorm.DB) {
		ctx := t.Context()
		body := []byte(`{"card":{"number":"4242424242424242","cvc":"123"}}`)
		a, err := newStore(t, gdb).Fingerprint(ctx, "POST", "/v1/x", body)
		if err != nil {
			t.Fatal(err)
		}
		b, err := idempotency.NewStore(gdb).Fingerprint(ctx, "POST", "/v1/x", body)
		if err != nil || a != b {
			t.Fatalf("two stores on one database disagree: %s %s %v", a, b, err)
		}
		plain := sha256.Sum256([]byte("POST\n/v1/x\n" + string(body)))
		if a == hex.EncodeToString(plain[:]) {
			t.Fatal("the fingerprint is an unkeyed SHA-256")
		}
		other := dbtest.Open(t, dbtest.SQLite)
		c, err := newStore(t, other).Fingerprint(ctx, "POST", "/v1/x", body)
		if err != nil || c == a {
			t.Fatalf("two databases share a fingerprint key: %v", err)
		}
	})
}
