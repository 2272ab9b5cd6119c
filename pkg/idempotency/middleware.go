package idempotency

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/db"
	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/retryset"
	"github.com/tourism-go/tourism/pkg/validate"
)

// Headers of the protocol.
const (
	Header         = "Idempotency-Key"
	ReplayedHeader = "Idempotent-Replayed"
)

// Problem codes this package answers with (DESIGN §2).
const (
	CodeKeyReused = "idempotency_key_reused"
	CodeKeyInUse  = "idempotency_key_in_use"
)

// DefaultLease is how long a request may run before a duplicate may take
// its key over. It is far above any healthy request's latency, so a
// takeover means the first worker died.
const DefaultLease = 60 * time.Second

// maxStoredBody bounds the response kept for replay; the services' answers
// are a few KiB, so a larger one is passed through but not stored.
const maxStoredBody = 1 << 20

// finishTimeout bounds the write that stores or releases a key once the
// handler is done. That write outlives the client's connection: a client
// that hangs up after its booking was made must still find the answer
// stored when it retries.
const finishTimeout = 5 * time.Second

// Mode says whether a route demands a key.
type Mode int

const (
	// Optional routes run without a key as if there were no middleware.
	Optional Mode = iota + 1
	// Required routes answer 422 to a request without a key.
	Required
)

// Options configure the middleware.
type Options struct {
	// Scope returns whom a request's key belongs to: two callers may pick
	// the same key without seeing each other's answers. It runs after the
	// route's auth middleware (e.g. returning the merchant key's id). Nil
	// means "public", for routes anyone may call. An empty result is a
	// wiring mistake and answers 500 rather than mixing callers.
	Scope func(c *gin.Context) string
	// Lease defaults to DefaultLease.
	Lease time.Duration
	// Log receives store failures; nil discards them.
	Log *slog.Logger
}

// Middleware is the gin side of the protocol.
type Middleware struct {
	store    *Store
	scope    func(c *gin.Context) string
	lease    time.Duration
	log      *slog.Logger
	stranded *retryset.Set[ID, stranded]
}

// New returns the middleware over store.
func New(store *Store, opts Options) *Middleware {
	m := &Middleware{store: store, scope: opts.Scope, lease: opts.Lease, log: opts.Log, stranded: retryset.New[ID, stranded](0)}
	if m.scope == nil {
		m.scope = func(*gin.Context) string { return "public" }
	}
	if m.lease <= 0 {
		m.lease = DefaultLease
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m
}

// Handler returns the middleware for one route, placed just before the
// route's handler.
func (m *Middleware) Handler(mode Mode) gin.HandlerFunc {
	return func(c *gin.Context) {
		values := c.Request.Header.Values(Header)
		if len(values) == 0 || (len(values) == 1 && values[0] == "") {
			if mode == Required {
				problem.Write(c, invalidKey("is required on this endpoint"))
				return
			}
			c.Next()
			return
		}
		if len(values) > 1 {
			problem.Write(c, invalidKey("must be sent once"))
			return
		}
		key := values[0]
		if !validKey(key) {
			problem.Write(c, invalidKey(fmt.Sprintf("must be 1 to %d printable ASCII characters", MaxKeyLength)))
			return
		}
		scope := m.scope(c)
		if scope == "" {
			m.log.ErrorContext(c.Request.Context(), "idempotency scope is empty: is the auth middleware before it?", "route", c.FullPath())
			problem.Write(c, problem.New(http.StatusInternalServerError, problem.CodeInternal, "An unexpected error occurred."))
			return
		}
		body, p := readBody(c.Request)
		if p != nil {
			problem.Write(c, p)
			return
		}
		// The handler decodes the body as if nobody had read it.
		c.Request.Body = io.NopCloser(bytes.NewReader(body))

		operation := c.FullPath()
		if operation == "" {
			operation = c.Request.URL.Path
		}
		id := ID{Scope: scope, Operation: c.Request.Method + " " + operation, Key: key}
		// The fingerprint takes the concrete path: the same key on the
		// payments of two different bookings is a reuse, not a replay.
		var (
			claim  *Claim
			replay *Response
		)
		fp, err := m.store.Fingerprint(c.Request.Context(), c.Request.Method, c.Request.URL.Path, body)
		if err == nil {
			claim, replay, err = m.store.Begin(c.Request.Context(), id, fp, m.lease)
		}
		if errors.Is(err, ErrInUse) {
			// Perhaps by a request of ours whose outcome the database did
			// not take: write it now, and look again.
			again, serr := m.settleStranded(c.Request.Context(), id, m.store.now())
			if serr != nil {
				m.log.WarnContext(c.Request.Context(), "settle stranded idempotency key", "err", serr)
			}
			if again {
				claim, replay, err = m.store.Begin(c.Request.Context(), id, fp, m.lease)
			}
		}
		switch {
		case errors.Is(err, ErrReused):
			problem.Write(c, problem.New(http.StatusUnprocessableEntity, CodeKeyReused,
				"This Idempotency-Key was already used with a different request; use a new key for a new request."))
		case errors.Is(err, ErrInUse):
			// The first request is likely to finish within a second; a
			// retry after that gets its answer.
			c.Header("Retry-After", "1")
			problem.Write(c, problem.New(http.StatusConflict, CodeKeyInUse,
				"A request with this Idempotency-Key is still being processed; retry shortly."))
		case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
			// The client hung up while we looked; nobody reads this answer.
			problem.Write(c, problem.New(499, "client_closed_request", "The client closed the request."))
		case db.IsUnavailable(err):
			m.log.WarnContext(c.Request.Context(), "idempotency lookup: database unavailable", "err", err)
			problem.Write(c, problem.Unavailable())
		case err != nil:
			m.log.ErrorContext(c.Request.Context(), "idempotency lookup failed", "err", err)
			problem.Write(c, problem.New(http.StatusInternalServerError, problem.CodeInternal, "An unexpected error occurred."))
		case replay != nil:
			writeReplay(c, replay)
		default:
			m.run(c, claim)
		}
	}
}

// run calls the rest of the chain while recording its response, then stores
// the response or releases the key.
func (m *Middleware) run(c *gin.Context, claim *Claim) {
	rec := &recorder{ResponseWriter: c.Writer}
	c.Writer = rec
	finished := false
	defer func() {
		c.Writer = rec.ResponseWriter
		if !finished {
			// The handler panicked (the panic goes on to Recovery): free the
			// key so that the client's retry runs instead of waiting out
			// the lease.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), finishTimeout)
			defer cancel()
			if err := claim.Release(ctx); err != nil {
				m.log.WarnContext(ctx, "release idempotency key after panic", "err", err)
				m.strand(claim, nil, err)
			}
		}
	}()
	c.Next()
	finished = true

	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), finishTimeout)
	defer cancel()
	status := rec.Status()
	if !storable(status) || rec.overflow {
		if err := claim.Release(ctx); err != nil {
			m.log.WarnContext(ctx, "release idempotency key", "err", err, "status", status)
			m.strand(claim, nil, err)
		}
		return
	}
	resp := Response{
		Status:      status,
		ContentType: rec.Header().Get("Content-Type"),
		Location:    rec.Header().Get("Location"),
		Body:        rec.body.Bytes(),
	}
	if err := claim.Complete(ctx, resp); err != nil {
		// The client has its answer. A retry that meets the key here
		// stores it then (see stranded); elsewhere it runs the handler
		// again once the lease expires, which the handler's own
		// idempotency (a hold per booking id, a payment per intent) must
		// absorb.
		m.log.WarnContext(ctx, "store idempotent response", "err", err, "status", status)
		m.strand(claim, &resp, err)
	}
}

