// Package httpclient is the outbound client booking uses to call the catalog
// and the payment gateway: JSON in and out, problem details on errors.
//
// Every call carries the X-Request-ID of the request being served (or a new
// one), so one id follows a booking through all three services' logs. Each
// attempt has its own timeout and the whole call an overall deadline.
//
// Retries are only for calls that are safe to repeat: GET/HEAD/OPTIONS, a
// call with an Idempotency-Key, or one the caller marks Idempotent because
// the peer deduplicates it (a hold with its booking_id, a release). They are
// only for failures a later try may not repeat: network errors, timeouts,
// 429, 502, 503, 504 and 500, plus 409 idempotency_key_in_use for a keyed
// call (our own earlier attempt is still running at the peer). Other 4xx are
// answers and never retried. A failed dial is retried for any call, since
// the request never left. Waits are exponential with full jitter, or the
// peer's Retry-After up to a cap, and never run past the deadline.
//
// Errors: a non-2xx answer is a *StatusError (switch on Code); a peer that
// could not answer is an error matching ErrUnavailable (map to 503
// upstream_unavailable), and also ErrTimeout when it was too slow; the
// caller's own cancellation comes back as context.Canceled, untouched, so
// the problem mapper logs it as a client that went away.
//
//	catalog, err := httpclient.New(httpclient.Options{BaseURL: cfg.CatalogURL, Token: cfg.CatalogToken, Log: log})
//	var hold Hold
//	_, err = catalog.Do(ctx, httpclient.Request{
//		Method: http.MethodPost, Path: "/v1/departures/" + depID + "/holds",
//		Body: holdRequest{BookingID: id, Seats: 2}, Out: &hold,
//		Idempotent: true, // the catalog answers a repeated booking_id with the same hold
//	})
package httpclient

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
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tourism-go/tourism/pkg/requestid"
)

// Defaults for the zero values of Options.
const (
	DefaultAttemptTimeout   = 3 * time.Second
	DefaultDeadline         = 10 * time.Second
	DefaultMaxAttempts      = 3
	DefaultBackoffBase      = 100 * time.Millisecond
	DefaultBackoffMax       = 2 * time.Second
	DefaultMaxRetryAfter    = 5 * time.Second
	DefaultMaxResponseBytes = 4 << 20
)

// Options configure a Client; zero values take the defaults above.
type Options struct {
	// BaseURL is the peer's root, e.g. "http://tour-catalog:3001".
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
	// AttemptTimeout bounds one try, from dial to the last body byte.
	AttemptTimeout time.Duration
	// Deadline bounds a whole Do, retries and waits included.
	Deadline time.Duration
	// MaxAttempts counts the first try; 1 turns retries off.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the waits: before retry n, a random
	// duration in [0, min(BackoffMax, BackoffBase·2^(n-1))).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxRetryAfter caps how long a peer's Retry-After makes us wait.
	MaxRetryAfter time.Duration
	// MaxResponseBytes bounds the body read from an answer.
	MaxResponseBytes int64
	UserAgent        string
	// Log gets one debug line per attempt; nil discards them.
	Log *slog.Logger
	// OnAttempt, when set, is called after every attempt (for metrics).
	OnAttempt func(ctx context.Context, a Attempt)
	// Transport replaces the tuned default, e.g. to share one between clients.
	Transport http.RoundTripper
}

// Attempt describes one try, for Options.OnAttempt.
type Attempt struct {
	Method string
	// Path is the request path without its query.
	Path    string
	N       int
	Status  int // 0 when no answer came
	Err     error
	Latency time.Duration
}

// Request is one call.
type Request struct {
	Method string // GET when empty
	// Path is appended to BaseURL; it starts with "/" and may carry a query.
	Path string
	// Body, when not nil, is sent as JSON.
	Body any
	// Out, when not nil, receives a 2xx answer's JSON body.
	Out any
	// IdempotencyKey is sent as Idempotency-Key and makes the call safe to retry.
	IdempotencyKey string
	// Idempotent marks the call safe to retry for another reason.
	Idempotent bool
}

// Response is what a successful Do reports beyond Out.
type Response struct {
	Status   int
	Header   http.Header
	Attempts int
}

// Client calls one peer. It is safe for concurrent use.
type Client struct {
	base           string
	token          string
	userAgent      string
	attemptTimeout time.Duration
	deadline       time.Duration
	maxAttempts    int
	backoffBase    time.Duration
	backoffMax     time.Duration
	maxRetryAfter  time.Duration
	maxBody        int64
	log            *slog.Logger
	onAttempt      func(context.Context, Attempt)
	http           *http.Client
}

