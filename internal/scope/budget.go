package scope

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Budget is the politeness limit per target address, shared by every family and every
// resource of a scan: at most Conns connections open at once and Rate new connections per
// second to one IP. Speed comes from working on many hosts at once, never from hammering one.
// After a connection is refused or reset the address's rate is halved for a while (back-off),
// and it recovers gradually.
type Budget struct {
	Conns int     // concurrent connections per IP (default 6, as a browser opens)
	Rate  float64 // new connections per second per IP (default 50; down to 1 for fragile hosts)

	mu     sync.Mutex
	hosts  map[netip.Addr]*hostBudget
	now    func() time.Time
	shared Limiter // nil: this process is the only one scanning
}

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
	penalty float64 // rate multiplier in (0,1]; 1 is no penalty
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
	return &Budget{Conns: conns, Rate: rate, hosts: map[netip.Addr]*hostBudget{}, now: time.Now}
}

func (b *Budget) host(a netip.Addr) *hostBudget {
	b.mu.Lock()
	defer b.mu.Unlock()
	h := b.hosts[a]
	if h == nil {
		h = &hostBudget{slots: make(chan struct{}, b.Conns), tokens: 1, last: b.now(), penalty: 1}
		b.hosts[a] = h
	}
	return h
}

// acquire waits for a connection slot and a rate token for a, and returns the function that
// gives the slot back.
func (b *Budget) acquire(ctx context.Context, a netip.Addr) (func(), error) {
	h := b.host(a)
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	release := sync.OnceFunc(func() { <-h.slots })
	for {
		wait := b.take(h)
		if wait == 0 {
			if b.shared != nil {
				if err := b.shared.Wait(ctx, a); err != nil {
					release()
					return nil, err
				}
			}
			return release, nil
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			release()
			return nil, ctx.Err()
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
