package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/tourism-go/tourism/services/payment-gateway/internal/payment"
)

// NewEvent is an event to record with a state change.
type NewEvent struct {
	Type payment.EventType
	// Object is the JSON of the intent or refund after the change, as the
	// API renders it; the store keeps it as it is.
	Object json.RawMessage
	// RequestID is the X-Request-ID of the request that made the change.
	RequestID string
}

// Event is one entry of the event log in the shape its receivers see,
// identical in GET /v1/events and in webhook bodies (DESIGN §5). The shape
// is fixed when the event is written, which is why it lives with the
// outbox rather than in the API: a webhook retried a day later carries the
// same bytes as the first attempt. Created is an RFC 3339 UTC time, as
// every time in the API (DESIGN §2).
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	Data    EventData `json:"data"`
}

// EventData wraps the object, so that more members can be added beside it
// later without changing where the object is.
type EventData struct {
	Object json.RawMessage `json:"object"`
}

// Delivery says where an event's webhook delivery stands.
type Delivery struct {
	State    string // StatePending, StateDelivered or StateFailed
	Attempts int    // attempts started so far
	// NextAttemptAt is when a pending event is due; nil once it is not
	// pending.
	NextAttemptAt  *time.Time
	LastAttemptAt  *time.Time
	LastStatusCode *int    // the receiver's answer to the last attempt, if any
	LastError      *string // why the last attempt did not succeed
	DeliveredAt    *time.Time
}

// LoggedEvent is an event with its delivery state.
type LoggedEvent struct {
	Event    Event
	Delivery Delivery
}

// Attempt is one recorded delivery attempt.
type Attempt struct {
	Attempt    int
	StartedAt  time.Time
	Latency    time.Duration
	StatusCode *int    // nil when no response came
	Error      *string // why the attempt did not succeed, or nil
}

func insertEvent(tx *gorm.DB, ev NewEvent, now time.Time) error {
	// Compacting also validates: a malformed object must fail the state
	// change now, not every delivery later.
	var object bytes.Buffer
	if err := json.Compact(&object, ev.Object); err != nil {
		return fmt.Errorf("event object: %w", err)
	}
	m := eventModel{
		ID:            NewID(EventIDPrefix),
		Type:          string(ev.Type),
		Object:        object.String(),
		RequestID:     ev.RequestID,
		CreatedAt:     now,
		State:         StatePending,
		NextAttemptAt: now,
	}
	if err := tx.Create(&m).Error; err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	return nil
}

func (m eventModel) event() Event {
	return Event{
		ID:      m.ID,
		Type:    m.Type,
		Created: dbTime(m.CreatedAt),
		Data:    EventData{Object: json.RawMessage(m.Object)},
	}
}

func (m eventModel) logged() LoggedEvent {
	d := Delivery{
		State:          m.State,
		Attempts:       m.Attempts,
		LastAttemptAt:  dbTimePtr(m.LastAttemptAt),
		LastStatusCode: m.LastStatusCode,
		LastError:      m.LastError,
		DeliveredAt:    dbTimePtr(m.DeliveredAt),
	}
	if m.State == StatePending {
		next := dbTime(m.NextAttemptAt)
		d.NextAttemptAt = &next
	}
	return LoggedEvent{Event: m.event(), Delivery: d}
}

// EventCursor marks a place in the log for the next page: the events
// older than it. Zero means the newest.
type EventCursor int64

// EventPage returns up to limit events older than after, newest first, and
// the cursor of the next page, zero on the last page.
func (s *Store) EventPage(ctx context.Context, after EventCursor, limit int) ([]LoggedEvent, EventCursor, error) {
	q := s.db.WithContext(ctx).Order("seq DESC").Limit(limit + 1)
	if after > 0 {
		q = q.Where("seq < ?", int64(after))
	}
	var rows []eventModel
	if err := q.Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list events: %w", err)
	}
	var next EventCursor
	if len(rows) > limit {
		rows = rows[:limit]
		next = EventCursor(rows[limit-1].Seq)
	}
	out := make([]LoggedEvent, len(rows))
	for i, m := range rows {
		out[i] = m.logged()
	}
	return out, next, nil
}

// EventByID returns one event with every attempt to deliver it, oldest
// first, or ErrEventNotFound.
func (s *Store) EventByID(ctx context.Context, id string) (LoggedEvent, []Attempt, error) {
	var m eventModel
	err := s.db.WithContext(ctx).Where("id = ?", id).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return LoggedEvent{}, nil, fmt.Errorf("get event: %w", ErrEventNotFound)
	}
	if err != nil {
		return LoggedEvent{}, nil, fmt.Errorf("get event: %w", err)
	}
	var rows []attemptModel
	if err := s.db.WithContext(ctx).Where("event_seq = ?", m.Seq).Order("attempt").Find(&rows).Error; err != nil {
		return LoggedEvent{}, nil, fmt.Errorf("get event attempts: %w", err)
	}
	attempts := make([]Attempt, len(rows))
	for i, a := range rows {
		attempts[i] = Attempt{
			Attempt:    a.Attempt,
			StartedAt:  dbTime(a.StartedAt),
			Latency:    time.Duration(a.LatencyMS * float64(time.Millisecond)),
			StatusCode: a.StatusCode,
			Error:      a.Error,
		}
	}
	return m.logged(), attempts, nil
}
