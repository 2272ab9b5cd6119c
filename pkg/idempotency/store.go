package idempotency

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Errors returned by Store.Begin and Claim. ErrReused and ErrInUse are
// answers for the client (422 and 409); ErrLeaseLost means this worker took
// too long and another one has taken the key over.
var (
	ErrReused    = errors.New("idempotency key reused with a different request")
	ErrInUse     = errors.New("idempotency key in use by a request still running")
	ErrLeaseLost = errors.New("idempotency lease lost to another request")
)

// MaxKeyLength is the longest key a client may send (DESIGN §2); scope and
// operation share the bound, since all three form the row's primary key.
const MaxKeyLength = 255

const (
	stateInProgress = "in_progress"
	stateCompleted  = "completed"
)

// record is one key's row. Scope, Operation and Key together identify the
// operation; Token names the worker holding the lease, so that a worker
// whose lease was taken over can neither complete nor delete the row of its
// successor.
type record struct {
	Scope       string    `gorm:"primaryKey;size:255"`
	Operation   string    `gorm:"primaryKey;size:255"`
	Key         string    `gorm:"column:idempotency_key;primaryKey;size:255"`
	Fingerprint string    `gorm:"size:64;not null"`
	State       string    `gorm:"size:16;not null"`
	Token       string    `gorm:"size:32;not null"`
	LockedUntil time.Time `gorm:"not null"`
	Status      int       `gorm:"not null;default:0"`
	ContentType string    `gorm:"size:255;not null;default:''"`
	Location    string    `gorm:"size:2048;not null;default:''"`
	Body        []byte
	// CreatedAt is what Purge ages rows by: a key is good for a fixed time
	// after its first use, however often it is replayed.
	CreatedAt time.Time `gorm:"not null;index"`
	UpdatedAt time.Time `gorm:"not null"`
}

func (record) TableName() string { return "idempotency_keys" }

// secretRecord holds the key of the request fingerprints. It is made once
// per database, at random, so every replica of a service shares it and it
// survives restarts, while nothing outside the database knows it.
type secretRecord struct {
	Name  string `gorm:"primaryKey;size:64"`
	Value []byte `gorm:"not null"`
}

func (secretRecord) TableName() string { return "idempotency_secrets" }

const fingerprintKeyName = "fingerprint-hmac-sha256"

// Models are the package's gorm models, for the service to pass to
// db.Migrate with its own, so that one migration (under one lock) creates
// every table of the service.
func Models() []any { return []any{&record{}, &secretRecord{}} }

// ID identifies one idempotent operation: who asks (Scope: a merchant key's
// id, or "public"), what (Operation: method and route pattern over HTTP, any
// stable name otherwise) and the client's key.
type ID struct {
	Scope     string
	Operation string
	Key       string
}

func (id ID) check() error {
	for _, f := range []struct{ name, v string }{{"scope", id.Scope}, {"operation", id.Operation}, {"key", id.Key}} {
		if f.v == "" || len(f.v) > MaxKeyLength {
			return fmt.Errorf("idempotency %s must be 1 to %d bytes, got %d", f.name, MaxKeyLength, len(f.v))
		}
	}
	return nil
}

// Response is what is stored for a completed operation and replayed to a
// repeated request.
type Response struct {
	Status      int
	ContentType string
	Location    string
	Body        []byte
}

// Store keeps idempotency keys in the service's own database.
type Store struct {
	db  *gorm.DB
	now func() time.Time

	mu    sync.Mutex
	fpKey []byte // loaded on first use
}

// NewStore returns a store over gdb, whose schema includes Model().
func NewStore(gdb *gorm.DB) *Store {
	// Times come from this process's clock rather than the database's:
	// SQLite has no clock that compares with the stored format, and the
	// skew between replicas is far below any sensible lease.
	return &Store{db: gdb, now: func() time.Time { return time.Now().UTC() }}
}

// Fingerprint identifies a request's content: the hex HMAC-SHA256 of
// method, path and body under a key kept in the database. It is keyed
// because a body may hold a card number (a payment confirmation): an
// unkeyed hash of one is guessable from the few digits a card number leaves
// unknown, and PCI DSS asks for keyed hashes of card numbers. The body is
// hashed as raw bytes, not as canonical JSON: a client retrying sends the
// very same bytes, and re-encoding would cost a parse per request and argue
// about number formats and key order.
func (s *Store) Fingerprint(ctx context.Context, method, path string, body []byte) (string, error) {
	key, err := s.fingerprintKey(ctx)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, key)
	// A path cannot hold a raw newline, so the separator keeps the parts apart.
	h.Write([]byte(method + "\n" + path + "\n"))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil)), nil
}

// fingerprintKey loads the database's fingerprint key, creating it on first
// use. Two replicas creating it at once both insert-or-ignore and then read
// the one row that won.
func (s *Store) fingerprintKey(ctx context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fpKey != nil {
		return s.fpKey, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("make fingerprint key: %w", err)
	}
	db := s.db.WithContext(ctx)
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&secretRecord{Name: fingerprintKeyName, Value: fresh}).Error; err != nil {
		return nil, fmt.Errorf("store fingerprint key: %w", err)
	}
	var rec secretRecord
	if err := db.Where("name = ?", fingerprintKeyName).Take(&rec).Error; err != nil {
		return nil, fmt.Errorf("load fingerprint key: %w", err)
	}
	s.fpKey = rec.Value
	return s.fpKey, nil
}