// New returns a client for opts.BaseURL.
func New(opts Options) (*Client, error) {
	u, err := url.Parse(opts.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host[:port]", opts.BaseURL)
	}
	c := &Client{
		base:           strings.TrimRight(opts.BaseURL, "/"),
		token:          opts.Token,
		userAgent:      orDefault(opts.UserAgent, "tourism-httpclient"),
		attemptTimeout: orDefault(opts.AttemptTimeout, DefaultAttemptTimeout),
		deadline:       orDefault(opts.Deadline, DefaultDeadline),
		maxAttempts:    orDefault(opts.MaxAttempts, DefaultMaxAttempts),
		backoffBase:    orDefault(opts.BackoffBase, DefaultBackoffBase),
		backoffMax:     orDefault(opts.BackoffMax, DefaultBackoffMax),
		maxRetryAfter:  orDefault(opts.MaxRetryAfter, DefaultMaxRetryAfter),
		maxBody:        orDefault(opts.MaxResponseBytes, DefaultMaxResponseBytes),
		log:            opts.Log,
		onAttempt:      opts.OnAttempt,
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	rt := opts.Transport
	if rt == nil {
		rt = newTransport(c.attemptTimeout)
	}
	// No Client.Timeout: the attempt and deadline contexts bound each call.
	c.http = &http.Client{Transport: rt}
	return c, nil
}

// orDefault returns v unless it is zero or negative, then def.
func orDefault[T int | int64 | time.Duration | string](v, def T) T {
	var zero T
	if v <= zero {
		return def
	}
	return v
}

// newTransport is tuned for a service that calls one peer hard: enough idle
// connections per host that a burst does not open and close sockets (the
// default keeps 2), and bounded dial and TLS handshakes.
func newTransport(dialTimeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   dialTimeout,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// CloseIdleConnections closes kept-alive connections, for shutdown.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Do sends r, retrying as the package comment says, and decodes a 2xx answer
// into r.Out.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	if r.Method == "" {
		r.Method = http.MethodGet
	}
	logPath, _, _ := strings.Cut(r.Path, "?")
	if !strings.HasPrefix(r.Path, "/") {
		return nil, fmt.Errorf("%s %s: path must start with /", r.Method, logPath)
	}
	var body []byte
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", r.Method, logPath, err)
		}
		body = b
	}
	rid := requestid.From(ctx)
	if rid == "" {
		rid = requestid.New()
	}
	tmpl, err := http.NewRequest(r.Method, c.base+r.Path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s %s: build request: %w", r.Method, logPath, err)
	}
	c.setHeaders(tmpl.Header, r, rid, body != nil)
	safe := r.Idempotent || r.IdempotencyKey != "" ||
		r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions

	callCtx, cancel := context.WithTimeout(ctx, c.deadline)
	defer cancel()
	for n := 1; ; n++ {
		start := time.Now()
		out := c.attempt(callCtx, tmpl, body)
		c.report(ctx, Attempt{Method: r.Method, Path: logPath, N: n, Status: out.status, Err: out.err, Latency: time.Since(start)}, rid)
		if out.err != nil && !out.dialFailed && isTimeout(out.err) {
			// A kept-alive connection that answers nothing may be dead
			// without knowing it: a peer that left the network (a
			// partition, a container back on a new address) sends no
			// reset. Its idle siblings date from the same time, so the
			// next attempt dials afresh instead of waiting on each of them.
			c.http.CloseIdleConnections()
		}

		if out.err == nil && out.status >= 200 && out.status < 300 {
			if r.Out != nil && out.status != http.StatusNoContent && len(bytes.TrimSpace(out.body)) > 0 {
				if err := json.Unmarshal(out.body, r.Out); err != nil {
					return nil, fmt.Errorf("%s %s: decode response: %w", r.Method, logPath, err)
				}
			}
			return &Response{Status: out.status, Header: out.header, Attempts: n}, nil
		}
		if err := stopped(ctx, callCtx, r.Method, logPath, n); err != nil {
			return nil, err
		}
		retryable, fail := classify(out, r, logPath, n)
		if !retryable || !(safe || out.dialFailed) || n >= c.maxAttempts {
			return nil, fail
		}
		wait := c.backoff(n)
		if ra, ok := retryAfter(out.header); ok {
			wait = min(ra, c.maxRetryAfter)
		}
		// A wait that outlasts the deadline would only end in a timeout;
		// give the caller the real failure now.
		if dl, ok := callCtx.Deadline(); ok && time.Until(dl) <= wait {
			return nil, fail
		}
		t := time.NewTimer(wait)
		select {
		case <-callCtx.Done():
			t.Stop()
			if err := stopped(ctx, callCtx, r.Method, logPath, n); err != nil {
				return nil, err
			}
		case <-t.C:
		}
	}
}

