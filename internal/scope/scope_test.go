package scope

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/errs"
	"github.com/khien-vn/khien/internal/inventory"
)

// testDNS is a small authoritative server on loopback: names map to A and TXT records.
type testDNS struct {
	mu  sync.Mutex
	a   map[string][]string
	txt map[string][]string
}

func startDNS(t *testing.T) (*testDNS, string) {
	t.Helper()
	z := &testDNS{a: map[string][]string{}, txt: map[string][]string{}}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		z.mu.Lock()
		defer z.mu.Unlock()
		name := strings.ToLower(q.Question[0].Name)
		found := false
		for _, ip := range z.a[name] {
			found = true
			if q.Question[0].Qtype == dns.TypeA {
				rr, _ := dns.NewRR(fmt.Sprintf("%s 60 IN A %s", name, ip))
				m.Answer = append(m.Answer, rr)
			}
		}
		for _, s := range z.txt[name] {
			found = true
			if q.Question[0].Qtype == dns.TypeTXT {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{s}})
			}
		}
		if !found {
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return z, pc.LocalAddr().String()
}

func (z *testDNS) setA(name string, ips ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.a[dns.Fqdn(name)] = ips
}

func (z *testDNS) setTXT(name string, txt ...string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.txt[dns.Fqdn(name)] = txt
}

func res(id string, scope inventory.ScopeStatus) inventory.Resource {
	return inventory.Resource{ID: id, System: "s1", Scope: scope}
}

func TestAuthorize(t *testing.T) {
	g := New(LoopbackFence(), "", time.Second)
	tests := []struct {
		scope   inventory.ScopeStatus
		level   Level
		allowed bool
		msg     string
		vi      string // how the refusal begins in Vietnamese (check.DescribeError)
	}{
		{inventory.ScopeVerified, Active, true, "", ""},
		{inventory.ScopeVerified, Passive, true, "", ""},
		{inventory.ScopeAssigned, Passive, true, "", ""},
		{inventory.ScopeAssigned, Active, false, "dns:a.test is assigned but not verified: active probes need proven ownership (a DNS TXT record, the HTTP token, or for a database its comment or table)",
			"dns:a.test mới được giao, chưa xác minh quyền sở hữu: kiểm tra chủ động (chuyển vùng DNS, bắt tay dịch vụ, dò đường dẫn) cần chứng minh quyền sở hữu trước"},
		{inventory.ScopeUnverified, Passive, false, "dns:a.test is unverified: verify its ownership or have an administrator assign it before it is scanned",
			"dns:a.test chưa thuộc phạm vi được phép quét (chưa xác minh quyền sở hữu, chưa được giao): hãy xác minh quyền sở hữu"},
		{"", Passive, false, "dns:a.test is unverified: verify its ownership or have an administrator assign it before it is scanned",
			"dns:a.test chưa thuộc phạm vi được phép quét"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s", tt.scope, tt.level), func(t *testing.T) {
			err := g.Authorize(res("dns:a.test", tt.scope), tt.level)
			if tt.allowed {
				if err != nil {
					t.Fatalf("Authorize = %v, want nil", err)
				}
				return
			}
			if !errs.Is(err, errs.OutOfScope) {
				t.Fatalf("Authorize = %v, want an out_of_scope error", err)
			}
			if msg, _ := errs.Message(err); msg != tt.msg {
				t.Errorf("message = %q\nwant      %q", msg, tt.msg)
			}
			if why := check.DescribeError(err); !strings.HasPrefix(why.VI, tt.vi) || !strings.HasPrefix(why.EN, tt.msg) {
				t.Errorf("described as %+v; want Vietnamese beginning %q and the English message", why, tt.vi)
			}
			if _, err := g.Env(res("dns:a.test", tt.scope), tt.level, check.Env{}); !errs.Is(err, errs.OutOfScope) {
				t.Errorf("Env = %v, want the same refusal", err)
			}
		})
	}
}

