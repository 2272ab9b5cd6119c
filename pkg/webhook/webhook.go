// Package webhook signs webhook bodies on the sending side and verifies them on
// the receiving side, so that a receiver can tell a genuine, fresh event from a
// forged or replayed one.
//
// The scheme is the one the payment gateway and booking share:
//
//	Gateway-Signature: t=1767225600,v1=5257a869e7...,v1=9f86d081...
//
// t is the signing time in Unix seconds and each v1 is the hex HMAC-SHA256 of
// "<t>.<raw body>" under one secret. A sender with several secrets (during a
// rotation) adds one v1 per secret; a receiver accepts the request when any v1
// matches any of its own secrets, so both sides can move to a new secret
// without a moment when their sets do not overlap. Signing the timestamp
// together with the body stops an attacker from replaying an old body under a
// new time.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header is the HTTP header that carries the signature.
const Header = "Gateway-Signature"

// DefaultTolerance is how far the signing time may be from the receiver's
// clock, either way, when Verifier.Tolerance is not set. Five minutes absorbs
// ordinary clock skew and retry delays while keeping the replay window short.
const DefaultTolerance = 300 * time.Second

// Limits on what Verify is willing to parse. A real header with a handful of
// secrets is under 400 bytes; these bounds keep a hostile header from costing
// more than a few microseconds.
const (
	// MaxHeaderLength is the longest header value Verify parses.
	MaxHeaderLength = 4096
	// maxParts bounds the comma-separated entries, and with them the number
	// of HMAC comparisons (entries × secrets).
	maxParts = 32
	// maxTimestampDigits keeps the timestamp far from int64 overflow; ten
	// digits last until the year 2286.
	maxTimestampDigits = 12
)

// Errors returned by Verify. A receiver answers every one of them with 401; they
// are distinct so that logs say why a delivery was refused.
var (
	// ErrMissingSignature: the header is absent or empty.
	ErrMissingSignature = errors.New("missing webhook signature")
	// ErrMalformedSignature: the header does not follow the t=...,v1=... format.
	ErrMalformedSignature = errors.New("malformed webhook signature")
	// ErrStaleSignature: the signature is genuine but its timestamp is outside
	// the tolerance, in the past (a replay or a very late retry) or in the future.
	ErrStaleSignature = errors.New("stale webhook signature")
	// ErrSignatureMismatch: no v1 matches any configured secret (wrong secret,
	// or the body was changed in transit).
	ErrSignatureMismatch = errors.New("webhook signature mismatch")
	// ErrNoSecrets: the Verifier has no usable secret. This is a configuration
	// mistake; it fails closed rather than accepting everything.
	ErrNoSecrets = errors.New("no webhook secret configured")
)

// Sign returns the Header value for body signed at time at, with one v1 per
// secret. Empty secrets are skipped, as Verify skips them: an empty HMAC key
// is no secret at all. With no usable secret the result has no v1 and every
// Verifier rejects it.
func Sign(body []byte, at time.Time, secrets ...[]byte) string {
	ts := strconv.FormatInt(at.Unix(), 10)
	var b strings.Builder
	b.Grow(len("t=") + len(ts) + len(secrets)*(len(",v1=")+hex.EncodedLen(sha256.Size)))
	b.WriteString("t=")
	b.WriteString(ts)
	for _, secret := range secrets {
		if len(secret) == 0 {
			continue
		}
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(secret, ts, body)))
	}
	return b.String()
}

// mac is HMAC-SHA256 of "<ts>.<body>" under secret. The timestamp is the exact
// text from the header, so the receiver never re-formats it.
func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verifier checks signatures on a receiver. Its zero Tolerance and nil Now
// mean DefaultTolerance and time.Now, so a literal with only Secrets works.
type Verifier struct {
	// Secrets are the receiver's accepted secrets; during a rotation it holds
	// both the old and the new one. Empty entries are ignored.
	Secrets [][]byte
	// Tolerance is the largest accepted distance between the signing time and
	// Now, in either direction; zero or negative means DefaultTolerance. It is
	// applied in whole seconds, the resolution of the header.
	Tolerance time.Duration
	// Now is the receiver's clock; tests replace it.
	Now func() time.Time
}