func (c *Client) setHeaders(h http.Header, r Request, rid string, hasBody bool) {
	h.Set("Accept", "application/json, application/problem+json")
	h.Set("User-Agent", c.userAgent)
	h.Set(requestid.Header, rid)
	if hasBody {
		h.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		h.Set("Authorization", "Bearer "+c.token)
	}
	if r.IdempotencyKey != "" {
		h.Set("Idempotency-Key", r.IdempotencyKey)
	}
}

// outcome is what one attempt produced.
type outcome struct {
	status int
	header http.Header
	body   []byte
	err    error
	// dialFailed: no connection was made, so nothing reached the peer.
	dialFailed bool
	// permanent: retrying cannot help (the answer was too large).
	permanent bool
}

var errResponseTooLarge = errors.New("response body over the limit")

func (c *Client) attempt(ctx context.Context, tmpl *http.Request, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	req := tmpl.Clone(ctx)
	if body != nil {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		// GetBody lets the transport replay the body on a connection that
		// turned out to be dead.
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var opErr *net.OpError
		return outcome{err: err, dialFailed: errors.As(err, &opErr) && opErr.Op == "dial"}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return outcome{status: resp.StatusCode, header: resp.Header, err: fmt.Errorf("read response: %w", err)}
	}
	if int64(len(b)) > c.maxBody {
		return outcome{status: resp.StatusCode, header: resp.Header, err: errResponseTooLarge, permanent: true}
	}
	return outcome{status: resp.StatusCode, header: resp.Header, body: b}
}

// stopped returns the error to end with when the caller's context or the
// call's deadline is done, else nil. The caller's cancellation is returned
// as itself: it is not the peer's fault.
func stopped(ctx, callCtx context.Context, method, path string, attempts int) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("%s %s: %w", method, path, ctx.Err())
	}
	if callCtx.Err() != nil {
		return &UnavailableError{Method: method, Path: path, Attempts: attempts, Timeout: true, Err: context.DeadlineExceeded}
	}
	return nil
}

// classify reports whether a retry could succeed where an unsuccessful
// attempt failed, and the error the call ends with if it is not retried.
func classify(out outcome, r Request, path string, n int) (bool, error) {
	unavailable := func(err error, timeout bool) error {
		return &UnavailableError{Method: r.Method, Path: path, Attempts: n, Timeout: timeout, Err: err}
	}
	if out.err != nil {
		if out.permanent {
			return false, fmt.Errorf("%s %s: %w", r.Method, path, out.err)
		}
		return true, unavailable(out.err, isTimeout(out.err))
	}
	se := newStatusError(r.Method, path, out.status, out.header.Get("Content-Type"), out.body)
	switch {
	case out.status == http.StatusTooManyRequests, out.status == http.StatusBadGateway, out.status == http.StatusServiceUnavailable:
		return true, unavailable(se, false)
	case out.status == http.StatusGatewayTimeout:
		return true, unavailable(se, true)
	case out.status == http.StatusConflict && se.Code == "idempotency_key_in_use" && r.IdempotencyKey != "":
		// An earlier attempt of ours is still running at the peer (it
		// outlived our attempt timeout); a retry gets its answer.
		return true, unavailable(se, false)
	case out.status == http.StatusInternalServerError:
		return true, se
	default:
		return false, se
	}
}

func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout())
}

func (c *Client) backoff(n int) time.Duration {
	ceiling := c.backoffMax
	if n-1 < 31 {
		ceiling = min(c.backoffMax, c.backoffBase<<(n-1))
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// retryAfter reads Retry-After in seconds or as an HTTP date.
func retryAfter(h http.Header) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

func (c *Client) report(ctx context.Context, a Attempt, rid string) {
	if c.onAttempt != nil {
		c.onAttempt(ctx, a)
	}
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", a.Method), slog.String("path", a.Path), slog.Int("attempt", a.N),
		slog.Int("status", a.Status), slog.Float64("latency_ms", float64(a.Latency.Microseconds())/1000),
		slog.String("request_id", rid),
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("err", a.Err.Error()))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "upstream call", attrs...)
}
