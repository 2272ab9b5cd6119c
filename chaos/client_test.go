//go:build chaos

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Secrets and tokens of the chaos project (compose.chaos.yml sets the same
// values). They guard nothing: the project listens on loopback only and
// lives for one run.
const (
	catalogAdminToken = "chaos-catalog-admin-token"
	bookingAdminToken = "chaos-booking-admin-token"
	merchantKey       = "sk_test_chaos_merchant_key"
	webhookSecret     = "chaos-webhook-secret"
)

// Cards of DESIGN §5.
const (
	cardOK       = "4242424242424242"
	cardDeclined = "4000000000000002"
)

// replicas are booking's two replicas, addressed separately.
var replicas = [2]string{svcBooking, svcBooking2}

// other is the booking replica that is not svc.
func other(svc string) string {
	if svc == svcBooking {
		return svcBooking2
	}
	return svcBooking
}

// reply is what one request came back with.
type reply struct {
	status  int
	code    string // the problem's code, for an error answer in problem+json
	ctype   string
	body    []byte
	err     error
	latency time.Duration
	// sent: the request reached a server (it answered, or the connection
	// broke after the request was written).
	sent bool
}

// ok reports a 2xx answer.
func (r reply) ok() bool { return r.err == nil && r.status >= 200 && r.status < 300 }

// kind classifies a reply for the results table: "ok", a transport failure
// (refused, reset, timeout) or "<status> <code>".
func (r reply) kind() string {
	switch {
	case r.err != nil:
		return transportKind(r.err)
	case r.status < 300:
		return "ok"
	case r.code != "":
		return fmt.Sprintf("%d %s", r.status, r.code)
	case strings.Contains(r.ctype, "json"):
		return fmt.Sprintf("%d (no code)", r.status)
	default:
		return fmt.Sprintf("%d (not problem+json)", r.status)
	}
}

// refused reports that nothing was listening: the request never reached a
// server, so retrying it is always safe.
func (r reply) refused() bool { return r.err != nil && transportKind(r.err) == "refused" }

// unavailable reports an answer that says "not now, retry": a peer or the
// database down (503/504 upstream_unavailable) or the booking busy with
// another request (409 with Retry-After).
func (r reply) unavailable() bool {
	if r.err != nil {
		return false
	}
	switch {
	case (r.status == 503 || r.status == 504) && (r.code == "upstream_unavailable" || r.code == "service_unavailable"):
		return true
	case r.status == 409 && (r.code == "conflict" || r.code == "idempotency_key_in_use"):
		return true
	}
	return false
}

func transportKind(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "reset"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	default:
		return "transport"
	}
}

// client sends requests and tallies every outcome into the scenario's run.
type client struct {
	http *http.Client
}

func newClient() *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 256
	tr.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 15 * time.Second}).DialContext
	return &client{http: &http.Client{Transport: tr, Timeout: 25 * time.Second}}
}

// request is one call: to a service of the stack (svc and path, resolved to
// its current address when sent), or to url.
type request struct {
	method    string
	svc, path string
	url       string
	token     string // Bearer token, if any
	key       string // Idempotency-Key, if any
	header    map[string]string
	body      any    // JSON-encoded unless raw is set
	raw       []byte // sent as is
	timeout   time.Duration
}

func (c *client) do(ctx context.Context, rq request) reply {
	var body io.Reader
	switch {
	case rq.raw != nil:
		body = bytes.NewReader(rq.raw)
	case rq.body != nil:
		b, err := json.Marshal(rq.body)
		if err != nil {
			return reply{err: err}
		}
		body = bytes.NewReader(b)
	}
	if rq.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rq.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.url, body)
	if err != nil {
		return reply{err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	if rq.key != "" {
		req.Header.Set("Idempotency-Key", rq.key)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		r := reply{err: err, latency: time.Since(start)}
		r.sent = transportKind(err) != "refused"
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	r := reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b, err: err, latency: time.Since(start), sent: true}
	if resp.StatusCode >= 400 && strings.HasPrefix(r.ctype, "application/problem+json") {
		var p struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(b, &p) == nil {
			r.code = p.Code
		}
	}
	return r
}

// decode reads a 2xx reply's JSON body into out.
func (r reply) decode(out any) error {
	if !r.ok() {
		return fmt.Errorf("%s: %s", r.kind(), truncate(string(r.body), 300))
	}
	return json.Unmarshal(r.body, out)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// tally counts a scenario's requests and their outcomes by kind, and by
// endpoint for the report's notes.
type tally struct {
	mu       sync.Mutex
	requests int
	kinds    map[string]int
	byRoute  map[string]int // "<route> -> <kind>", failures only
}

func (t *tally) add(rq request, r reply) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.kinds == nil {
		t.kinds, t.byRoute = map[string]int{}, map[string]int{}
	}
	t.requests++
	if k := r.kind(); k != "ok" {
		t.kinds[k]++
		t.byRoute[route(rq)+" -> "+k]++
	}
}

// errorsByKind renders the failures, most frequent first.
func (t *tally) errorsByKind() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return render(t.kinds, "none")
}

// errorsByRoute renders the failures by endpoint, most frequent first.
func (t *tally) errorsByRoute() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return render(t.byRoute, "none")
}

func render(counts map[string]int, empty string) string {
	if len(counts) == 0 {
		return empty
	}
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int {
		if d := counts[b] - counts[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// Wire shapes the suite reads (DESIGN §3 to §5).

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

type departureDoc struct {
	ID            string `json:"id"`
	Capacity      int    `json:"capacity"`
	SeatsReserved int    `json:"seats_reserved"`
}

type historyDoc struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

type bookingDoc struct {
	ID              string       `json:"id"`
	Status          string       `json:"status"`
	DepartureID     string       `json:"departure_id"`
	Seats           int          `json:"seats"`
	Total           *money       `json:"total"`
	HoldID          *string      `json:"hold_id"`
	HoldExpiresAt   *time.Time   `json:"hold_expires_at"`
	PaymentIntentID *string      `json:"payment_intent_id"`
	History         []historyDoc `json:"history"`
	CreatedAt       time.Time    `json:"created_at"`
}

func (b bookingDoc) intentID() string {
	if b.PaymentIntentID == nil {
		return ""
	}
	return *b.PaymentIntentID
}

// transitions counts how often the booking entered status.
func (b bookingDoc) transitions(status string) int {
	n := 0
	for _, h := range b.History {
		if h.Status == status {
			n++
		}
	}
	return n
}

type intentDoc struct {
	ID             string            `json:"id"`
	Status         string            `json:"status"`
	Amount         int64             `json:"amount"`
	AmountRefunded int64             `json:"amount_refunded"`
	Metadata       map[string]string `json:"metadata"`
}

// paid: money taken and not (wholly) given back.
func (i intentDoc) paid() bool { return i.Status == "succeeded" && i.AmountRefunded < i.Amount }

type eventDoc struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created time.Time `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
	Delivery struct {
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
	} `json:"delivery"`
}

func (e eventDoc) intent() (intentDoc, bool) {
	var i intentDoc
	if !strings.HasPrefix(e.Type, "payment_intent.") || json.Unmarshal(e.Data.Object, &i) != nil {
		return intentDoc{}, false
	}
	return i, true
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}