func TestFence(t *testing.T) {
	f, err := ParseFence("loopback, 198.51.100.0/24")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"127.9.8.7", true}, {"::1", true}, {"::ffff:127.0.0.1", true},
		{"198.51.100.77", true}, {"198.51.101.1", false}, {"10.0.0.1", false}, {"192.168.1.1", false},
		{"8.8.8.8", false}, {"0.0.0.0", false}, {"::", false}, {"fe80::1", false}, {"224.0.0.1", false},
	}
	for _, tt := range tests {
		if got := f.Allows(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Allows(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
	if _, err := ParseFence("10.0.0.0/33"); err == nil || !strings.Contains(err.Error(), `"10.0.0.0/33" is not a CIDR prefix`) {
		t.Errorf("ParseFence(bad) = %v", err)
	}
	var open Fence
	if !open.Allows(netip.MustParseAddr("203.0.113.9")) || open.Allows(netip.MustParseAddr("0.0.0.0")) {
		t.Error("an empty fence must allow unicast and refuse the unspecified address")
	}
}

// TestDialStaysInScope proves the guarded dialer refuses, before any packet, every address
// outside the fence or the resource, including names that resolve outside it.
func TestDialStaysInScope(t *testing.T) {
	z, dnsAddr := startDNS(t)
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
			c.Close()
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	z.setA("inside.lab.test", "127.0.0.1")
	z.setA("outside.lab.test", "192.0.2.10") // TEST-NET-1: must never be dialled
	z.setA("mixed.lab.test", "192.0.2.11", "127.0.0.1")

	g := New(LoopbackFence(), dnsAddr, time.Second)
	tests := []struct {
		name     string
		resource inventory.Resource
		addr     string
		ok       bool
	}{
		{"loopback ip resource", res("ip:127.0.0.1", inventory.ScopeVerified), "127.0.0.1:" + port, true},
		{"name resolving to loopback", res("dns:inside.lab.test", inventory.ScopeAssigned), "inside.lab.test:" + port, true},
		{"name with one address outside", res("dns:mixed.lab.test", inventory.ScopeAssigned), "mixed.lab.test:" + port, true},
		{"name resolving outside the fence", res("dns:outside.lab.test", inventory.ScopeVerified), "outside.lab.test:" + port, false},
		{"literal address outside the fence", res("dns:inside.lab.test", inventory.ScopeVerified), "192.0.2.10:" + port, false},
		{"private address outside the fence", res("dns:inside.lab.test", inventory.ScopeVerified), "10.1.2.3:" + port, false},
		{"address outside an ip resource", res("ip:127.0.0.2", inventory.ScopeVerified), "127.0.0.1:" + port, false},
		{"address inside a cidr resource", res("cidr:127.0.0.0/30", inventory.ScopeVerified), "127.0.0.1:" + port, true},
		{"address outside a cidr resource", res("cidr:127.0.0.4/30", inventory.ScopeVerified), "127.0.0.1:" + port, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, err := g.Env(tt.resource, Passive, check.Env{})
			if err != nil {
				t.Fatal(err)
			}
			conn, err := env.Dial(t.Context(), "tcp", tt.addr)
			if tt.ok {
				if err != nil {
					t.Fatalf("Dial(%s) = %v, want a connection", tt.addr, err)
				}
				conn.Close()
				return
			}
			if err == nil {
				conn.Close()
				t.Fatalf("Dial(%s) connected, want refusal", tt.addr)
			}
			if !errors.Is(err, ErrFenced) {
				t.Errorf("Dial(%s) = %v, want ErrFenced", tt.addr, err)
			}
			if why := check.DescribeError(err); !strings.Contains(why.VI, "ngoài phạm vi được phép quét") {
				t.Errorf("Dial(%s) refusal described as %+v", tt.addr, why)
			}
		})
	}
	// Without a resolver, names cannot be dialled at all (the system resolver is never used).
	env, err := New(LoopbackFence(), "", time.Second).Env(res("dns:inside.lab.test", inventory.ScopeVerified), Passive, check.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.Dial(t.Context(), "tcp", "inside.lab.test:"+port); err == nil || !strings.Contains(err.Error(), "no DNS resolver configured") {
		t.Errorf("Dial without resolver = %v", err)
	}
}

func TestResolverOutsideFenceRefused(t *testing.T) {
	g := New(LoopbackFence(), "192.0.2.53:53", time.Second)
	_, err := g.Resolver().TXT(context.Background(), "x.test")
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("resolver outside the fence: %v, want ErrFenced", err)
	}
}

type memStore struct {
	inventory.Store
	mu sync.Mutex
	r  map[string]inventory.Resource
}

func (m *memStore) Resource(_ context.Context, id string) (inventory.Resource, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.r[id]
	if !ok {
		return r, errs.E(errs.NotFound, "resource %q not found", id)
	}
	return r, nil
}

func (m *memStore) UpdateResource(_ context.Context, r inventory.Resource) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.r[r.ID] = r
	return nil
}

