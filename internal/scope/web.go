package scope

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/khien-vn/khien/internal/check/webclient"
	"github.com/khien-vn/khien/internal/inventory"
)

// Web is the HTTP side of one resource's scan. The web families (http, exposure, data, vuln) ask it
// for transports (it implements webclient.Transports), so that their requests to one address
// reuse a few keep-alive connections instead of each family opening its own: every new
// connection spends the address's politeness budget, and a scan of one host is bounded by that
// budget, not by Khiên. Each family keeps its own http.Client, so redirects, cookies and
// time-outs stay the family's own; only connections are shared.
//
// It also honours a server that says it is overloaded: after a 429 or 503 answer nothing more
// goes to that address until the pause it asked for (Budget.Throttle), and the pause is
// recorded for the scan's evidence (Throttles). Neither the pause nor the wait for the budget
// counts against a request's time-out.
//
// A Web is safe for concurrent use. Close it when the resource's families are done.
type Web struct {
	dial    webclient.DialFunc
	timeout time.Duration
	pacer   *Budget // the guard's budget, or one of its own that only keeps pauses

	budget *Budget // nil: no slots to take

	mu        sync.Mutex
	trs       map[webKey]*webTransport
	throttles []Throttle
}

type webKey struct {
	host string
	addr netip.Addr
}

// Web returns the shared web transports for one scan of r. timeout bounds TLS handshakes and
// the wait for response headers (zero: the guard's).
func (g *Guard) Web(r inventory.Resource, timeout time.Duration) (*Web, error) {
	within, err := resourceNets(r)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = g.timeout
	}
	w := &Web{timeout: timeout, pacer: g.budget, budget: g.budget, trs: map[webKey]*webTransport{}}
	if w.pacer == nil {
		// No budget (tests, ownership proofs): still pause when a server asks.
		w.pacer = NewBudget(1, 1e9)
	}
	w.dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		// The connection holds no slot of the address's budget: its requests do, so that a
		// kept-alive connection left idle keeps no other family waiting.
		return g.dial(ctx, network, address, within, g.budget, false)
	}
	return w, nil
}

// Transport returns the transport shared by every family for connections to host at addr.
func (w *Web) Transport(host string, addr netip.Addr) http.RoundTripper {
	k := webKey{strings.ToLower(host), addr}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.trs[k]
	if t == nil {
		t = &webTransport{w: w, host: k.host, addr: addr, tr: webclient.New(w.dial, host, addr, w.timeout), learned: map[string]netip.Addr{}}
		w.trs[k] = t
	}
	return t
}

func (w *Web) closeIdle() {
	w.mu.Lock()
	trs := make([]*webTransport, 0, len(w.trs))
	for _, t := range w.trs {
		trs = append(trs, t)
	}
	w.mu.Unlock()
	for _, t := range trs {
		t.tr.CloseIdleConnections()
	}
}

// Close closes the idle connections.
func (w *Web) Close() { w.closeIdle() }

// Throttles returns the pauses servers asked for during this resource's scan.
func (w *Web) Throttles() []Throttle {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Throttle(nil), w.throttles...)
}

// webTransport is one shared transport, wrapped to honour pauses and keep request clocks
// fair.
type webTransport struct {
	w    *Web
	host string
	addr netip.Addr
	tr   *http.Transport

	mu      sync.Mutex
	learned map[string]netip.Addr // "host:port" of a request → the address it was answered from
}

// target is the address a request to u will go to, when known before it is sent.
func (t *webTransport) target(u *urlHost) netip.Addr {
	if t.addr.IsValid() && strings.EqualFold(u.name, t.host) {
		return t.addr
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.learned[u.hostPort]
}

type urlHost struct{ name, hostPort string }

// RoundTrip waits out any pause of the target address, sends req, and turns a throttling
// answer into a pause. The request's deadline is pushed back by every politeness wait.
func (t *webTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	u := &urlHost{name: req.URL.Hostname(), hostPort: req.URL.Host}
	ctx := req.Context()
	release := func() {}
	if dl, ok := ctx.Deadline(); ok {
		var clk *opClock
		clk, release = newOpClock(ctx, dl)
		ctx = clk
	}
	if a := t.target(u); a.IsValid() {
		// Wait out a pause the server asked for, then take one of the address's slots for
		// as long as the request is in flight (until its body is closed).
		wctx, stop := politeContext(ctx)
		resume := holdClock(ctx)
		err := t.w.pacer.waitThrottle(wctx, a)
		if err == nil && t.w.budget != nil {
			var free func()
			if free, err = t.w.budget.acquireSlot(wctx, a); err == nil {
				clock := release
				release = sync.OnceFunc(func() { free(); clock() })
			}
		}
		resume()
		stop()
		if err != nil {
			release()
			return nil, err
		}
	}
	var (
		mu     sync.Mutex
		remote netip.Addr
	)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if ap, err := netip.ParseAddrPort(info.Conn.RemoteAddr().String()); err == nil {
			mu.Lock()
			remote = ap.Addr().Unmap()
			mu.Unlock()
		}
	}})
	out := req.WithContext(ctx)
	out.Cancel = nil //nolint:staticcheck // the client's own cancel channel would stop the clock's extension
	resp, err := t.tr.RoundTrip(out)
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &clockBody{ReadCloser: resp.Body, release: release}
	mu.Lock()
	a := remote
	mu.Unlock()
	if !a.IsValid() {
		a = t.target(u)
	}
	if !a.IsValid() {
		return resp, nil
	}
	t.mu.Lock()
	t.learned[u.hostPort] = a
	t.mu.Unlock()
	if !throttling(resp.StatusCode) {
		t.w.pacer.relax(a)
		return resp, nil
	}
	ra := resp.Header.Get("Retry-After")
	d, _ := ParseRetryAfter(ra, t.w.pacer.now())
	th := t.w.pacer.Throttle(Throttle{Addr: a, Status: resp.StatusCode, URL: req.URL.String(), RetryAfter: ra, Delay: d})
	t.w.mu.Lock()
	if len(t.w.throttles) < maxThrottleRecords {
		t.w.throttles = append(t.w.throttles, th)
	}
	t.w.mu.Unlock()
	return resp, nil
}

// clockBody releases the request's clock and slot when the body is closed or read to its end.
type clockBody struct {
	io.ReadCloser
	release func()
}

func (b *clockBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.release()
	}
	return n, err
}

func (b *clockBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}
