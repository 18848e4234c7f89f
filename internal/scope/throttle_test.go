package scope

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"7", 7 * time.Second, true},
		{" 0 ", 0, true},
		{"120", MaxThrottle, true},
		{"99999999999999999999999", MaxThrottle, true},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), MaxThrottle, true},
		{"Sunday, 06-Nov-94 08:49:37 GMT", 0, true}, // RFC 850 date, long past
		{"", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"7s", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"7", "0", "120", "Wed, 21 Oct 2015 07:28:00 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "-3", "", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseRetryAfter(s, now)
		if d < 0 || d > MaxThrottle {
			t.Errorf("ParseRetryAfter(%q) = %v, outside [0, %v]", s, d, MaxThrottle)
		}
		if !ok && d != 0 {
			t.Errorf("ParseRetryAfter(%q) = %v with ok false", s, d)
		}
	})
}

// fakeClock is a budget's clock that only moves when the budget sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// pauses returns the sleeps of at least a second: the back-offs, not the rate's spacing.
func (c *fakeClock) pauses() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, d := range c.sleeps {
		if d >= time.Second {
			out = append(out, d)
		}
	}
	return out
}

func fakeBudget() (*Budget, *fakeClock) {
	clk := &fakeClock{now: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}
	b := NewBudget(6, 1e6)
	b.now, b.sleep = clk.Now, clk.Sleep
	return b, clk
}

// throttler answers the statuses in order (then 200), with Retry-After when given, and
// records the fake time each request arrived at.
type throttler struct {
	clk     *fakeClock
	answers []struct {
		status     int
		retryAfter string
	}
	mu      sync.Mutex
	arrived []time.Time
}

func (s *throttler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	n := len(s.arrived)
	s.arrived = append(s.arrived, s.clk.Now())
	s.mu.Unlock()
	if n < len(s.answers) {
		if a := s.answers[n]; a.retryAfter != "" {
			w.Header().Set("Retry-After", a.retryAfter)
		}
		w.WriteHeader(s.answers[n].status)
		return
	}
	io.WriteString(w, "ok")
}

// serveOn starts h on a loopback address of its own (127.0.0.1, 127.0.0.2…).
func serveOn(t *testing.T, ip string, h http.Handler) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestWebBacksOffOnThrottling: a 429 with Retry-After pauses the next request to the same
// address (even over a kept-alive connection) for the time asked, a 503 without one for an
// exponential back-off, and another address is not slowed down.
func TestWebBacksOffOnThrottling(t *testing.T) {
	b, clk := fakeBudget()
	busy := &throttler{clk: clk}
	busy.answers = append(busy.answers,
		struct {
			status     int
			retryAfter string
		}{http.StatusTooManyRequests, "7"},
		struct {
			status     int
			retryAfter string
		}{http.StatusServiceUnavailable, ""},
		struct {
			status     int
			retryAfter string
		}{http.StatusServiceUnavailable, "soon"},
	)
	calm := &throttler{clk: clk}
	srvBusy := serveOn(t, "127.0.0.1", busy)
	srvCalm := serveOn(t, "127.0.0.2", calm)

	g := New(LoopbackFence(), "", 2*time.Second).WithBudget(b)
	r := inventory.Resource{ID: "cidr:127.0.0.0/8", Scope: inventory.ScopeVerified}
	web, err := g.Web(r, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	client := func(ip string) *http.Client {
		return &http.Client{Transport: web.Transport(ip, netip.MustParseAddr(ip)), Timeout: 5 * time.Second}
	}
	cb, cc := client("127.0.0.1"), client("127.0.0.2")

	if s := get(t, cb, srvBusy.URL+"/a"); s != http.StatusTooManyRequests {
		t.Fatalf("first answer %d, want 429", s)
	}
	// Another address is not slowed down.
	if s := get(t, cc, srvCalm.URL+"/"); s != http.StatusOK {
		t.Fatalf("other address answered %d", s)
	}
	if p := clk.pauses(); len(p) != 0 {
		t.Fatalf("a request to another address paused %v", p)
	}
	// The next two answers are 503 without a usable Retry-After: the back-off doubles with
	// each throttling answer in a row (the 429 was the first): 2 s, then 4 s.
	for range 2 {
		get(t, cb, srvBusy.URL+"/b")
	}
	if s := get(t, cb, srvBusy.URL+"/c"); s != http.StatusOK {
		t.Fatalf("fourth answer %d, want 200", s)
	}
	want := []time.Duration{7 * time.Second, 2 * time.Second, 4 * time.Second}
	if p := clk.pauses(); !equalDurations(p, want) {
		t.Errorf("pauses before the requests to the busy address = %v, want %v", p, want)
	}
	// The second request arrived only once the pause asked for was over.
	busy.mu.Lock()
	arrived := busy.arrived
	busy.mu.Unlock()
	if len(arrived) != 4 || arrived[1].Sub(arrived[0]) < 7*time.Second {
		t.Errorf("requests arrived at %v: the second should come 7 s after the first", arrived)
	}

	ths := web.Throttles()
	if len(ths) != 3 {
		t.Fatalf("recorded throttles = %+v, want 3", ths)
	}
	if th := ths[0]; th.Addr != netip.MustParseAddr("127.0.0.1") || th.Status != 429 || th.RetryAfter != "7" || th.Delay != 7*time.Second || th.URL != srvBusy.URL+"/a" {
		t.Errorf("first throttle = %+v", th)
	}
	if th := ths[2]; th.Status != 503 || th.RetryAfter != "soon" || th.Delay != 4*time.Second {
		t.Errorf("third throttle = %+v", th)
	}
	if n := len(b.Throttles()); n != 3 {
		t.Errorf("budget records %d throttles, want 3", n)
	}
	// A normal answer ends the streak: the next 503 starts over at 1 s.
	if th := b.Throttle(Throttle{Addr: netip.MustParseAddr("127.0.0.1"), Status: 503}); th.Delay != time.Second {
		t.Errorf("back-off after a normal answer = %v, want 1s", th.Delay)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestThrottlePauseIsNotTheRequestsTimeout: a pause longer than the client's time-out does
// not make the request time out; the time-out counts from the end of the pause.
func TestThrottlePauseIsNotTheRequestsTimeout(t *testing.T) {
	var n atomic.Int32
	srv := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, "ok")
	}))
	g := New(LoopbackFence(), "", 2*time.Second).WithBudget(NewBudget(0, 0))
	web, err := g.Web(inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	// The pause (1 s) is longer than the client's whole time-out.
	c := &http.Client{Transport: web.Transport("127.0.0.1", netip.MustParseAddr("127.0.0.1")), Timeout: 300 * time.Millisecond}
	get(t, c, srv.URL)
	if s := get(t, c, srv.URL); s != http.StatusOK {
		t.Errorf("second answer %d, want 200", s)
	}
	if len(web.Throttles()) != 1 {
		t.Errorf("throttles = %+v", web.Throttles())
	}
}

