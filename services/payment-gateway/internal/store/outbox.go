package store

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Claim is a pending event that one dispatcher holds the lease on, for one
// delivery attempt.
type Claim struct {
	Seq       int64
	Event     Event
	RequestID string
	// Attempt numbers the attempt, from 1. It is also the lease's fencing
	// token: FinishAttempt applies only while the event's attempt count is
	// still this one, so a dispatcher that outlived its lease cannot
	// overwrite the attempt that followed.
	Attempt    int
	LeaseUntil time.Time
}

// ClaimDue claims up to limit events that are pending, due at now and not
// leased, oldest first, each for one attempt until now+lease.
//
// Each claim is a conditional UPDATE that repeats the selection's
// condition and counts the attempt; only the dispatcher whose UPDATE
// changed the row got it, so replicas polling the same table never start
// the same attempt twice. The lease bounds how long a dispatcher that died
// mid-attempt keeps an event: after it, the event is due again and counts
// the lost attempt. lease must exceed the delivery timeout. When an error
// stops it part way, the events claimed so far come back with the error,
// for the caller to deliver.
func (s *Store) ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error) {
	now = dbTime(now)
	until := dbTime(now.Add(lease))
	const due = "state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)"
	var seqs []int64
	if err := s.db.WithContext(ctx).Model(&eventModel{}).
		Where(due, StatePending, now, now).
		Order("seq").Limit(limit).Pluck("seq", &seqs).Error; err != nil {
		return nil, fmt.Errorf("find due events: %w", err)
	}
	claims := make([]Claim, 0, len(seqs))
	for _, seq := range seqs {
		// RETURNING (both engines have it) reads the claimed row in the
		// same statement: there is no moment when this dispatcher holds
		// the lease without knowing it.
		var rows []eventModel
		res := s.db.WithContext(ctx).Model(&rows).Clauses(clause.Returning{}).
			Where("seq = ? AND "+due, seq, StatePending, now, now).
			Updates(map[string]any{"lease_until": until, "attempts": gorm.Expr("attempts + 1")})
		if res.Error != nil {
			return claims, fmt.Errorf("claim event: %w", res.Error)
		}
		if res.RowsAffected != 1 || len(rows) != 1 {
			continue // another dispatcher was faster
		}
		m := rows[0]
		claims = append(claims, Claim{
			Seq:        m.Seq,
			Event:      m.event(),
			RequestID:  m.RequestID,
			Attempt:    m.Attempts,
			LeaseUntil: until,
		})
	}
	return claims, nil
}

// AttemptResult is what one attempt achieved and what follows from it.
type AttemptResult struct {
	StartedAt  time.Time
	Latency    time.Duration
	StatusCode int    // the receiver's HTTP status; 0 when none came
	Error      string // why the attempt did not succeed; "" when it did
	// State is the event's state after the attempt: StateDelivered,
	// StatePending (retry at RetryAt) or StateFailed (no retry left).
	State   string
	RetryAt time.Time
}

// maxErrorLength bounds a recorded error, which may quote a receiver.
const maxErrorLength = 300

// FinishAttempt records the attempt of c and moves the event to r.State,
// releasing the lease, in one transaction. The attempt is recorded in any
// case (it happened); the event changes only while c still holds it, and
// FinishAttempt reports whether it did.
func (s *Store) FinishAttempt(ctx context.Context, c Claim, r AttemptResult) (bool, error) {
	started := dbTime(r.StartedAt)
	var status *int
	if r.StatusCode != 0 {
		status = &r.StatusCode
	}
	var errText *string
	if r.Error != "" {
		e := clip(r.Error, maxErrorLength)
		errText = &e
	}
	updates := map[string]any{
		"state":            r.State,
		"lease_until":      nil,
		"last_attempt_at":  started,
		"last_status_code": status,
		"last_error":       errText,
	}
	switch r.State {
	case StateDelivered:
		updates["delivered_at"] = dbTime(started.Add(r.Latency))
	case StatePending:
		updates["next_attempt_at"] = dbTime(r.RetryAt)
	case StateFailed:
	default:
		return false, fmt.Errorf("finish attempt: unknown state %q", r.State)
	}
	held := false
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		a := attemptModel{
			EventSeq:   c.Seq,
			Attempt:    c.Attempt,
			StartedAt:  started,
			LatencyMS:  float64(r.Latency.Microseconds()) / 1000,
			StatusCode: status,
			Error:      errText,
		}
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		res := tx.Model(&eventModel{}).
			Where("seq = ? AND state = ? AND attempts = ?", c.Seq, StatePending, c.Attempt).
			Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("update event: %w", res.Error)
		}
		held = res.RowsAffected == 1
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("finish attempt: %w", err)
	}
	return held, nil
}

// clip cuts s to at most n bytes without splitting a UTF-8 sequence.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
