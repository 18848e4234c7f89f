// Package scope is the single guard every engine goes through before it sends a packet.
//
// Two questions are asked, in this order:
//  1. Authority: may Khiên look at this resource at all, and this intrusively? Only resources
//     an administrator assigned (with a reason) or whose ownership was proven may be scanned;
//     active probes (zone transfers, service handshakes, path probing) need proven ownership.
//  2. Reach: is the address about to be dialled inside the resource itself (for ip: and cidr:
//     resources) and inside the safety fence of this installation? The fence is the set of
//     networks packets may go to at all; the lab, the tests and the demo set it to loopback.
//
// Names are resolved through the one configured resolver, never the system's, and the
// dialer is only ever handed IP addresses that passed both checks.
package scope

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/resolve"
)

// Level is how intrusive a probe is.
type Level int

// Intrusiveness levels.
const (
	// Passive is what any visitor does: fetch a page, complete a TLS handshake, ask DNS.
	Passive Level = iota
	// Active sends what an ordinary client would not: AXFR, service handshakes, path probing.
	Active
)

func (l Level) String() string {
	if l == Active {
		return "active"
	}
	return "passive"
}

// vi names the level in Vietnamese, for reasons people read.
func (l Level) vi() string {
	if l == Active {
		return "chủ động (chuyển vùng DNS, bắt tay dịch vụ, dò đường dẫn)"
	}
	return "thụ động"
}

// Fence is the set of networks packets may be sent to at all. An empty fence allows any
// public address but never loopback-adjacent specials (unspecified, multicast, link-local).
type Fence []netip.Prefix

// LoopbackFence is the fence of the lab, the tests and the demo.
func LoopbackFence() Fence {
	return Fence{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// ParseFence reads a comma-separated list of CIDR prefixes; "loopback" stands for
// 127.0.0.0/8 and ::1/128, and the empty string for no fence.
func ParseFence(s string) (Fence, error) {
	var f Fence
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		switch part {
		case "":
			continue
		case "loopback":
			f = append(f, LoopbackFence()...)
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, errs.Field("fence", "%q is not a CIDR prefix (like 127.0.0.0/8) or \"loopback\"", part)
		}
		f = append(f, p.Masked())
	}
	return f, nil
}

// Allows reports whether a packet may be sent to a.
func (f Fence) Allows(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || a.IsMulticast() || a.IsLinkLocalUnicast() || a.IsInterfaceLocalMulticast() {
		return false
	}
	if len(f) == 0 {
		return true
	}
	for _, p := range f {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (f Fence) String() string {
	if len(f) == 0 {
		return "any"
	}
	s := make([]string, len(f))
	for i, p := range f {
		s[i] = p.String()
	}
	return strings.Join(s, ",")
}

// Guard decides authority and reach. It is safe for concurrent use.
type Guard struct {
	fence    Fence
	resolver *resolve.Resolver
	timeout  time.Duration
	budget   *Budget // nil: no per-address limit (ownership proofs, tests)
}

// WithBudget makes every target connection of g wait for b's per-address limits.
func (g *Guard) WithBudget(b *Budget) *Guard {
	g.budget = b
	return g
}

// New returns a guard that keeps to fence and resolves names with a resolver at server
// ("host:port"; empty means no resolver: names cannot be dialled). timeout bounds each dial
// and each query.
func New(fence Fence, server string, timeout time.Duration) *Guard {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	g := &Guard{fence: fence, timeout: timeout}
	if server != "" {
		g.resolver = &resolve.Resolver{Server: server, Timeout: timeout, Dial: g.DialFenced}
	}
	return g
}

// Fence returns the guard's fence.
func (g *Guard) Fence() Fence { return g.fence }

// Resolver returns the fenced resolver (nil when none is configured).
func (g *Guard) Resolver() *resolve.Resolver { return g.resolver }

// Authorize says whether r may be scanned at level, as an errs.OutOfScope error naming why.
func (g *Guard) Authorize(r inventory.Resource, level Level) error {
	switch {
	case r.Scope == inventory.ScopeVerified:
		return nil
	case r.Scope == inventory.ScopeAssigned && level == Passive:
		return nil
	case r.Scope == inventory.ScopeAssigned:
		return refusal{errs.E(errs.OutOfScope, "%s is assigned but not verified: %s probes need proven ownership (a DNS TXT record, the HTTP token, or for a database its comment or table)", r.ID, level),
			fmt.Sprintf("%s mới được giao, chưa xác minh quyền sở hữu: kiểm tra %s cần chứng minh quyền sở hữu trước (bản ghi DNS TXT, tệp HTTP, hoặc chú thích/bảng trong cơ sở dữ liệu)", r.ID, level.vi())}
	default:
		return refusal{errs.E(errs.OutOfScope, "%s is %s: verify its ownership or have an administrator assign it before it is scanned", r.ID, scopeName(r.Scope)),
			fmt.Sprintf("%s chưa thuộc phạm vi được phép quét (chưa xác minh quyền sở hữu, chưa được giao): hãy xác minh quyền sở hữu hoặc đề nghị quản trị viên giao tài nguyên này trước khi quét", r.ID)}
	}
}

// refusal is the guard's refusal to scan a resource: an errs.OutOfScope error that can also
// say itself in Vietnamese, for the reasons of the results it leaves unassessed.
type refusal struct {
	err *errs.Error
	vi  string
}

func (r refusal) Error() string { return r.err.Error() }
func (r refusal) Unwrap() error { return r.err }
func (r refusal) Describe() check.Text {
	return check.Text{VI: r.vi, EN: r.err.Msg}
}

func scopeName(s inventory.ScopeStatus) string {
	if s == "" {
		return string(inventory.ScopeUnverified)
	}
	return string(s)
}

// Env authorizes r at level and returns base with its Dial and Resolver replaced by guarded
// ones. Every family gets its environment here; there is no other way to the network.
func (g *Guard) Env(r inventory.Resource, level Level, base check.Env) (check.Env, error) {
	if err := g.Authorize(r, level); err != nil {
		return check.Env{}, err
	}
	within, err := resourceNets(r)
	if err != nil {
		return check.Env{}, err
	}
	env := base
	if env.Timeout == 0 {
		env.Timeout = g.timeout
	}
	env.Dial = func(ctx context.Context, network, address string) (net.Conn, error) {
		return g.dial(ctx, network, address, within, g.budget, true)
	}
	if g.resolver != nil {
		env.Resolver = g.resolver
	} else {
		env.Resolver = nil
	}
	return env, nil
}

// resourceNets returns the networks an ip: or cidr: resource confines its scan to; nil means
// the resource is a name whose own addresses (and its MX and NS hosts) may be reached.
func resourceNets(r inventory.Resource) ([]netip.Prefix, error) {
	switch r.Kind() {
	case inventory.KindIP:
		a, err := netip.ParseAddr(r.Value())
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "resource %s has a bad address", r.ID)
		}
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
	case inventory.KindCIDR:
		p, err := netip.ParsePrefix(r.Value())
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, err, "resource %s has a bad prefix", r.ID)
		}
		return []netip.Prefix{p}, nil
	}
	return nil, nil
}

