package integration

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/app"
	"github.com/tourism-go/tourism/pkg/config"
	"github.com/tourism-go/tourism/pkg/dbtest"
	booking "github.com/tourism-go/tourism/services/booking/service"
	gateway "github.com/tourism-go/tourism/services/payment-gateway/service"
	catalog "github.com/tourism-go/tourism/services/tour-catalog/service"
)

// The secrets the three services share in the suite, as compose would give
// them.
const (
	CatalogAdminToken   = "catalog-admin-token-integration"
	CatalogServiceToken = "catalog-service-token-integration"
	PaymentAPIKey       = "sk_test_integration_suite"
	WebhookSecret       = "whsec_integration_suite"
	BookingAdminToken   = "booking-admin-token-integration"
)

// startTimeout bounds a service's start, stopTimeout its shutdown.
const (
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
)

// Options tune booking for a scenario; zero values keep the suite's
// defaults, which are the service's own except where a test would wait.
type Options struct {
	// HoldTTL is BOOKING_HOLD_TTL (default 15m).
	HoldTTL time.Duration
	// HoldMargin is BOOKING_HOLD_MARGIN (default 2m, or twice a long
	// SweepInterval).
	HoldMargin time.Duration
	// SweepInterval is BOOKING_SWEEP_INTERVAL, the expiry and reconcile
	// workers' period (default 1s, so that convergence is quick to see).
	SweepInterval time.Duration
	// CatalogTimeout and PaymentTimeout are booking's per-attempt peer
	// timeouts (defaults 2s and 5s, the service's own).
	CatalogTimeout time.Duration
	PaymentTimeout time.Duration
}

// Stack is the three services started in this process for one test, each on
// its own loopback port and fresh database of one backend:
//
//	client ─▶ booking ─▶ CatalogProxy ─▶ tour-catalog
//	                  └─▶ GatewayProxy ─▶ payment-gateway
//	payment-gateway ─▶ WebhookProxy ─▶ booking /v1/webhooks/payments
//
// The proxies pass everything through until a test injects a fault. Tests
// read the catalog and the gateway directly, never through a proxy.
type Stack struct {
	Backend dbtest.Backend

	Catalog, Gateway, Booking *Service

	CatalogProxy, GatewayProxy, WebhookProxy *FaultProxy

	http *http.Client
}

// Service is one running service.
type Service struct {
	Name string
	// URL is its base URL on the loopback interface.
	URL  string
	logs *lineBuffer
}

// StartStack starts tour-catalog, payment-gateway and booking on backend b
// and stops them when t ends, failing t if one does not stop cleanly.
func StartStack(t *testing.T, b dbtest.Backend, opts Options) *Stack {
	t.Helper()
	s := &Stack{Backend: b}
	s.http = &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second},
	}
	t.Cleanup(s.http.CloseIdleConnections)

	// The gateway must know booking's webhook URL before booking (which
	// must know the gateway's) has a port: it gets the proxy's, which is
	// pointed at booking once booking listens.
	s.WebhookProxy = NewFaultProxy(t, "")

	// Services stop in the reverse order of their start (t.Cleanup is
	// last-in first-out): booking first, so that no call of its meets a
	// peer already gone.
	catalogCfg := catalog.DefaultConfig()
	load(t, &catalogCfg, dbEnv(t, b),
		"CATALOG_ADMIN_TOKEN="+CatalogAdminToken,
		"CATALOG_SERVICE_TOKEN="+CatalogServiceToken,
	)
	catalogCfg.Port = 0
	s.Catalog = start(t, "tour-catalog", func(ctx context.Context, w io.Writer, ready func(net.Addr)) error {
		return catalog.Run(ctx, app.Build{Version: "integration"}, catalogCfg, w, ready)
	})

	gatewayCfg := gateway.DefaultConfig()
	load(t, &gatewayCfg, dbEnv(t, b),
		"PAYMENT_API_KEY="+PaymentAPIKey,
		"WEBHOOK_URL="+s.WebhookProxy.URL+"/v1/webhooks/payments",
		"WEBHOOK_SECRET="+WebhookSecret,
		// Quick redelivery, so that a webhook refused while booking was
		// busy with the same booking arrives again within a test's wait.
		"WEBHOOK_DISPATCH_INTERVAL=100ms",
		"WEBHOOK_BACKOFF_BASE=50ms",
		"WEBHOOK_BACKOFF_MAX=500ms",
		"WEBHOOK_TIMEOUT=5s",
	)
	gatewayCfg.Port = 0
	s.Gateway = start(t, "payment-gateway", func(ctx context.Context, w io.Writer, ready func(net.Addr)) error {
		return gateway.Run(ctx, app.Build{Version: "integration"}, gatewayCfg, w, ready)
	})

	s.CatalogProxy = NewFaultProxy(t, s.Catalog.URL)
	s.GatewayProxy = NewFaultProxy(t, s.Gateway.URL)

	bookingCfg := booking.DefaultConfig()
	load(t, &bookingCfg, append(dbEnv(t, b), opts.environ()...),
		"CATALOG_URL="+s.CatalogProxy.URL,
		"CATALOG_SERVICE_TOKEN="+CatalogServiceToken,
		"PAYMENT_URL="+s.GatewayProxy.URL,
		"PAYMENT_API_KEY="+PaymentAPIKey,
		"WEBHOOK_SECRET="+WebhookSecret,
		"BOOKING_ADMIN_TOKEN="+BookingAdminToken,
	)
	bookingCfg.Port = 0
	s.Booking = start(t, "booking", func(ctx context.Context, w io.Writer, ready func(net.Addr)) error {
		return booking.Run(ctx, app.Build{Version: "integration"}, bookingCfg, w, ready)
	})
	s.WebhookProxy.SetTarget(s.Booking.URL)

	for _, svc := range []*Service{s.Catalog, s.Gateway, s.Booking} {
		s.waitReady(t, svc)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, svc := range []*Service{s.Catalog, s.Gateway, s.Booking} {
				t.Logf("last log lines of %s:\n%s", svc.Name, svc.logs.tail(60))
			}
		}
	})
	return s
}