// Begin claims id for a request whose content has fingerprint. Exactly one
// of its results is non-nil:
//
//   - a *Claim: the caller runs the operation, then calls Complete with its
//     response or Release to let a retry run it again; the claim is a lease
//     that another request may take over once it has run for lease;
//   - a *Response: the operation completed before; replay it;
//   - an error: ErrReused (same key, different content), ErrInUse (still
//     running elsewhere) or a database error.
//
// It is safe under concurrent callers on both engines: the row is claimed by
// one INSERT ... ON CONFLICT DO NOTHING, and an expired lease is taken over
// by one UPDATE conditional on the token read, so exactly one caller wins.
func (s *Store) Begin(ctx context.Context, id ID, fingerprint string, lease time.Duration) (*Claim, *Response, error) {
	if err := id.check(); err != nil {
		return nil, nil, err
	}
	db := s.db.WithContext(ctx)
	// A row can vanish between our failed insert and our read (its worker
	// released it); then the insert is simply tried again. Three rounds only
	// fail under a pathological storm of failing duplicates.
	for range 3 {
		now := s.now()
		token := rand.Text()
		rec := record{
			Scope: id.Scope, Operation: id.Operation, Key: id.Key,
			Fingerprint: fingerprint, State: stateInProgress, Token: token,
			LockedUntil: now.Add(lease), CreatedAt: now, UpdatedAt: now,
		}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&rec)
		if res.Error != nil {
			return nil, nil, fmt.Errorf("claim idempotency key: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return &Claim{store: s, id: id, token: token, until: rec.LockedUntil}, nil, nil
		}

		var cur record
		err := db.Where(pk(id)).Take(&cur).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read idempotency key: %w", err)
		}
		switch {
		case cur.Fingerprint != fingerprint:
			return nil, nil, ErrReused
		case cur.State == stateCompleted:
			return nil, &Response{Status: cur.Status, ContentType: cur.ContentType, Location: cur.Location, Body: cur.Body}, nil
		case cur.LockedUntil.After(now):
			return nil, nil, ErrInUse
		}

		// The worker holding the row stopped renewing it (it crashed, or is
		// hopelessly slow): take it over, unless someone else just did.
		res = db.Model(&record{}).Where(pk(id)).
			Where("state = ? AND token = ? AND locked_until < ?", stateInProgress, cur.Token, now).
			Updates(map[string]any{"token": token, "locked_until": now.Add(lease), "updated_at": now})
		if res.Error != nil {
			return nil, nil, fmt.Errorf("take over idempotency key: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return &Claim{store: s, id: id, token: token, until: now.Add(lease)}, nil, nil
		}
	}
	return nil, nil, ErrInUse
}

// Purge deletes keys first used more than olderThan ago, except one whose
// lease is still running, and reports how many it deleted. Call it from a
// worker; DESIGN §2 asks for at least 24 hours.
func (s *Store) Purge(ctx context.Context, olderThan time.Duration) (int64, error) {
	now := s.now()
	res := s.db.WithContext(ctx).
		Where("created_at < ? AND (state = ? OR locked_until < ?)", now.Add(-olderThan), stateCompleted, now).
		Delete(&record{})
	if res.Error != nil {
		return 0, fmt.Errorf("purge idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}

// Claim is the lease on a key that Begin gave this caller.
type Claim struct {
	store *Store
	id    ID
	token string
	// until is when the lease ends and a duplicate may take the key over.
	until time.Time
}

// Complete stores resp for replay. ErrLeaseLost means another request took
// the key over meanwhile; its answer is the one kept.
func (c *Claim) Complete(ctx context.Context, resp Response) error {
	res := c.store.db.WithContext(ctx).Model(&record{}).Where(pk(c.id)).
		Where("state = ? AND token = ?", stateInProgress, c.token).
		Updates(map[string]any{
			"state":        stateCompleted,
			"status":       resp.Status,
			"content_type": resp.ContentType,
			"location":     resp.Location,
			"body":         resp.Body,
			"updated_at":   c.store.now(),
		})
	if res.Error != nil {
		return fmt.Errorf("complete idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Release deletes the claimed row, so that a retry with the same key runs
// the operation again (after a validation failure or a server error).
func (c *Claim) Release(ctx context.Context) error {
	res := c.store.db.WithContext(ctx).Where(pk(c.id)).
		Where("state = ? AND token = ?", stateInProgress, c.token).
		Delete(&record{})
	if res.Error != nil {
		return fmt.Errorf("release idempotency key: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrLeaseLost
	}
	return nil
}

func pk(id ID) clause.Expr {
	return clause.Expr{
		SQL:  "scope = ? AND operation = ? AND idempotency_key = ?",
		Vars: []any{id.Scope, id.Operation, id.Key},
	}
}