// ErrFenced is returned, wrapped, when an address lies outside the safety fence or the resource.
var ErrFenced error = fenced{}

// fenced is ErrFenced: it says itself in both languages (check.Describer) for the reasons of
// results whose target resolved outside the authorized scope.
type fenced struct{}

func (fenced) Error() string { return "address outside the authorized scope" }
func (fenced) Describe() check.Text {
	return check.Text{VI: "địa chỉ của máy đích nằm ngoài phạm vi được phép quét; Khiên không gửi gói tin nào tới đó",
		EN: "the target's address lies outside the authorized scope; Khiên sent it nothing"}
}

// DialFenced dials address after checking it against the fence only; it is for Khiên's own
// infrastructure (the resolver, ownership proofs), not for targets.
func (g *Guard) DialFenced(ctx context.Context, network, address string) (net.Conn, error) {
	return g.dial(ctx, network, address, nil, nil, true)
}

// dial resolves address's host through the configured resolver (never the system's), keeps
// the addresses inside the fence and within, and tries them in order. slot says whether the
// connection holds one of its address's budget slots while open; the shared web transports'
// connections do not, their requests do (see Web).
func (g *Guard) dial(ctx context.Context, network, address string, within []netip.Prefix, budget *Budget, slot bool) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		if g.resolver == nil {
			return nil, fmt.Errorf("dial %s: cannot resolve %q: %w", address, host, resolve.ErrNoServer)
		}
		ips, err := g.resolver.Addrs(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", address, err)
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				addrs = append(addrs, a.Unmap())
			}
		}
	}
	var refused []string
	d := net.Dialer{Timeout: g.timeout}
	var lastErr error
	for _, a := range addrs {
		if !g.fence.Allows(a) || !inAny(a, within) {
			refused = append(refused, a.String())
			continue
		}
		conn, err := g.dialOne(ctx, &d, network, a, port, budget, slot)
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("dial %s: %w: refused %s (fence %s)", address, ErrFenced, strings.Join(refused, ", "), g.fence)
}

// dialOne dials one vetted address, within budget when there is one.
func (g *Guard) dialOne(ctx context.Context, d *net.Dialer, network string, a netip.Addr, port string, budget *Budget, slot bool) (net.Conn, error) {
	if budget == nil || strings.HasPrefix(network, "udp") {
		return d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
	}
	// Waiting for the budget is not the target's fault: the wait does not count against the
	// caller's deadline, and the connect time-out starts once a slot and a token are there.
	start := time.Now()
	wctx, stop := politeContext(ctx)
	resume := holdClock(ctx)
	release, err := func() {}, error(nil)
	if slot {
		release, err = budget.acquire(wctx, a)
	} else {
		err = budget.acquireToken(wctx, a)
	}
	resume()
	stop()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) { // maxPoliteWait, not the caller's time-out
			err = fmt.Errorf("waited %s for the politeness budget of %s: %w", time.Since(start).Round(time.Millisecond), a, err)
		}
		return nil, err
	}
	ctx, cancel := shift(ctx, time.Since(start))
	defer cancel()
	conn, err := d.DialContext(ctx, network, net.JoinHostPort(a.String(), port))
	if err != nil {
		release()
		switch {
		case errors.Is(err, syscall.ECONNRESET):
			budget.penalize(a)
		case errors.Is(err, syscall.ECONNREFUSED):
			// Nothing listens: the host's kernel answered the SYN with a reset and no
			// service saw it. That opened no connection, so it does not spend the rate
			// (a closed port probed by the exposure family costs the host nothing more).
			budget.refund(a)
		}
		return nil, err
	}
	return &budgetConn{Conn: conn, release: release}, nil
}

func inAny(a netip.Addr, within []netip.Prefix) bool {
	if within == nil {
		return true
	}
	for _, p := range within {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
