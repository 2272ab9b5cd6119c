// Package webhooks delivers the gateway's events to the merchant's
// WEBHOOK_URL: a dispatcher polls the outbox (the events table, see
// package store), claims due events with a lease, POSTs each signed with
// every configured secret, and records every attempt. A failed attempt is
// retried with exponential backoff and full jitter until the attempt limit,
// after which the event is marked failed, for an operator to see in GET
// /v1/events.
//
// Delivery is at least once: an event is marked delivered only after the
// receiver answered 2xx, so a crash between the answer and the record
// sends it again. Receivers deduplicate by event id.
package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/tourism-go/tourism/pkg/metrics"
	"github.com/tourism-go/tourism/pkg/requestid"
	"github.com/tourism-go/tourism/pkg/webhook"
	"github.com/tourism-go/tourism/pkg/worker"
	"github.com/tourism-go/tourism/services/payment-gateway/internal/store"
)

// Outbox is what the dispatcher needs of the store.
type Outbox interface {
	ClaimDue(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Claim, error)
	FinishAttempt(ctx context.Context, c store.Claim, r store.AttemptResult) (bool, error)
}

// Config says where and how to deliver.
type Config struct {
	URL string
	// Secrets sign every delivery, one v1 signature each, so receivers
	// can rotate their secret without a gap.
	Secrets [][]byte
	// MaxAttempts is the number of attempts before an event is failed.
	MaxAttempts int
	// Timeout bounds one attempt, from connecting to reading the answer.
	Timeout time.Duration
	// Interval is how often the outbox is polled.
	Interval time.Duration
	// The delay before attempt n+1 is a random duration between zero and
	// min(BackoffMax, BackoffBase × 2^(n-1)) ("full jitter"): the
	// exponential part backs off from a struggling receiver, the jitter
	// spreads the retries of many events failed by the same outage.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// Concurrency is how many deliveries run at once.
	Concurrency int
	// UserAgent names the sender, with its version.
	UserAgent string
}

// Dispatcher delivers pending events. It holds no state of its own between
// polls: everything it knows is in the outbox, so a restart loses nothing.
type Dispatcher struct {
	outbox  Outbox
	cfg     Config
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	jitter  func() float64
	results *metrics.CounterVec
	latency *metrics.Histogram
	// unrecorded are attempts made whose result the outbox did not take
	// (the database stopped answering): recorded at the next poll, so
	// that an event delivered just before an outage is not delivered
	// again when its lease runs out, nor held back until then.
	unrecordedMu sync.Mutex
	unrecorded   []unrecorded
}

type unrecorded struct {
	claim  store.Claim
	result store.AttemptResult
}

// maxUnrecorded bounds the attempts kept for recording; past it an
// attempt's event waits out its lease, as after a crash.
const maxUnrecorded = 10_000

// Outcomes of an attempt, as counted in the metrics.
const (
	outcomeDelivered = "delivered"
	outcomeRetry     = "retry"
	outcomeFailed    = "failed"
)

// New returns a dispatcher whose metrics are registered on reg; a nil reg
// (in tests) counts into a registry nobody reads.
func New(outbox Outbox, cfg Config, log *slog.Logger, reg *metrics.Registry) (*Dispatcher, error) {
	if reg == nil {
		reg = metrics.NewRegistry()
	}
	results, err := reg.Counter("webhook_delivery_attempts_total",
		"Webhook delivery attempts, by outcome (delivered, retry, failed).", "outcome")
	if err != nil {
		return nil, fmt.Errorf("register webhook metrics: %w", err)
	}
	latency, err := reg.Histogram("webhook_delivery_duration_seconds",
		"Time from sending a webhook to its answer (or error).",
		[]float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10})
	if err != nil {
		return nil, fmt.Errorf("register webhook metrics: %w", err)
	}
	return &Dispatcher{
		outbox: outbox,
		cfg:    cfg,
		client: &http.Client{
			Timeout: cfg.Timeout,
			// A redirect is an answer, not a delivery: following it would
			// send the signed event to a host nobody configured.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		log:     log.With("worker", "webhook-dispatcher"),
		now:     time.Now,
		jitter:  rand.Float64,
		results: results,
		// The one series of an unlabelled histogram, exported (as zeros)
		// from the start.
		latency: latency.With(),
	}, nil
}

// Run polls the outbox every Interval until ctx is done. An attempt in
// flight when ctx ends is finished (it is bounded by Timeout) and
// recorded, so that a stopped dispatcher leaves no event leased.
func (d *Dispatcher) Run(ctx context.Context) {
	worker.Every(ctx, d.log, "webhook-dispatcher", d.cfg.Interval, d.DispatchDue)
}

// lease is how long a claim holds an event: one attempt's timeout plus
// room to record it. Only a dispatcher that died mid-attempt makes anyone
// wait for it.
func (d *Dispatcher) lease() time.Duration { return 2*d.cfg.Timeout + 5*time.Second }

// DispatchDue delivers every event due now, Concurrency at a time, and
// returns when none is left or ctx ends.
func (d *Dispatcher) DispatchDue(ctx context.Context) error {
	if err := d.recordUnrecorded(ctx); err != nil {
		return fmt.Errorf("record attempts left unrecorded: %w", err)
	}
	for ctx.Err() == nil {
		// A batch no bigger than the concurrency: every claimed event
		// starts at once, so none waits out its lease in a queue here.
		// Shutdown must not interrupt a claim half way (leased, but not
		// known to be): claiming is short, and gets its own deadline.
		claimCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		claims, err := d.outbox.ClaimDue(claimCtx, d.now(), d.lease(), d.cfg.Concurrency)
		cancel()
		var wg sync.WaitGroup
		for _, c := range claims {
			wg.Go(func() { d.attempt(ctx, c) })
		}
		wg.Wait()
		if err != nil {
			return fmt.Errorf("claim events: %w", err)
		}
		if len(claims) == 0 {
			return nil
		}
	}
	return nil
}

