package httpclient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tourism-go/tourism/pkg/httpclient"
	"github.com/tourism-go/tourism/pkg/requestid"
)

// peer is a test server answering attempt n (from 1) with answer(n); it
// records what each attempt carried.
type peer struct {
	srv   *httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	reqs  []seen
}

type seen struct {
	method, path string
	header       http.Header
	body         string
}

type answer struct {
	status int
	header map[string]string
	body   string
}

func newPeer(t *testing.T, answer func(n int) answer) *peer {
	t.Helper()
	p := &peer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(p.calls.Add(1))
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.reqs = append(p.reqs, seen{r.Method, r.URL.RequestURI(), r.Header.Clone(), string(b)})
		p.mu.Unlock()
		a := answer(n)
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if a.body != "" && w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *peer) seen() []seen {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]seen(nil), p.reqs...)
}

func newClient(t *testing.T, base string, opts httpclient.Options) *httpclient.Client {
	t.Helper()
	opts.BaseURL = base
	if opts.BackoffBase == 0 {
		opts.BackoffBase = time.Millisecond
	}
	c, err := httpclient.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func problemJSON(status int, code, extra string) answer {
	body := `{"type":"about:blank","title":"t","status":` + itoa(status) + `,"code":"` + code + `","detail":"d"` + extra + `}`
	return answer{status: status, header: map[string]string{"Content-Type": "application/problem+json"}, body: body}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

type hold struct {
	ID    string `json:"id"`
	Seats int    `json:"seats"`
}

func TestSuccessSendsWhatItShould(t *testing.T) {
	p := newPeer(t, func(int) answer { return answer{status: 201, body: `{"id":"h1","seats":2}`} })
	var logs bytes.Buffer
	c := newClient(t, p.srv.URL+"/", httpclient.Options{
		Token: "svc-secret", UserAgent: "booking/test",
		Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx := requestid.With(t.Context(), "rid-42")
	var out hold
	resp, err := c.Do(ctx, httpclient.Request{
		Method: http.MethodPost, Path: "/v1/departures/d1/holds?x=1",
		Body: map[string]any{"booking_id": "b1", "seats": 2}, Out: &out, IdempotencyKey: "key-1",
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if out != (hold{ID: "h1", Seats: 2}) || resp.Status != 201 || resp.Attempts != 1 {
		t.Fatalf("out %+v resp %+v", out, resp)
	}
	got := p.seen()[0]
	want := map[string]string{
		"X-Request-ID":    "rid-42",
		"Authorization":   "Bearer svc-secret",
		"Idempotency-Key": "key-1",
		"Content-Type":    "application/json",
		"User-Agent":      "booking/test",
	}
	for h, v := range want {
		if got.header.Get(h) != v {
			t.Errorf("header %s = %q, want %q", h, got.header.Get(h), v)
		}
	}
	if got.method != "POST" || got.path != "/v1/departures/d1/holds?x=1" || got.body != `{"booking_id":"b1","seats":2}` {
		t.Errorf("request %s %s %s", got.method, got.path, got.body)
	}
	if !strings.Contains(logs.String(), `"attempt":1`) || !strings.Contains(logs.String(), `"status":201`) {
		t.Errorf("no per-attempt debug line: %s", logs.String())
	}
	if strings.Contains(logs.String(), "svc-secret") || strings.Contains(logs.String(), "x=1") {
		t.Errorf("the log leaks the token or the query: %s", logs.String())
	}

	// Without an id in the context one is made up, the same for every
	// attempt of the call.
	p2 := newPeer(t, func(n int) answer {
		if n == 1 {
			return answer{status: 503}
		}
		return answer{status: 204}
	})
	c2 := newClient(t, p2.srv.URL, httpclient.Options{})
	if _, err := c2.Do(t.Context(), httpclient.Request{Path: "/v1/x", Out: &out}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	s := p2.seen()
	if len(s) != 2 || s[0].header.Get("X-Request-ID") == "" || s[0].header.Get("X-Request-ID") != s[1].header.Get("X-Request-ID") {
		t.Fatalf("request ids across attempts: %d attempts, %q", len(s), []string{s[0].header.Get("X-Request-ID"), s[len(s)-1].header.Get("X-Request-ID")})
	}
	if s[0].header.Get("Authorization") != "" || s[0].header.Get("Content-Type") != "" {
		t.Fatalf("no token or body, yet %v", s[0].header)
	}
}

func TestRetryPolicy(t *testing.T) {
	ok := answer{status: 200, body: `{"id":"h1","seats":1}`}
	cases := []struct {
		name    string
		req     httpclient.Request
		answers []answer // the last one repeats
		calls   int64
		// want: "" success, else "unavailable", "timeout" or the StatusError code
		want   string
		status int
	}{
		{"GET retries 503 until success", httpclient.Request{Path: "/v1/x"}, []answer{{status: 503}, {status: 503}, ok}, 3, "", 200},
		{"GET gives up after MaxAttempts", httpclient.Request{Path: "/v1/x"}, []answer{problemJSON(503, "service_unavailable", "")}, 3, "unavailable", 503},
		{"GET 504s are timeouts", httpclient.Request{Path: "/v1/x"}, []answer{{status: 504}}, 3, "timeout", 504},
		{"GET retries 500", httpclient.Request{Path: "/v1/x"}, []answer{{status: 500}, ok}, 2, "", 200},
		{"GET does not retry 404", httpclient.Request{Path: "/v1/x"}, []answer{problemJSON(404, "not_found", "")}, 1, "not_found", 404},
		{"POST does not retry 500", httpclient.Request{Method: "POST"}, []answer{problemJSON(500, "internal_error", ""), ok}, 1, "internal_error", 500},
		{"POST does not retry 409", httpclient.Request{Method: "POST"}, []answer{problemJSON(409, "seats_unavailable", ""), ok}, 1, "seats_unavailable", 409},
		{"POST 503 is unavailable, not retried", httpclient.Request{Method: "POST"}, []answer{{status: 503}, ok}, 1, "unavailable", 503},
		{"POST 429 is unavailable, not retried", httpclient.Request{Method: "POST"}, []answer{{status: 429}, ok}, 1, "unavailable", 429},
		{"idempotent POST retries 502", httpclient.Request{Method: "POST", Idempotent: true}, []answer{{status: 502}, ok}, 2, "", 200},
		{"keyed POST retries 504", httpclient.Request{Method: "POST", IdempotencyKey: "k"}, []answer{{status: 504}, ok}, 2, "", 200},
		{"keyed POST waits out key in use", httpclient.Request{Method: "POST", IdempotencyKey: "k"}, []answer{problemJSON(409, "idempotency_key_in_use", ""), ok}, 2, "", 200},
		{"idempotent POST does not retry 422", httpclient.Request{Method: "POST", Idempotent: true}, []answer{problemJSON(422, "validation_failed", ""), ok}, 1, "validation_failed", 422},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, func(n int) answer { return tc.answers[min(n, len(tc.answers))-1] })
			c := newClient(t, p.srv.URL, httpclient.Options{MaxAttempts: 3})
			tc.req.Path = "/v1/holds/h1"
			var out hold
			tc.req.Out = &out
			resp, err := c.Do(t.Context(), tc.req)
			if got := p.calls.Load(); got != tc.calls {
				t.Errorf("peer called %d times, want %d", got, tc.calls)
			}
			switch tc.want {
			case "":
				if err != nil || resp.Status != tc.status || out.ID != "h1" || resp.Attempts != int(tc.calls) {
					t.Fatalf("resp %+v out %+v err %v", resp, out, err)
				}
				return
			case "unavailable", "timeout":
				if !errors.Is(err, httpclient.ErrUnavailable) {
					t.Fatalf("err %v, want ErrUnavailable", err)
				}
				if errors.Is(err, httpclient.ErrTimeout) != (tc.want == "timeout") {
					t.Fatalf("err %v: ErrTimeout %v, want %v", err, errors.Is(err, httpclient.ErrTimeout), tc.want == "timeout")
				}
			default:
				if errors.Is(err, httpclient.ErrUnavailable) {
					t.Fatalf("err %v must not be ErrUnavailable", err)
				}
			}
			var se *httpclient.StatusError
			if !errors.As(err, &se) || se.Status != tc.status {
				t.Fatalf("err %v, want a StatusError %d", err, tc.status)
			}
			if tc.want != "unavailable" && tc.want != "timeout" && se.Code != tc.want {
				t.Fatalf("code %q, want %q", se.Code, tc.want)
			}
		})
	}
}

func TestProblemDetailsDecoded(t *testing.T) {
	cases := []struct {
		name string
		ans  answer
		// want
		code, detail, ext string
		fields            int
	}{
		{"declined card", problemJSON(402, "card_declined", `,"decline_code":"insufficient_funds","payment_intent":{"id":"pi_1"}`), "card_declined", "d", "insufficient_funds", 0},
		{"validation", problemJSON(422, "validation_failed", `,"errors":[{"field":"seats","detail":"too many"}]`), "validation_failed", "d", "", 1},
		{"not a problem", answer{status: 418, header: map[string]string{"Content-Type": "text/plain"}, body: "teapot"}, "", "", "", 0},
		{"broken problem", answer{status: 409, header: map[string]string{"Content-Type": "application/problem+json"}, body: "{"}, "", "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPeer(t, func(int) answer { return tc.ans })
			c := newClient(t, p.srv.URL, httpclient.Options{})
			_, err := c.Do(t.Context(), httpclient.Request{Method: "POST", Path: "/v1/payment_intents/pi_1/confirm"})
			var se *httpclient.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err %v, want a StatusError", err)
			}
			if se.Status != tc.ans.status || se.Code != tc.code || se.Detail != tc.detail || se.Extension("decline_code") != tc.ext || len(se.Errors) != tc.fields {
				t.Fatalf("decoded %+v", se)
			}
			if string(se.Body) != tc.ans.body {
				t.Fatalf("raw body %q, want %q", se.Body, tc.ans.body)
			}
			if tc.code == "card_declined" {
				pi, _ := se.Extensions["payment_intent"].(map[string]any)
				if pi["id"] != "pi_1" {
					t.Fatalf("object extension lost: %v", se.Extensions)
				}
				if _, ok := se.Extensions["status"]; ok {
					t.Fatal("standard members are not extensions")
				}
			}
		})
	}
}

// slowPeer answers after delay, or gives up when the client goes away.
func slowPeer(t *testing.T, delay time.Duration) *peer {
	t.Helper()
	p := &peer{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.calls.Add(1)
		select {
		case <-time.After(delay):
			w.WriteHeader(http.StatusOK)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func TestSlowPeerTimesOut(t *testing.T) {
	const slack = time.Second // generous: only a hang fails this
	cases := []struct {
		name              string
		attempt, deadline time.Duration
		maxAttempts       int
		minCalls          int64
	}{
		{"overall deadline", 100 * time.Millisecond, 350 * time.Millisecond, 10, 2},
		{"attempt timeout, no retries left", 100 * time.Millisecond, 5 * time.Second, 1, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := slowPeer(t, 10*time.Second)
			c := newClient(t, p.srv.URL, httpclient.Options{AttemptTimeout: tc.attempt, Deadline: tc.deadline, MaxAttempts: tc.maxAttempts})
			start := time.Now()
			_, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x"})
			elapsed := time.Since(start)
			if !errors.Is(err, httpclient.ErrTimeout) || !errors.Is(err, httpclient.ErrUnavailable) {
				t.Fatalf("err %v, want ErrTimeout and ErrUnavailable", err)
			}
			bound := min(tc.deadline, tc.attempt*time.Duration(tc.maxAttempts))
			if elapsed > bound+slack {
				t.Fatalf("took %v, bound %v", elapsed, bound)
			}
			if p.calls.Load() < tc.minCalls {
				t.Fatalf("%d attempts, want at least %d", p.calls.Load(), tc.minCalls)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var attempts atomic.Int64
	c := newClient(t, "http://"+addr, httpclient.Options{
		MaxAttempts: 3,
		OnAttempt:   func(context.Context, httpclient.Attempt) { attempts.Add(1) },
	})
	// Even a POST nobody marked safe: a failed dial sent nothing.
	_, err = c.Do(t.Context(), httpclient.Request{Method: "POST", Path: "/v1/payment_intents", Body: map[string]int{"amount": 1}})
	if !errors.Is(err, httpclient.ErrUnavailable) || errors.Is(err, httpclient.ErrTimeout) {
		t.Fatalf("err %v, want ErrUnavailable and not ErrTimeout", err)
	}
	if attempts.Load() != 3 {
		t.Fatalf("%d attempts, want 3", attempts.Load())
	}
}

func TestRetryAfter(t *testing.T) {
	t.Run("honoured up to the cap", func(t *testing.T) {
		p := newPeer(t, func(n int) answer {
			if n == 1 {
				return answer{status: 429, header: map[string]string{"Retry-After": "30"}}
			}
			return answer{status: 204}
		})
		const capped = 300 * time.Millisecond
		c := newClient(t, p.srv.URL, httpclient.Options{MaxRetryAfter: capped, BackoffMax: time.Millisecond})
		start := time.Now()
		if _, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x"}); err != nil {
			t.Fatalf("Do: %v", err)
		}
		if elapsed := time.Since(start); elapsed < capped || elapsed > capped+2*time.Second {
			t.Fatalf("waited %v, want the capped %v", elapsed, capped)
		}
	})
	t.Run("past the deadline gives up at once", func(t *testing.T) {
		p := newPeer(t, func(int) answer {
			return answer{status: 503, header: map[string]string{"Retry-After": "3"}}
		})
		c := newClient(t, p.srv.URL, httpclient.Options{Deadline: 2 * time.Second, MaxRetryAfter: 10 * time.Second})
		start := time.Now()
		_, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x"})
		if !errors.Is(err, httpclient.ErrUnavailable) || errors.Is(err, httpclient.ErrTimeout) {
			t.Fatalf("err %v, want ErrUnavailable (the peer's 503), not a timeout", err)
		}
		if elapsed := time.Since(start); elapsed > time.Second || p.calls.Load() != 1 {
			t.Fatalf("took %v and %d calls; should have stopped after the first", elapsed, p.calls.Load())
		}
	})
}

func TestCallerCancellationStopsRetries(t *testing.T) {
	p := newPeer(t, func(int) answer {
		return answer{status: 503, header: map[string]string{"Retry-After": "10"}}
	})
	c := newClient(t, p.srv.URL, httpclient.Options{MaxAttempts: 10, Deadline: time.Minute, MaxRetryAfter: 10 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Do(ctx, httpclient.Request{Path: "/v1/x"})
	if !errors.Is(err, context.Canceled) || errors.Is(err, httpclient.ErrUnavailable) {
		t.Fatalf("err %v, want context.Canceled and not ErrUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second || p.calls.Load() != 1 {
		t.Fatalf("took %v and %d calls after cancel", elapsed, p.calls.Load())
	}
}

func TestLimitsAndMistakes(t *testing.T) {
	p := newPeer(t, func(int) answer { return answer{status: 200, body: `{"id":"` + strings.Repeat("x", 100) + `"}`} })
	c := newClient(t, p.srv.URL, httpclient.Options{MaxResponseBytes: 64})
	var out hold
	_, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x", Out: &out})
	if err == nil || errors.Is(err, httpclient.ErrUnavailable) || p.calls.Load() != 1 {
		t.Fatalf("oversized answer: err %v after %d calls, want one plain error", err, p.calls.Load())
	}

	c = newClient(t, p.srv.URL, httpclient.Options{})
	var wrong struct{ ID int }
	if _, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x", Out: &wrong}); err == nil || errors.Is(err, httpclient.ErrUnavailable) {
		t.Fatalf("undecodable answer: %v", err)
	}
	if _, err := c.Do(t.Context(), httpclient.Request{Path: "v1/x"}); err == nil {
		t.Fatal("a relative path must be refused")
	}

	for _, base := range []string{"", "catalog:3001", "ftp://x", "http://"} {
		if _, err := httpclient.New(httpclient.Options{BaseURL: base}); err == nil {
			t.Errorf("New accepted base URL %q", base)
		}
	}
}

// Kept-alive connections that went dead without a reset (the peer left the
// network and came back on a new address) must cost one attempt, not one
// per idle connection: after a timed-out attempt the client dials afresh.
func TestDeadKeptAliveConnectionsCostOneAttempt(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{} // remote address → dead
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		dead := conns[r.RemoteAddr]
		mu.Unlock()
		if dead {
			select { // a black hole: no answer, no reset
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		time.Sleep(20 * time.Millisecond) // keeps the warm-up calls concurrent
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"h1","seats":1}`)
	}))
	srv.Config.ConnState = func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			mu.Lock()
			conns[c.RemoteAddr().String()] = false
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(func() { close(release); srv.Close() })

	c := newClient(t, srv.URL, httpclient.Options{AttemptTimeout: 200 * time.Millisecond, Deadline: 5 * time.Second, MaxAttempts: 2})
	// Several connections, all kept alive afterwards.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x"}); err != nil {
				t.Errorf("warm-up: %v", err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	warm := len(conns)
	for addr := range conns {
		conns[addr] = true
	}
	mu.Unlock()
	if warm < 2 {
		t.Fatalf("%d connections after the warm-up, want several kept alive", warm)
	}

	var out hold
	resp, err := c.Do(t.Context(), httpclient.Request{Path: "/v1/x", Out: &out})
	if err != nil {
		t.Fatalf("after the connections died: %v, want the second attempt on a new connection to succeed", err)
	}
	if resp.Attempts != 2 || out.ID != "h1" {
		t.Fatalf("attempts %d, body %+v; want 2 attempts and h1", resp.Attempts, out)
	}
}
