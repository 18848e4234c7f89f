package scope

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Budget is the politeness limit per target address, shared by every family and every
// resource of a scan: at most Conns connections open at once and Rate new connections per
// second to one IP. Speed comes from working on many hosts at once, never from hammering one.
// After a connection is reset the address's rate is halved for a while (back-off), and it
// recovers gradually; an attempt refused (nothing listens on the port) gives its token back,
// since it opened no connection. When a web server answers 429 Too Many Requests or 503 Service
// Unavailable, nothing more goes to its address until the pause it asked for (Retry-After,
// capped at MaxThrottle) or, without one, an exponential back-off has passed (see Throttle).
type Budget struct {
	Conns int     // concurrent connections per IP (default 6, as a browser opens)
	Rate  float64 // new connections per second per IP (default 50; down to 1 for fragile hosts)
	// Log records each back-off, so a person reading the scan's log sees Khiên slowed down
	// and why; nil means slog.Default().
	Log *slog.Logger

	mu        sync.Mutex
	hosts     map[netip.Addr]*hostBudget
	throttles []Throttle // the back-offs taken, oldest first, at most maxThrottleRecords
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error // tests replace it with a fake clock
	shared    Limiter                                          // nil: this process is the only one scanning
	opened    atomic.Int64                                     // connections let through, for reports and benchmarks
}

// Opened returns how many connection attempts the budget has let through so far (refused
// ones included).
func (b *Budget) Opened() int64 { return b.opened.Load() }

// Limiter spaces out new connections to one address among several processes, so that a
// per-address rate holds however many workers there are (queue/jetstream keeps one in NATS).
// Implementations are safe for concurrent use.
type Limiter interface {
	// Wait blocks until a new connection to a may be opened, or returns an error (ctx ended,
	// or the shared state cannot be reached); the connection is then not opened.
	Wait(ctx context.Context, a netip.Addr) error
}

// Shared makes every new connection wait for l as well as for b's own limits: b still bounds
// this process's connections and backs off from a host that resets them; l keeps the rate
// across processes.
func (b *Budget) Shared(l Limiter) *Budget {
	b.shared = l
	return b
}

type hostBudget struct {
	slots   chan struct{}
	tokens  float64
	last    time.Time
	penalty float64   // rate multiplier in (0,1]; 1 is no penalty
	until   time.Time // no new connection or request before this: the server asked for a pause
	streak  int       // throttling answers in a row, for the exponential back-off
}

// NewBudget returns a budget with conns concurrent connections and rate new connections per
// second per address; zero values take the defaults.
func NewBudget(conns int, rate float64) *Budget {
	if conns <= 0 {
		conns = 6
	}
	if rate <= 0 {
		rate = 50
	}
	return &Budget{Conns: conns, Rate: rate, hosts: map[netip.Addr]*hostBudget{}, now: time.Now, sleep: sleepCtx}
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Budget) host(a netip.Addr) *hostBudget {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.hosts[a]
	if h == nil {
		// The bucket starts full: a burst (a tenth of a second's worth) may go at once, as it
		// may after any quiet tenth of a second.
		h = &hostBudget{slots: make(chan struct{}, b.Conns), tokens: max(1, b.Rate/10), last: b.now(), penalty: 1}
		b.hosts[a] = h
	}
	return h
}

// acquire waits for a connection slot and a rate token for a, and returns the function that
// gives the slot back.
func (b *Budget) acquire(ctx context.Context, a netip.Addr) (func(), error) {
	release, err := b.acquireSlot(ctx, a)
	if err != nil {
		return nil, err
	}
	if err := b.acquireToken(ctx, a); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// acquireSlot waits for one of a's slots: a connection at once, or, for the scan's shared web
// transports (Web), a request in flight, so that an idle keep-alive connection holds none.
func (b *Budget) acquireSlot(ctx context.Context, a netip.Addr) (func(), error) {
	h := b.host(a)
	select {
	case h.slots <- struct{}{}:
		return sync.OnceFunc(func() { <-h.slots }), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// acquireToken waits out a's pause, if a server asked for one, then for a rate token.
func (b *Budget) acquireToken(ctx context.Context, a netip.Addr) error {
	h := b.host(a)
	if err := b.waitThrottle(ctx, a); err != nil {
		return err
	}
	for {
		wait := b.take(h)
		if wait == 0 {
			if b.shared != nil {
				if err := b.shared.Wait(ctx, a); err != nil {
					return err
				}
			}
			b.opened.Add(1)
			return nil
		}
		if err := b.pause(ctx, wait); err != nil {
			return err
		}
	}
}

// take consumes a token if one is there, or says how long until one is.
func (b *Budget) take(h *hostBudget) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	elapsed := now.Sub(h.last).Seconds()
	h.last = now
	// Recover from a penalty gradually: double the rate every second of good behaviour.
	if h.penalty < 1 {
		h.penalty = min(1, h.penalty*(1+elapsed))
	}
	rate := b.Rate * h.penalty
	h.tokens += elapsed * rate
	burst := max(1, rate/10) // at most a tenth of a second's worth at once
	if h.tokens > burst {
		h.tokens = burst
	}
	if h.tokens >= 1 {
		h.tokens--
		return 0
	}
	return time.Duration((1 - h.tokens) / rate * float64(time.Second))
}

// refund gives back the rate token of a connection attempt that opened no connection.
func (b *Budget) refund(a netip.Addr) {
	h := b.host(a)
	b.mu.Lock()
	defer b.mu.Unlock()
	burst := max(1, b.Rate*h.penalty/10)
	h.tokens = min(h.tokens+1, burst)
}

// penalize halves a's rate, down to one connection every ten seconds.
func (b *Budget) penalize(a netip.Addr) {
	h := b.host(a)
	b.mu.Lock()
	defer b.mu.Unlock()
	h.penalty = max(h.penalty/2, 0.1/b.Rate)
}

// budgetConn gives its slot back when closed.
type budgetConn struct {
	net.Conn
	release func()
}

func (c *budgetConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}
