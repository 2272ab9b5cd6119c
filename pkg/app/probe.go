package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"
)

// Probe asks the service on localhost:port for /readyz and returns 0 when it
// answers 200, 1 otherwise, as a container HEALTHCHECK expects.
func Probe(port string, defaultPort int, timeout time.Duration) int {
	if port == "" {
		port = strconv.Itoa(defaultPort)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://127.0.0.1:"+port+"/readyz", nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(os.Stderr, "healthcheck: /readyz answered", resp.Status)
		return 1
	}
	return 0
}