// environ is the booking environment opts ask for.
func (o Options) environ() []string {
	sweep := o.SweepInterval
	if sweep == 0 {
		sweep = time.Second
	}
	margin := o.HoldMargin
	if margin == 0 {
		margin = max(2*time.Minute, 2*sweep)
	}
	env := []string{
		"BOOKING_SWEEP_INTERVAL=" + sweep.String(),
		"BOOKING_HOLD_MARGIN=" + margin.String(),
	}
	if o.HoldTTL != 0 {
		env = append(env, "BOOKING_HOLD_TTL="+o.HoldTTL.String())
	}
	if o.CatalogTimeout != 0 {
		env = append(env, "CATALOG_TIMEOUT="+o.CatalogTimeout.String())
	}
	if o.PaymentTimeout != 0 {
		env = append(env, "PAYMENT_TIMEOUT="+o.PaymentTimeout.String())
	}
	return env
}

// dbEnv names a fresh database of backend b, dropped when t ends.
func dbEnv(t *testing.T, b dbtest.Backend) []string {
	c := dbtest.Config(t, b)
	if c.URL != "" {
		return []string{"DATABASE_URL=" + c.URL, "DB_MAX_OPEN_CONNS=10", "DB_MAX_IDLE_CONNS=10"}
	}
	return []string{"SQLITE_PATH=" + c.SQLitePath}
}

// load configures cfg as the process would be from its environment, with
// the names the services document in .env.example.
func load(t *testing.T, cfg config.Validator, environ []string, more ...string) {
	t.Helper()
	base := []string{"LOG_FORMAT=json", "LOG_LEVEL=info", "SHUTDOWN_TIMEOUT=10s"}
	if err := config.Load(cfg, append(append(base, environ...), more...)); err != nil {
		t.Fatalf("configuration: %v", err)
	}
}

// start runs one service until t ends, and returns it once it listens.
func start(t *testing.T, name string, run func(ctx context.Context, stdout io.Writer, ready func(net.Addr)) error) *Service {
	t.Helper()
	svc := &Service{Name: name, logs: &lineBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, svc.logs, func(a net.Addr) { addrs <- a }) }()
	select {
	case a := <-addrs:
		_, port, _ := net.SplitHostPort(a.String())
		svc.URL = "http://127.0.0.1:" + port
	case err := <-done:
		cancel()
		t.Fatalf("%s stopped at start: %v\n%s", name, err, svc.logs.tail(30))
	case <-time.After(startTimeout):
		cancel()
		t.Fatalf("%s did not listen within %s", name, startTimeout)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run returned %v, want nil after its context ended", name, err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("%s did not stop within %s", name, stopTimeout)
		}
	})
	return svc
}

// waitReady polls svc's /readyz until it answers 200.
func (s *Stack) waitReady(t *testing.T, svc *Service) {
	t.Helper()
	Eventually(t, startTimeout, svc.Name+" ready", func() (bool, string) {
		resp, err := s.http.Get(svc.URL + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == http.StatusOK, string(body)
	})
}

// lineBuffer keeps a service's log lines for the failure report.
type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lineBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	// Bounded: a long test keeps the last megabyte.
	if l.buf.Len() > 1<<20 {
		rest := l.buf.Bytes()[l.buf.Len()/2:]
		l.buf = *bytes.NewBuffer(append([]byte(nil), rest...))
	}
	return l.buf.Write(p)
}

func (l *lineBuffer) tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
