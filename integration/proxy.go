package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Fault is what a FaultProxy does to a request a Rule matches.
type Fault int

const (
	// Fail500 answers 500 without forwarding: the peer broke before acting.
	Fail500 Fault = iota + 1
	// Fail503 answers 503 without forwarding: the peer is overloaded.
	Fail503
	// Delay holds the request for Rule.Delay, then forwards it even if the
	// client gave up meanwhile, and relays the answer if anyone still
	// listens: a slow peer that acts late.
	Delay
	// Drop closes the connection without forwarding: the peer is down.
	Drop
	// DropResponse forwards the request, lets the peer act on it, then
	// closes the connection without answering: the peer did the work and
	// the answer was lost (a crash, a network cut).
	DropResponse
)

func (f Fault) String() string {
	switch f {
	case Fail500:
		return "500"
	case Fail503:
		return "503"
	case Delay:
		return "delay"
	case Drop:
		return "drop"
	case DropResponse:
		return "drop-response"
	}
	return "pass"
}

// Rule selects requests and the fault they meet.
type Rule struct {
	// Method matches when empty or equal.
	Method string
	// Path is a path.Match pattern ("/v1/payment_intents/*/confirm");
	// empty matches every path.
	Path  string
	Fault Fault
	// Times is how many matching requests meet the fault; zero or less:
	// every one until Clear.
	Times int
	// Delay is Delay's wait.
	Delay time.Duration
}

func (r Rule) matches(req *http.Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	if r.Path == "" {
		return true
	}
	ok, _ := path.Match(r.Path, req.URL.Path)
	return ok
}

// Injected is a rule in force; Hits counts the requests it faulted.
type Injected struct {
	rule Rule
	hits atomic.Int64
}

// Hits is how many requests met the rule's fault.
func (i *Injected) Hits() int { return int(i.hits.Load()) }

// Seen is one request that went through the proxy.
type Seen struct {
	Method, Path, IdempotencyKey string
	Fault                        Fault // 0: passed untouched
}

// FaultProxy is a reverse proxy on a loopback port in front of a real peer,
// which can be told to fail the next requests in a chosen way. It is the
// only fake in the suite: every answer that is not a fault comes from the
// real service.
type FaultProxy struct {
	URL string

	target    atomic.Pointer[url.URL]
	transport *http.Transport
	proxy     *httputil.ReverseProxy

	held atomic.Int64

	mu    sync.Mutex
	rules []*Injected
	seen  []Seen
}

// NewFaultProxy starts a proxy to target (a base URL; empty: set later
// with SetTarget, and until then every request is answered 502). It stops
// when t ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	p := &FaultProxy{transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	if target != "" {
		p.SetTarget(target)
	}
	p.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.target.Load())
			r.Out.Host = r.In.Host
		},
		Transport: p.transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		p.transport.CloseIdleConnections()
	})
	return p
}

// SetTarget points the proxy at base.
func (p *FaultProxy) SetTarget(base string) {
	u, err := url.Parse(base)
	if err != nil {
		panic("fault proxy target: " + err.Error())
	}
	p.target.Store(u)
}

// Inject puts r in force, after the rules already there, until Clear or
// the end of t: a test that fails half-way leaves no fault behind for the
// next one on the same stack.
func (p *FaultProxy) Inject(t testing.TB, r Rule) *Injected {
	in := &Injected{rule: r}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, in)
	t.Cleanup(func() { p.lift(in) })
	return in
}

func (p *FaultProxy) lift(in *Injected) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.Index(p.rules, in); i >= 0 {
		p.rules = slices.Delete(p.rules, i, i+1)
	}
}

// Clear lifts every rule: from now on requests pass.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = nil
}

// Seen lists the requests that went through, in arrival order, with the
// fault each met.
func (p *FaultProxy) Seen() []Seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Seen(nil), p.seen...)
}

// pick returns the first rule in force that matches req, counting the hit,
// and records req.
func (p *FaultProxy) pick(req *http.Request) *Injected {
	p.mu.Lock()
	defer p.mu.Unlock()
	var chosen *Injected
	for i, in := range p.rules {
		if !in.rule.matches(req) {
			continue
		}
		n := in.hits.Add(1)
		if in.rule.Times > 0 && int(n) >= in.rule.Times {
			p.rules = slices.Delete(p.rules, i, i+1)
		}
		chosen = in
		break
	}
	s := Seen{Method: req.Method, Path: req.URL.Path, IdempotencyKey: req.Header.Get("Idempotency-Key")}
	if chosen != nil {
		s.Fault = chosen.rule.Fault
		if s.Fault == Delay || s.Fault == DropResponse {
			p.held.Add(1) // here, under the lock: Clear then Held sees it
		}
	}
	p.seen = append(p.seen, s)
	return chosen
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	if p.target.Load() == nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	in := p.pick(r)
	if in == nil {
		p.proxy.ServeHTTP(w, r)
		return
	}
	switch in.rule.Fault {
	case Fail500, Fail503:
		status := http.StatusInternalServerError
		if in.rule.Fault == Fail503 {
			status = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"type":"about:blank","title":"Injected fault","status":`+
			strconv.Itoa(status)+`,"code":"injected_fault"}`)
	case Delay:
		defer p.held.Add(-1)
		body, _ := io.ReadAll(r.Body)
		time.Sleep(in.rule.Delay) // the fault itself: a peer this slow
		resp, err := p.forward(r, body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		for k, v := range resp.header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.status)
		_, _ = w.Write(resp.body)
	case Drop:
		hangUp(w)
	case DropResponse:
		defer p.held.Add(-1)
		body, err := io.ReadAll(r.Body)
		if err == nil {
			_, _ = p.forward(r, body)
		}
		hangUp(w)
	}
}

// Held is how many faulted requests are still on their way to the peer (a
// Delay waiting, a DropResponse forwarding): once it is zero, the peer has
// seen everything it will see.
func (p *FaultProxy) Held() int { return int(p.held.Load()) }

type answer struct {
	status int
	header http.Header
	body   []byte
}

// forward sends r with body to the target on a context of its own, so that
// the peer gets the request whatever the client does meanwhile.
func (p *FaultProxy) forward(r *http.Request, body []byte) (answer, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	target := *p.target.Load()
	target.Path = r.URL.Path
	target.RawQuery = r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, target.String(), bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	out.Header = r.Header.Clone()
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, err
}

// hangUp closes the client's connection without a response.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server closes the connection
	}
	_ = conn.Close()
}