// Verify reports whether header is a valid, fresh signature of body, the raw
// request bytes exactly as received (verify before decoding JSON: re-encoding
// changes the bytes). The error is, or wraps, one of the Err values above.
//
// The signature is checked before the timestamp, so ErrStaleSignature always
// means "genuine but too old or too new" and a forged header is reported as a
// mismatch whatever its time.
func (v Verifier) Verify(header string, body []byte) error {
	if !v.hasSecret() {
		return ErrNoSecrets
	}
	if header == "" {
		return ErrMissingSignature
	}
	sig, err := parse(header)
	if err != nil {
		return err
	}

	matched := false
	for _, secret := range v.Secrets {
		if len(secret) == 0 {
			continue
		}
		want := mac(secret, sig.timestamp, body)
		for _, got := range sig.v1 {
			// Constant-time, so response timing does not reveal how many
			// leading bytes of a guess were right. No early exit either:
			// the work done does not depend on which entry matched.
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return ErrSignatureMismatch
	}

	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Both sides are bounded (the timestamp has at most maxTimestampDigits
	// digits), so the subtraction cannot overflow.
	age := now().Unix() - sig.unix
	limit := int64(tolerance / time.Second)
	switch {
	case age > limit:
		return fmt.Errorf("%w: signed %ds ago", ErrStaleSignature, age)
	case -age > limit:
		return fmt.Errorf("%w: signed %ds in the future", ErrStaleSignature, -age)
	}
	return nil
}

func (v Verifier) hasSecret() bool {
	for _, s := range v.Secrets {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// signature is a parsed header.
type signature struct {
	timestamp string // exactly as sent, because it is part of the signed text
	unix      int64
	v1        [][]byte
}

// parse reads "t=<digits>,v1=<64 hex>[,v1=...][,other=...]". Unknown keys are
// skipped so that a sender can add a scheme (v2=) before receivers know it.
// Each part is visited once, so the work is linear in the header length, which
// is itself bounded, without building a list of parts.
func parse(header string) (signature, error) {
	var sig signature
	if len(header) > MaxHeaderLength {
		return sig, fmt.Errorf("%w: header longer than %d bytes", ErrMalformedSignature, MaxHeaderLength)
	}
	if strings.Count(header, ",") >= maxParts {
		return sig, fmt.Errorf("%w: more than %d parts", ErrMalformedSignature, maxParts)
	}

	seenT := false
	for part := range strings.SplitSeq(header, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || key == "" {
			return sig, fmt.Errorf("%w: part %q is not key=value", ErrMalformedSignature, clip(part))
		}
		switch key {
		case "t":
			if seenT {
				// Two timestamps would leave the signed text ambiguous.
				return sig, fmt.Errorf("%w: more than one t", ErrMalformedSignature)
			}
			seenT = true
			unix, err := parseTimestamp(value)
			if err != nil {
				return sig, err
			}
			sig.timestamp, sig.unix = value, unix
		case "v1":
			if len(value) != hex.EncodedLen(sha256.Size) {
				return sig, fmt.Errorf("%w: v1 is not %d hex digits", ErrMalformedSignature, hex.EncodedLen(sha256.Size))
			}
			raw, err := hex.DecodeString(value)
			if err != nil {
				return sig, fmt.Errorf("%w: v1 is not hex", ErrMalformedSignature)
			}
			sig.v1 = append(sig.v1, raw)
		default:
			// Forward compatibility: a scheme this receiver does not know.
		}
	}
	if !seenT {
		return sig, fmt.Errorf("%w: no t", ErrMalformedSignature)
	}
	if len(sig.v1) == 0 {
		return sig, fmt.Errorf("%w: no v1", ErrMalformedSignature)
	}
	return sig, nil
}

// parseTimestamp accepts only plain decimal digits: strconv alone would also
// take a sign, and "+1" and "1" must not be two spellings of one signed text.
func parseTimestamp(s string) (int64, error) {
	if s == "" || len(s) > maxTimestampDigits {
		return 0, fmt.Errorf("%w: t is not a Unix time", ErrMalformedSignature)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: t is not a Unix time", ErrMalformedSignature)
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: t is not a Unix time", ErrMalformedSignature)
	}
	return n, nil
}

// clip keeps error messages (which end up in logs) short whatever was sent.
func clip(s string) string {
	const limit = 32
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// ParseSecrets splits a comma-separated list, as in WEBHOOK_SECRET, into
// secrets: each entry is trimmed of spaces and empty entries are dropped, so
// "old, new," gives two secrets. It returns nil when nothing is left, which a
// caller should treat as missing configuration.
func ParseSecrets(commaSeparated string) [][]byte {
	var secrets [][]byte
	for _, s := range strings.Split(commaSeparated, ",") {
		if s = strings.TrimSpace(s); s != "" {
			secrets = append(secrets, []byte(s))
		}
	}
	return secrets
}
