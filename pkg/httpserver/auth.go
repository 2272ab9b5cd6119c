package httpserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tourism-go/tourism/pkg/problem"
)

// RequireBearer lets a request through only with `Authorization: Bearer
// <token>` for one of tokens (several allow rotation). Tokens are compared
// as SHA-256 digests in constant time, so neither the content nor the length
// of a configured token leaks through timing.
func RequireBearer(tokens ...string) gin.HandlerFunc {
	digests := make([][32]byte, 0, len(tokens))
	for _, t := range tokens {
		if t != "" {
			digests = append(digests, sha256.Sum256([]byte(t)))
		}
	}
	return func(c *gin.Context) {
		if !bearerMatches(c.GetHeader("Authorization"), digests) {
			c.Header("WWW-Authenticate", `Bearer realm="api"`)
			problem.Write(c, problem.Unauthorized())
			return
		}
		c.Next()
	}
}

func bearerMatches(header string, digests [][32]byte) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	match := 0
	for _, d := range digests {
		match |= subtle.ConstantTimeCompare(got[:], d[:])
	}
	return match == 1
}