func TestProveOwnership(t *testing.T) {
	z, dnsAddr := startDNS(t)
	var served sync.Map // host → token body
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != inventory.ChallengePath {
			http.NotFound(w, r)
			return
		}
		if tok, ok := served.Load(r.Host); ok {
			fmt.Fprintln(w, tok)
			return
		}
		http.NotFound(w, r)
	}))
	defer web.Close()
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	z.setA("web.lab.test", "127.0.0.1")

	store := &memStore{r: map[string]inventory.Resource{
		"dns:dns.lab.test":                      res("dns:dns.lab.test", inventory.ScopeUnverified),
		"url:http://web.lab.test:" + port + "/": res("url:http://web.lab.test:"+port+"/", inventory.ScopeUnverified),
		"dns:nobody.lab.test":                   res("dns:nobody.lab.test", inventory.ScopeUnverified),
	}}
	now := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	svc := inventory.NewService(store, func() time.Time { return now })
	p := &Prover{Guard: New(LoopbackFence(), dnsAddr, 2*time.Second), UserAgent: "khien-test"}
	ctx := t.Context()

	// DNS TXT proof.
	c, err := svc.IssueChallenge(ctx, "dns:dns.lab.test")
	if err != nil {
		t.Fatal(err)
	}
	if c.DNSName != "_khien-challenge.dns.lab.test" || !strings.HasPrefix(c.DNSValue, "khien-verification=") {
		t.Fatalf("challenge = %+v", c)
	}
	if _, err := svc.Verify(ctx, "dns:dns.lab.test", p); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "DNS TXT _khien-challenge.dns.lab.test: ") {
		t.Fatalf("Verify before publishing = %v, want not proven naming the lookup", err)
	}
	z.setTXT(c.DNSName, "v=spf1 -all", c.DNSValue)
	r, err := svc.Verify(ctx, "dns:dns.lab.test", p)
	if err != nil {
		t.Fatalf("Verify after publishing: %v", err)
	}
	if r.Scope != inventory.ScopeVerified || r.ScopeReason != "dns-txt _khien-challenge.dns.lab.test" || !r.VerifiedAt.Equal(now) {
		t.Errorf("verified resource = %+v", r)
	}

	// HTTP well-known proof; a wrong token does not count.
	id := "url:http://web.lab.test:" + port + "/"
	c, err = svc.IssueChallenge(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	served.Store("web.lab.test:"+port, "not-the-token")
	if _, err := svc.Verify(ctx, id, p); err == nil {
		t.Fatal("a wrong token verified the resource")
	}
	served.Store("web.lab.test:"+port, c.Token)
	if r, err := svc.Verify(ctx, id, p); err != nil || r.Scope != inventory.ScopeVerified || !strings.HasPrefix(r.ScopeReason, "http http://web.lab.test:") {
		t.Fatalf("Verify by HTTP = %+v, %v", r, err)
	}

	// No challenge issued: a clear error.
	if _, err := svc.Verify(ctx, "dns:nobody.lab.test", p); err == nil || !strings.Contains(err.Error(), "no challenge was issued") {
		t.Errorf("Verify without challenge = %v", err)
	}
}

func TestBudgetLimitsConcurrencyAndRate(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	b := NewBudget(2, 10)
	b.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	a := netip.MustParseAddr("127.0.0.1")
	ctx := t.Context()

	// The first token is there; the second needs 1/10 s.
	rel1, err := b.acquire(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	h := b.host(a)
	if w := b.take(h); w != 100*time.Millisecond {
		t.Errorf("wait for next token = %v, want 100ms", w)
	}
	mu.Lock()
	clock = clock.Add(100 * time.Millisecond)
	mu.Unlock()
	rel2, err := b.acquire(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	// Both slots are taken: a third acquire waits until the context ends.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(short, a); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("third concurrent acquire = %v, want to wait for a slot", err)
	}
	rel1()
	rel1() // releasing twice gives back one slot only
	rel2()
	if n := len(h.slots); n != 0 {
		t.Errorf("slots in use after release = %d, want 0", n)
	}
	// A reset halves the rate; a second of quiet brings it back.
	b.penalize(a)
	if h.penalty != 0.5 {
		t.Errorf("penalty = %v, want 0.5", h.penalty)
	}
	mu.Lock()
	clock = clock.Add(time.Second)
	mu.Unlock()
	b.take(h)
	if h.penalty != 1 {
		t.Errorf("penalty after a quiet second = %v, want 1", h.penalty)
	}
}
