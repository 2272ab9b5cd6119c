// Package logging builds the service's slog logger from LOG_LEVEL and
// LOG_FORMAT: JSON by default (one object per line, what log collectors
// parse), text for a human at a terminal.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// ParseLevel accepts debug, info, warn and error, in any case.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.TrimSpace(s))); err != nil {
		return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// New returns a logger writing to w at level in format ("json" or "text"),
// with the service name on every line.
func New(w io.Writer, level, format, service string) (*slog.Logger, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "", "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, fmt.Errorf("unknown log format %q (want json or text)", format)
	}
	return slog.New(h).With("service", service), nil
}