// TestDialWaitIsNotTheCallersTimeout: with a budget of one connection held by another dial,
// a dial whose time-out passes while it waits still connects once the slot is free; it ends
// only when cancelled or when the scan ends.
func TestDialWaitIsNotTheCallersTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	g := New(LoopbackFence(), "", 2*time.Second).WithBudget(NewBudget(1, 1e6))
	r := inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}
	env, err := g.Env(r, Active, check.Env{})
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	held, err := env.Dial(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		c   net.Conn
		err error
	}
	dial := func(ctx context.Context) chan result {
		ch := make(chan result, 1)
		go func() {
			c, err := env.Dial(ctx, "tcp", addr)
			ch <- result{c, err}
		}()
		return ch
	}

	// The caller's time-out passes while the only slot is held.
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	got := dial(short)
	<-short.Done()
	held.Close()
	res := <-got
	if res.err != nil {
		t.Fatalf("dial after waiting for the budget past its time-out = %v, want a connection", res.err)
	}

	// Cancelling still ends the wait, and so does the end of the scan.
	cctx, ccancel := context.WithCancel(t.Context())
	got = dial(cctx)
	ccancel()
	if res := <-got; !errors.Is(res.err, context.Canceled) {
		t.Errorf("cancelled dial = %v, want context.Canceled", res.err)
	}
	scan, endScan := context.WithCancel(t.Context())
	op, opCancel := context.WithTimeout(WithScan(scan), time.Hour)
	defer opCancel()
	got = dial(op)
	endScan()
	if res := <-got; res.err == nil {
		t.Error("dial went on after the scan ended")
	}
	res.c.Close()
}

// TestWebGivesIdleSlotsBack: a kept-alive connection idle in a shared transport does not
// keep another family's connection to the address waiting.
func TestWebGivesIdleSlotsBack(t *testing.T) {
	srv := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	g := New(LoopbackFence(), "", time.Hour).WithBudget(NewBudget(1, 1e6))
	r := inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}
	web, err := g.Web(r, time.Hour) // idle connections would otherwise stay an hour
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	c := &http.Client{Transport: web.Transport("127.0.0.1", netip.MustParseAddr("127.0.0.1"))}
	get(t, c, srv.URL) // leaves one idle connection holding the only slot
	env, err := g.Env(r, Passive, check.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stop := time.AfterFunc(30*time.Second, cancel) // a hung test fails instead of hanging
	defer stop.Stop()
	conn, err := env.Dial(ctx, "tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("dial while an idle keep-alive connection holds the slot = %v", err)
	}
	conn.Close()
	// And the web transport reconnects when asked again.
	if s := get(t, c, srv.URL+"/"+strconv.Itoa(2)); s != http.StatusOK {
		t.Errorf("answer %d", s)
	}
}

// TestRefusedAttemptKeepsItsToken: a connection refused by a closed port opened nothing, so
// it does not spend the address's rate; a connection that opened does.
func TestRefusedAttemptKeepsItsToken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().String()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	defer ln.Close()

	clk := &fakeClock{now: time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)}
	b := NewBudget(6, 10) // a burst of one token, one more every 100 ms
	b.now, b.sleep = clk.Now, clk.Sleep
	g := New(LoopbackFence(), "", 2*time.Second).WithBudget(b)
	env, err := g.Env(inventory.Resource{ID: "ip:127.0.0.1", Scope: inventory.ScopeVerified}, Active, check.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := env.Dial(t.Context(), "tcp", closedAddr); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial a closed port = %v", err)
		}
	}
	if len(clk.sleeps) != 0 {
		t.Errorf("refused attempts waited %v for the rate", clk.sleeps)
	}
	for range 2 {
		c, err := env.Dial(t.Context(), "tcp", open)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if len(clk.sleeps) != 1 || clk.sleeps[0] != 100*time.Millisecond {
		t.Errorf("second real connection waited %v, want one token's 100ms", clk.sleeps)
	}
	if n := b.Opened(); n != 5 {
		t.Errorf("Opened = %d, want 5 attempts let through", n)
	}
}
