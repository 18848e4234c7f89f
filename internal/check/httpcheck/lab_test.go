package httpcheck

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/khien-vn/khien/internal/check"
	"github.com/khien-vn/khien/internal/inventory"
	"github.com/khien-vn/khien/internal/lab/weblab"
	"github.com/khien-vn/khien/internal/scope"
)

// startDNS serves A and AAAA records for the names in zone on 127.0.0.1 and returns its
// address. Names not in zone are NXDOMAIN, so nothing ever resolves to the Internet.
func startDNS(t testing.TB, zone map[string][]string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		ips, ok := zone[strings.TrimSuffix(strings.ToLower(q.Name), ".")]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, s := range ips {
			ip := net.ParseIP(s)
			hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: 60}
			switch {
			case q.Qtype == dns.TypeA && ip.To4() != nil:
				hdr.Rrtype = dns.TypeA
				m.Answer = append(m.Answer, &dns.A{Hdr: hdr, A: ip.To4()})
			case q.Qtype == dns.TypeAAAA && ip.To4() == nil:
				hdr.Rrtype = dns.TypeAAAA
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: hdr, AAAA: ip})
			}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

// envFor returns the scope-guarded environment a real scan would give the family for id,
// fenced to loopback and resolving through dnsAddr.
func envFor(t testing.TB, id, dnsAddr string, ca *weblab.CA) (inventory.Resource, check.Env) {
	t.Helper()
	nid, err := inventory.Normalize(id)
	if err != nil {
		t.Fatal(err)
	}
	r := inventory.Resource{ID: nid, System: "lab", Scope: inventory.ScopeAssigned, ScopeReason: "test"}
	g := scope.New(scope.LoopbackFence(), dnsAddr, 5*time.Second)
	base := check.Env{UserAgent: "Khien-test (+https://khien.example/lien-he)", Timeout: 5 * time.Second}
	if ca != nil {
		base.Roots = ca.Pool()
	}
	env, err := g.Env(r, scope.Passive, base)
	if err != nil {
		t.Fatal(err)
	}
	return r, env
}

// newTestCA makes the one CA the tests' hosts share.
var newTestCA = sync.OnceValues(func() (*weblab.CA, error) { return weblab.NewCA("Khiên test CA") })

func labCA(t testing.TB) *weblab.CA {
	t.Helper()
	ca, err := newTestCA()
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// startHost starts cfg on a free loopback port and returns it with the url: resource of its
// HTTPS side (or HTTP side when it has no HTTPS), the options that map the other scheme's port,
// and the environment to scan it with.
func startHost(t testing.TB, cfg weblab.Config) (*weblab.Host, inventory.Resource, check.Env, Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if cfg.CA == nil {
		cfg.CA = labCA(t)
	}
	h, err := weblab.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	dnsAddr := startDNS(t, map[string][]string{cfg.Name: {h.Config.IP}})
	opts := Options{HTTPPort: h.Config.HTTPPort, HTTPSPort: h.Config.HTTPSPort}
	id := "url:" + h.HTTPSURL()
	if cfg.NoHTTPS {
		id = "url:" + h.HTTPURL()
		opts.HTTPSPort = closedPort(t)
	}
	if cfg.NoHTTP {
		opts.HTTPPort = closedPort(t)
	}
	r, env := envFor(t, id, dnsAddr, cfg.CA)
	return h, r, env, opts
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return p
}

func resultFor(t testing.TB, results []check.Result, id string) check.Result {
	t.Helper()
	for _, r := range results {
		if r.Check == id {
			return r
		}
	}
	t.Fatalf("no result for %s", id)
	return check.Result{}
}