// strand remembers a claim whose outcome could not be written, unless the
// key was taken over meanwhile (then the successor's outcome stands).
func (m *Middleware) strand(claim *Claim, resp *Response, err error) {
	if errors.Is(err, ErrLeaseLost) {
		return
	}
	if resp != nil {
		kept := *resp
		kept.Body = bytes.Clone(resp.Body) // the recorder's buffer goes with the request
		resp = &kept
	}
	m.stranded.Add(claim.id, stranded{claim: claim, resp: resp}, claim.until, m.store.now())
}

// storable reports whether a response with status is the operation's
// outcome, to be replayed. Answers that a corrected or later retry could
// change are not stored: validation failures (400, 413, 415, 422: the client
// fixes its body and retries with the same key), auth and rate limits, a
// client that went away (499) and server errors.
func storable(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden,
		http.StatusRequestTimeout, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity,
		http.StatusTooManyRequests, 499:
		return false
	}
	return status < 500
}

func writeReplay(c *gin.Context, r *Response) {
	h := c.Writer.Header()
	if r.ContentType != "" {
		h.Set("Content-Type", r.ContentType)
	}
	if r.Location != "" {
		h.Set("Location", r.Location)
	}
	h.Set(ReplayedHeader, "true")
	c.AbortWithStatus(r.Status)
	if len(r.Body) > 0 {
		_, _ = c.Writer.Write(r.Body)
	}
}

func readBody(r *http.Request) ([]byte, *problem.Problem) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, problem.New(http.StatusRequestEntityTooLarge, problem.CodePayloadTooLarge,
				fmt.Sprintf("The request body is larger than the limit of %d bytes.", maxErr.Limit))
		}
		return nil, problem.New(http.StatusBadRequest, problem.CodeMalformedJSON, "The request body could not be read.")
	}
	return body, nil
}

func invalidKey(detail string) *problem.Problem {
	return problem.Validation([]validate.FieldError{{Field: Header, Detail: detail}})
}

func validKey(k string) bool {
	if k == "" || len(k) > MaxKeyLength {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// recorder passes the response through to the client and keeps a copy of
// its body for the store.
type recorder struct {
	gin.ResponseWriter
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) Write(b []byte) (int, error) {
	r.keep(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.keep([]byte(s))
	return r.ResponseWriter.WriteString(s)
}

func (r *recorder) keep(b []byte) {
	if r.overflow {
		return
	}
	if r.body.Len()+len(b) > maxStoredBody {
		r.overflow = true
		r.body.Reset()
		return
	}
	r.body.Write(b)
}
