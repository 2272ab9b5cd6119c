package httpserver

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/problem"
	"github.com/tourism-go/tourism/pkg/requestid"
)

// RequestID takes X-Request-ID from the request (or makes one), echoes it in
// the response and puts it in the request's context for logs and outbound
// calls.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := requestid.Accept(c.GetHeader(requestid.Header))
		c.Header(requestid.Header, id)
		c.Request = c.Request.WithContext(requestid.With(c.Request.Context(), id))
		c.Next()
	}
}

// AccessLog writes one line per request. It logs the route pattern and the
// path without its query string, which may carry personal data (an email
// filter).
func AccessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		switch {
		case status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
			// The service answered as it should that something it needs
			// (the database, a peer, a secret) is not there; the cause is
			// logged where it was found. ERROR stays for what is a bug.
			level = slog.LevelWarn
		case status >= 500:
			level = slog.LevelError
		case c.Request.URL.Path == "/healthz" || c.Request.URL.Path == "/readyz" || c.Request.URL.Path == "/metrics":
			// Probes arrive every few seconds; at info they would drown
			// the requests that matter.
			level = slog.LevelDebug
		}
		log.LogAttrs(c.Request.Context(), level, "request",
			slog.String("method", c.Request.Method),
			slog.String("route", c.FullPath()),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", status),
			slog.Float64("latency_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int("bytes", max(c.Writer.Size(), 0)),
			slog.String("request_id", requestid.From(c.Request.Context())),
			slog.String("client_ip", c.ClientIP()),
		)
	}
}

// Recovery turns a panic into a problem+json 500. The stack goes to the
// log, never into the response.
func Recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			rec := recover()
			if rec == nil {
				return
			}
			if err, ok := rec.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(rec) // the server's own signal to drop the connection
			}
			log.ErrorContext(c.Request.Context(), "panic serving request",
				"panic", rec, "stack", string(debug.Stack()), "request_id", requestid.From(c.Request.Context()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			problem.Write(c, problem.New(http.StatusInternalServerError, problem.CodeInternal, "An unexpected error occurred."))
		}()
		c.Next()
	}
}

// LimitBody rejects a declared Content-Length over limit with 413 at once,
// and caps what a handler can read of a body without one.
func LimitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			problem.Write(c, tooLarge(limit))
			return
		}
		if c.Request.Body != nil {
			c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		}
		c.Next()
	}
}

func tooLarge(limit int64) *problem.Problem {
	return problem.New(http.StatusRequestEntityTooLarge, problem.CodePayloadTooLarge,
		"The request body is larger than the limit of "+humanBytes(limit)+".")
}

func humanBytes(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// RequireJSON answers 415 to a request that carries a body in another media
// type than JSON. Requests without a body (POST .../confirm) pass.
func RequireJSON() gin.HandlerFunc {
	return func(c *gin.Context) {
		if hasBody(c.Request) {
			mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
			if err != nil || !isJSON(mt) {
				problem.Write(c, problem.New(http.StatusUnsupportedMediaType, problem.CodeUnsupportedMediaType,
					"Send the request body as application/json."))
				return
			}
		}
		c.Next()
	}
}

func hasBody(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete, http.MethodOptions:
		return false
	}
	return r.ContentLength > 0 || (r.ContentLength == -1 && r.Body != nil && r.Body != http.NoBody)
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}