// attempt delivers one claimed event and records the result. It runs to
// the end even when ctx is cancelled, within its own deadline: giving up
// half way would leave the event leased and its attempt unrecorded.
func (d *Dispatcher) attempt(ctx context.Context, c store.Claim) {
	ctx = context.WithoutCancel(ctx)
	r := d.deliver(ctx, c)
	log := d.log.With("event_id", c.Event.ID, "event_type", c.Event.Type, "attempt", c.Attempt,
		"status", r.StatusCode, "latency_ms", float64(r.Latency.Microseconds())/1000, "request_id", c.RequestID)
	switch {
	case r.StatusCode >= 200 && r.StatusCode < 300:
		r.State = store.StateDelivered
		log.InfoContext(ctx, "webhook delivered")
	case c.Attempt >= d.cfg.MaxAttempts:
		r.State = store.StateFailed
		log.WarnContext(ctx, "webhook failed, no attempt left", "err", r.Error)
	default:
		r.State = store.StatePending
		wait := Backoff(c.Attempt, d.cfg.BackoffBase, d.cfg.BackoffMax, d.jitter())
		r.RetryAt = r.StartedAt.Add(r.Latency).Add(wait)
		log.InfoContext(ctx, "webhook attempt failed, will retry", "err", r.Error, "retry_in", wait.String())
	}
	d.latency.Observe(r.Latency.Seconds())
	d.results.With(outcome(r.State)).Inc()

	d.finish(ctx, log, c, r)
}

// finish records an attempt's result; one the outbox does not take is kept
// for the next poll.
func (d *Dispatcher) finish(ctx context.Context, log *slog.Logger, c store.Claim, r store.AttemptResult) error {
	finishCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	held, err := d.outbox.FinishAttempt(finishCtx, c, r)
	switch {
	case err != nil:
		// Tried again at the next poll; should this process die first,
		// the lease runs out and the event is attempted again: a
		// duplicate delivery, never a lost one.
		log.ErrorContext(ctx, "record webhook attempt", "err", err)
		d.unrecordedMu.Lock()
		if len(d.unrecorded) < maxUnrecorded {
			d.unrecorded = append(d.unrecorded, unrecorded{claim: c, result: r})
		}
		d.unrecordedMu.Unlock()
		return err
	case !held:
		log.WarnContext(ctx, "webhook lease had expired; another attempt decides the event's state")
	}
	return nil
}

// recordUnrecorded records the attempts the outbox did not take before.
// FinishAttempt is conditional on the attempt being the event's latest, so
// one whose event was claimed again since changes nothing.
func (d *Dispatcher) recordUnrecorded(ctx context.Context) error {
	d.unrecordedMu.Lock()
	pending := d.unrecorded
	d.unrecorded = nil
	d.unrecordedMu.Unlock()
	for i, u := range pending {
		log := d.log.With("event_id", u.claim.Event.ID, "event_type", u.claim.Event.Type, "attempt", u.claim.Attempt)
		if err := d.finish(context.WithoutCancel(ctx), log, u.claim, u.result); err != nil {
			// Still down: keep the rest for the next poll too, rather
			// than wait out a failure for each.
			d.unrecordedMu.Lock()
			d.unrecorded = append(d.unrecorded, pending[i+1:]...)
			d.unrecordedMu.Unlock()
			return err
		}
	}
	return nil
}

func outcome(state string) string {
	switch state {
	case store.StateDelivered:
		return outcomeDelivered
	case store.StateFailed:
		return outcomeFailed
	default:
		return outcomeRetry
	}
}

// deliver POSTs the event and reports what happened; it fills every field
// of the result but State and RetryAt.
func (d *Dispatcher) deliver(ctx context.Context, c store.Claim) store.AttemptResult {
	start := d.now()
	r := store.AttemptResult{StartedAt: start}
	body, err := json.Marshal(c.Event)
	if err != nil {
		r.Error = "encode event: " + err.Error()
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		r.Error = "build request: " + err.Error()
		return r
	}
	rid := c.RequestID
	if rid == "" {
		rid = requestid.New()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.cfg.UserAgent)
	req.Header.Set(requestid.Header, rid)
	// Signed at send time, not at event time: a retry hours later must
	// still be inside the receiver's five-minute tolerance.
	req.Header.Set(webhook.Header, webhook.Sign(body, d.now(), d.cfg.Secrets...))

	resp, err := d.client.Do(req)
	r.Latency = d.now().Sub(start)
	if err != nil {
		r.Error = transportError(err, d.cfg.Timeout)
		return r
	}
	defer resp.Body.Close()
	// Read a little of the answer so the connection can be reused; what
	// a receiver says beyond its status is not the gateway's business.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	r.Latency = d.now().Sub(start)
	r.StatusCode = resp.StatusCode
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Error = "receiver answered " + strconv.Itoa(resp.StatusCode)
	}
	return r
}

// transportError says why no answer came, in words an operator reading
// GET /v1/events can act on.
func transportError(err error, timeout time.Duration) string {
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return "no answer within " + timeout.String()
	}
	// The client's error names the URL without its password.
	return err.Error()
}

// Backoff is the delay before the attempt after attempt (counted from 1):
// full jitter over an exponential ceiling, r × min(limit, base ×
// 2^(attempt-1)) for r in [0, 1).
func Backoff(attempt int, base, limit time.Duration, r float64) time.Duration {
	ceiling := base
	for i := 1; i < attempt && ceiling < limit; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, limit)
	return time.Duration(r * float64(ceiling))
}
